#!/usr/bin/env node
// Summarises a V8 .cpuprofile (e.g. from HOTPATHS_CPU_PROFILE_DIR): shares of the busy (non-idle) samples, by package,
// by function (self) and by function (inclusive, each function once per stack), within a window that starts at the first
// sample under MARK (default processGraphQLRequest: the first GraphQL request, so start-up is left out) and lasts WINDOW
// seconds (default 20: the hot-path case's warm-up and measured run).
//   node bench/cpuprofile.mjs FILE [TOP=30] [FILTER]
//   CALLERS=fn1,fn2 [DEPTH=6]  the chains of callers of those functions
//   CHILDREN=fn                the inclusive share of each direct callee of fn
//   ENTRIES=1                  each sample to the outermost frame that is not Node's own (the callback that ran)
import { readFileSync } from 'node:fs';
const [file, topArg = '30', filter] = process.argv.slice(2);
const top = Number(topArg);
const p = JSON.parse(readFileSync(file, 'utf8'));
const nodes = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
// self samples per node
// Only the load window: from the first sample under MARK (a function seen only while serving) for WINDOW seconds.
const MARK = process.env.MARK ?? 'processGraphQLRequest';
const WINDOW = Number(process.env.WINDOW ?? 20) * 1e6;
const stackHas = (id, name) => { for (let c = id; c !== undefined; c = parent.get(c)) if (nodes.get(c).callFrame.functionName === name) return true; return false; };
const times = []; let t = p.startTime; for (const d of p.timeDeltas) { t += d; times.push(t); }
const startIdx = p.samples.findIndex((id) => stackHas(id, MARK));
const t0 = times[startIdx];
const selfCount = new Map();
let windowSamples = 0;
p.samples.forEach((s, i) => { if (times[i] < t0 || times[i] > t0 + WINDOW) return; windowSamples++; selfCount.set(s, (selfCount.get(s) ?? 0) + 1); });
const total = windowSamples;
const idle = [...selfCount].filter(([id]) => nodes.get(id).callFrame.functionName === '(idle)').reduce((a, [, c]) => a + c, 0);
const busy = total - idle;
const short = (u) => u.replace(/^file:\/\//, '').replace(/.*node_modules\//, 'nm/').replace(/.*\/api\/dist\//, 'api/');
const key = (cf) => `${cf.functionName || '(anon)'} ${short(cf.url)}:${cf.lineNumber + 1}`;
const pkg = (cf) => {
  const u = cf.url;
  if (!u) return cf.functionName.startsWith('(') ? cf.functionName : '(native)';
  const m = u.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (m) return m[1];
  if (u.includes('/api/dist/')) return 'api/' + u.split('/api/dist/')[1].split('/').slice(0, -1).join('/');
  if (u.startsWith('node:')) return 'node:' + u.slice(5).split('/')[0];
  return u;
};
const selfBy = new Map(), inclBy = new Map(), pkgSelf = new Map();
for (const [id, c] of selfCount) {
  const n = nodes.get(id);
  if (n.callFrame.functionName === '(idle)') continue;
  const k = key(n.callFrame);
  selfBy.set(k, (selfBy.get(k) ?? 0) + c);
  const pk = pkg(n.callFrame);
  pkgSelf.set(pk, (pkgSelf.get(pk) ?? 0) + c);
  // inclusive: each distinct key on the stack once
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const kk = key(nodes.get(cur).callFrame);
    if (seen.has(kk)) continue;
    seen.add(kk);
    inclBy.set(kk, (inclBy.get(kk) ?? 0) + c);
  }
}
const pct = (c) => ((100 * c) / busy).toFixed(1).padStart(5) + '%';
const show = (title, m) => {
  console.log(`\n${title}`);
  [...m].filter(([k]) => !filter || k.includes(filter)).sort((a, b) => b[1] - a[1]).slice(0, top).forEach(([k, c]) => console.log(`${pct(c)}  ${k}`));
};
console.log(`window ${(WINDOW/1e6)} s from first ${MARK}; samples ${total}, idle ${(100 * idle / total).toFixed(1)}% ; shares below are of non-idle samples (${busy})`);
show('SELF by package/dir', pkgSelf);
show('SELF by function', selfBy);
show('INCLUSIVE by function', inclBy);
// CALLERS=name1,name2: for samples whose stack holds the name, the chain of callers (nearest first, 6 deep), summed.
for (const name of (process.env.CALLERS ?? '').split(',').filter(Boolean)) {
  const paths = new Map();
  for (const [id, c] of selfCount) {
    let cur = id;
    while (cur !== undefined && nodes.get(cur).callFrame.functionName !== name) cur = parent.get(cur);
    if (cur === undefined) continue;
    const chain = [];
    for (let a = parent.get(cur); a !== undefined && chain.length < Number(process.env.DEPTH ?? 6); a = parent.get(a)) {
      const cf = nodes.get(a).callFrame;
      chain.push(`${cf.functionName || '(anon)'}@${short(cf.url).split('/').pop()}:${cf.lineNumber + 1}`);
    }
    const k = chain.join(' < ');
    paths.set(k, (paths.get(k) ?? 0) + c);
  }
  show(`CALLERS of ${name}`, paths);
}
// CHILDREN=name: inclusive time of each direct callee of the named function.
for (const name of (process.env.CHILDREN ?? '').split(',').filter(Boolean)) {
  const kids = new Map();
  for (const [id, c] of selfCount) {
    let cur = id, child;
    while (cur !== undefined && nodes.get(cur).callFrame.functionName !== name) { child = cur; cur = parent.get(cur); }
    if (cur === undefined) continue;
    const k = child === undefined ? '(self)' : key(nodes.get(child).callFrame);
    kids.set(k, (kids.get(k) ?? 0) + c);
  }
  show(`CHILDREN of ${name}`, kids);
}
// ENTRIES=1: each sample to the outermost frame that is not Node's own (the callback or continuation that ran).
if (process.env.ENTRIES) {
  const entries = new Map();
  for (const [id, c] of selfCount) {
    const chain = [];
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) chain.push(nodes.get(cur).callFrame);
    chain.reverse();
    const cf = chain.find((f) => f.url && !f.url.startsWith('node:')) ?? chain[Math.min(2, chain.length - 1)];
    const k = cf.url ? `${pkg(cf)} ${cf.functionName || '(anon)'}:${cf.lineNumber + 1}` : key(cf) + ' [' + chain.slice(1, 4).map((f) => f.functionName).join('>') + ']';
    entries.set(k, (entries.get(k) ?? 0) + c);
  }
  show('ENTRIES (outermost non-node frame)', entries);
}

// Cuts the demo's slice of the UCI Online Retail file (data/demo/README.md): every row of one customer in
// CUSTOMER_EVERY (by CustomerID) and of one guest invoice in GUEST_EVERY (by invoice number), over the whole file,
// copied unchanged and in the file's order. Deterministic: the same source gives the same rows (and, with Node 20's
// zlib, the same bytes).
//
//   node scripts/cut-demo-slice.mjs <online_retail.csv.gz> [data/demo/online-retail-slice.csv.gz]
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

/** The source this slice was cut from: online_retail.csv.gz as described in docs/eval/data.md. */
const SOURCE_SHA256 = '0f155087d3a0455021f1629f3b995bc05f7dd8a260a7383af1840ef2a38c7bb7';
/** What this script writes from that source (data/demo/README.md); a change of the rules below changes it too. */
const SLICE_SHA256 = 'c273e7d1a6c2781f46f95d418b22f13b3383246607784fddc8e27a484b220079';
const CUSTOMER_EVERY = 2;
const GUEST_EVERY = 20;

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HEADER = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country';

/** RFC 4180 fields of one line (the file has no line breaks inside fields). */
function fields(line) {
  const out = [];
  let field = '';
  let isQuoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (isQuoted) {
      if (c === '"' && line[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') isQuoted = false;
      else field += c;
    } else if (c === '"') isQuoted = true;
    else if (c === ',') out.push(field), (field = '');
    else field += c;
  }
  out.push(field);
  return out;
}

/** Chosen by id alone, so a customer's whole history (orders and returns) is in or out together. */
function isKept(line) {
  const [invoiceNo, , , , , , customerId] = fields(line);
  const customer = customerId.trim();
  if (customer) return Number(customer) % CUSTOMER_EVERY === 0;
  return Number(invoiceNo.replace(/\D/g, '')) % GUEST_EVERY === 0;
}

async function* sliceLines(source, stats) {
  const lines = readline.createInterface({ input: fs.createReadStream(source).pipe(zlib.createGunzip()), crlfDelay: Infinity });
  let isHeader = true;
  for await (const line of lines) {
    if (isHeader) {
      if (line !== HEADER) throw new Error(`${source}: unexpected header ${line}`);
      isHeader = false;
      yield `${line}\n`;
      continue;
    }
    stats.read++;
    if (!isKept(line)) continue;
    stats.kept++;
    yield `${line}\n`;
  }
}

async function sha256(file) {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk);
  return hash.digest('hex');
}

async function main() {
  const [source, out = path.join(repoRoot, 'data', 'demo', 'online-retail-slice.csv.gz')] = process.argv.slice(2);
  if (!source) {
    console.error('usage: node scripts/cut-demo-slice.mjs <online_retail.csv.gz> [out.csv.gz]');
    process.exit(2);
  }
  const sourceHash = await sha256(source);
  if (sourceHash !== SOURCE_SHA256) {
    console.error(`${source}: sha256 ${sourceHash}, expected ${SOURCE_SHA256} (the file docs/eval/data.md describes)`);
    process.exit(1);
  }
  const stats = { read: 0, kept: 0 };
  // Level 9 and Node's fixed gzip header (no name, no time): the same bytes on every run.
  await pipeline(Readable.from(sliceLines(source, stats)), zlib.createGzip({ level: 9 }), fs.createWriteStream(out));
  const sliceHash = await sha256(out);
  console.log(JSON.stringify({ out: path.relative(repoRoot, out), rowsRead: stats.read, rowsKept: stats.kept, bytes: fs.statSync(out).size, sha256: sliceHash }));
  if (sliceHash !== SLICE_SHA256) {
    console.error(`the slice's sha256 is not the documented ${SLICE_SHA256}: update data/demo/README.md and SLICE_SHA256 if the rules changed`);
    process.exit(1);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err?.stack ?? String(err));
    process.exit(1);
  });
}

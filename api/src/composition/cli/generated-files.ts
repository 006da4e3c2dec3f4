import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Writes the committed files a command generates, or with `check` only reports the ones that differ and returns how
 * many (a missing file differs). `command` is what to run to bring them up to date.
 */
export function writeGeneratedFiles(files: Record<string, string>, { check, command }: { check: boolean; command: string }): number {
  let drift = 0;
  for (const [file, content] of Object.entries(files)) {
    let current = '';
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      // missing counts as drift
    }
    if (current === content) continue;
    if (check) {
      drift++;
      console.error(`${path.relative(process.cwd(), file)} is out of date: run ${command} and commit it`);
    } else {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, content);
      console.log(`wrote ${path.relative(process.cwd(), file)}`);
    }
  }
  return drift;
}

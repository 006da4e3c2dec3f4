import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OrderedFileWriter } from '../../api/src/modules/import/import-jobs';

// An import's progress timer can fire while its final status is being written: both used to write one temporary
// file, and the second rename failed with ENOENT (a CI run saw it in test/api/import-uploads.test.ts).
describe('OrderedFileWriter', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ordered-writer-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs overlapping writes of one file in order: none fails, the last asked is left, no temporary file remains', async () => {
    const writer = new OrderedFileWriter();
    const target = path.join(dir, 'status.json');
    const writes = Array.from({ length: 50 }, (_, i) => writer.write(target, JSON.stringify({ step: i })));
    await expect(Promise.all(writes)).resolves.toHaveLength(50);
    expect(JSON.parse(await readFile(target, 'utf8'))).toEqual({ step: 49 });
    expect(await readdir(dir)).toEqual(['status.json']);
  });

  it('goes on after a failed write, and keeps files apart', async () => {
    const writer = new OrderedFileWriter();
    const missing = path.join(dir, 'no-such-folder', 'status.json');
    const a = path.join(dir, 'a.json');
    const failed = writer.write(missing, '{}');
    const [, , ok] = await Promise.allSettled([failed, writer.write(a, '"a"'), writer.write(missing, '{}')]);
    await expect(failed).rejects.toThrow(/ENOENT/);
    expect(ok.status).toBe('rejected');
    expect(await readFile(a, 'utf8')).toBe('"a"');
    await writer.write(a, '"b"');
    expect(await readFile(a, 'utf8')).toBe('"b"');
  });
});

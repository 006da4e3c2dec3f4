import { SerialWrites } from '../../api/src/modules/import/import-jobs';

// An import's progress timer can fire while its final status is being written; were the two writes to overlap, the
// progress could land last and a finished import read as running.
describe('SerialWrites', () => {
  it('runs overlapping writes of one key one after another, in the order asked, so the last asked is left', async () => {
    const writes = new SerialWrites();
    let stored = -1;
    let inFlight = 0;
    let overlapped = false;
    const write = (step: number) => async () => {
      inFlight++;
      overlapped ||= inFlight > 1;
      // later writes finish faster: without the queue they would land first
      await new Promise((r) => setTimeout(r, 50 - step));
      stored = step;
      inFlight--;
      return step;
    };
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => writes.run('job', write(i))));
    expect(results).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(stored).toBe(49);
    expect(overlapped).toBe(false);
  });

  it('goes on after a failed write, and keeps keys apart', async () => {
    const writes = new SerialWrites();
    const order: string[] = [];
    const failed = writes.run('a', async () => {
      await new Promise((r) => setTimeout(r, 30));
      throw new Error('disk full');
    });
    const other = writes.run('b', async () => void order.push('b'));
    const next = writes.run('a', async () => void order.push('a after the failure'));
    await expect(failed).rejects.toThrow('disk full');
    await Promise.all([other, next]);
    // b did not wait for a's slow failure
    expect(order).toEqual(['b', 'a after the failure']);
  });
});

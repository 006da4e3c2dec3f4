import { runPeriodically } from '../../api/src/base/periodic';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('runPeriodically', () => {
  it('runs at once when asked, skips ticks while a run is going, goes on after it, and close waits for the run in flight', async () => {
    const finishers: (() => void)[] = [];
    const runner = runPeriodically(10, () => new Promise<void>((resolve) => finishers.push(resolve)), { immediately: true });
    expect(finishers).toHaveLength(1);
    // Many periods pass while the first run is held: none starts a second run, none is queued.
    await sleep(100);
    expect(finishers).toHaveLength(1);
    finishers[0]();
    for (let i = 0; i < 500 && finishers.length < 2; i++) await sleep(10);
    expect(finishers).toHaveLength(2);
    let closed = false;
    const closing = runner.close().then(() => (closed = true));
    await sleep(50);
    expect(closed).toBe(false);
    finishers[1]();
    await closing;
    await sleep(50);
    expect(finishers).toHaveLength(2);
  });

  it('waits a period before the first run unless asked to run at once', async () => {
    let started = 0;
    const runner = runPeriodically(50, async () => void started++);
    expect(started).toBe(0);
    for (let i = 0; i < 500 && started === 0; i++) await sleep(10);
    await runner.close();
    expect(started).toBeGreaterThanOrEqual(1);
  });
});

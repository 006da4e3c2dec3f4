import pino from 'pino';
import { startImportPickup } from '../../api/src/modules/import/import-pickup';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the import pick-up loop', () => {
  it('logs an outage once however many ticks fail, then its end once, and goes on picking up', async () => {
    const lines: { level: number; msg: string }[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    // Five ticks fail (PostgreSQL away), then every tick works.
    let ticks = 0;
    const loop = startImportPickup(async () => {
      if (++ticks <= 5) throw new Error('connect ECONNREFUSED');
      return null;
    }, log, 5);
    for (let i = 0; i < 400 && ticks < 9; i++) await sleep(5);
    await loop.close();
    expect(ticks).toBeGreaterThanOrEqual(9);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [40, 'import.pick_up_failed'],
      [30, 'import.pick_up_recovered'],
    ]);
  });
});

import { useHarness } from '../support/harness';
import { parseExposition, samples } from '../support/prometheus';

const TOKEN = 'a-scrape-token-of-some-length';
const h = useHarness({ METRICS_TOKEN: TOKEN });

describe('GET /metrics with METRICS_TOKEN', () => {
  it('answers only the bearer of the token', async () => {
    const none = await h.http().get('/metrics');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="metrics"');
    expect(none.text).not.toContain('loyalty_');
    for (const authorization of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, TOKEN, `Basic ${TOKEN}`]) {
      expect((await h.http().get('/metrics').set('authorization', authorization)).status).toBe(401);
    }

    const res = await h.http().get('/metrics').set('authorization', `Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    expect(samples(parseExposition(res.text), 'loyalty_metrics_probe_success').length).toBeGreaterThan(0);
  });
});

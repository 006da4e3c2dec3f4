import { loadConfig, ConfigError, redactedConfig } from '../../api/src/shared/config';

describe('loadConfig', () => {
  it('applies defaults that work on a laptop', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ PORT: 4000, REDIS_URL: 'redis://127.0.0.1:6379', hasExplicitDatabaseUrl: false, isProduction: false });
    expect(c.GRAPHQL_INTROSPECTION).toBe(true);
  });

  it('names each bad variable in one readable message', () => {
    expect(() => loadConfig({ PORT: 'eighty', DATABASE_URL: 'not a url', LOG_LEVEL: 'loud' })).toThrow(ConfigError);
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'not a url', LOG_LEVEL: 'loud' });
    } catch (err) {
      const msg = (err as Error).message;
      expect(msg).toMatch(/^Invalid configuration:/);
      for (const name of ['PORT', 'DATABASE_URL', 'LOG_LEVEL']) expect(msg).toContain(`  ${name}:`);
    }
  });

  it('requires a strong JWT_SECRET in production and turns introspection off there', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET: is required when NODE_ENV=production/);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'short' })).toThrow(/JWT_SECRET: must be at least 32 characters/);
    const c = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), DATABASE_URL: 'postgres://u:p@db:5432/l' });
    expect(c.GRAPHQL_INTROSPECTION).toBe(false);
    expect(c.hasExplicitDatabaseUrl).toBe(true);
  });

  it('redacts secrets for logging', () => {
    const c = loadConfig({ JWT_SECRET: 'y'.repeat(40), DATABASE_URL: 'postgres://u:secretpw@db:5432/l' });
    const shown = JSON.stringify(redactedConfig(c));
    expect(shown).not.toContain('secretpw');
    expect(shown).not.toContain('y'.repeat(40));
  });
});

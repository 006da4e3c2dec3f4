import { z } from 'zod';

/** Every environment variable the worker reads, with its default. `sensitive` ones are redacted in logs. */
const schema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  /** Unused until the model issue: training reads orders and members from here. */
  DATABASE_URL: z.string().url().optional(),
});

export type Config = z.infer<typeof schema> & { isProduction: boolean };

export const sensitiveKeys = ['REDIS_URL', 'DATABASE_URL'] as const;

export class ConfigError extends Error {}

/** Parses the environment once; throws ConfigError naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  // An empty variable means "use the default", as in the API's config.
  const input = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return Object.freeze({ ...parsed.data, isProduction: parsed.data.NODE_ENV === 'production' });
}

/** Config safe to log: secrets replaced. */
export function redactedConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config };
  for (const key of sensitiveKeys) if (out[key] !== undefined) out[key] = '[redacted]';
  return out;
}

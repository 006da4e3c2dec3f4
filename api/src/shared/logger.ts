import pino, { type Logger } from 'pino';

export type { Logger };

/** Paths never written to logs: credentials and personal data. */
const redact = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  '*.email',
  '*.phone',
  '*.password',
  '*.token',
  'email',
  'phone',
  'password',
  'token',
];

export function createLogger(level: string, name = 'api'): Logger {
  return pino({ name, level, redact: { paths: redact, censor: '[redacted]' } });
}

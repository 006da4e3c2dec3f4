import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Personal data and credentials, at the top level of a log line or one or two objects down. */
const sensitiveFields = [
  'email',
  'phone',
  'firstName',
  'lastName',
  'displayName',
  'birthday',
  'password',
  'currentPassword',
  'newPassword',
  'passwordHash',
  'token',
  'key',
  'secret',
  'secretHash',
  'apiKey',
  'authorization',
  'variables',
];

/** Paths never written to logs. pino's redaction has no recursive wildcard, so each depth is listed. */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  // Driver errors can quote the values of the failing row.
  'err.detail',
  'err.parameters',
  'err.params',
  ...sensitiveFields.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]),
];

export function createLogger(level: string, name = 'api', destination?: DestinationStream): Logger {
  const options = { name, level, redact: { paths: redactPaths, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}

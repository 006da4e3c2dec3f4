'use strict';
const { readFileSync } = require('node:fs');

/** GraphQL Code Generator plugin: the API's documented error codes (schema/error-codes.json) as a type and a table. */
module.exports = {
  plugin(_schema, _documents, config) {
    const codes = JSON.parse(readFileSync(config.errorCodesFile, 'utf8'));
    const entries = Object.entries(codes).map(([code, meaning]) => `  ${code}: ${JSON.stringify(meaning)},`);
    return [
      '/** Every `extensions.code` the API documents, with its meaning (from schema/error-codes.json). */',
      'export const errorCodes = {',
      ...entries,
      '} as const;',
      '',
      'export type ErrorCode = keyof typeof errorCodes;',
      '',
    ].join('\n');
  },
};

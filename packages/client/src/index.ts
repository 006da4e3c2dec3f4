export { createLoyaltyClient, type LoyaltyClient, type LoyaltyClientOptions, type LoyaltyDocument, type StorefrontMethods } from './client';
export { LoyaltyApiError, type ClientErrorCode, type GraphqlError } from './errors';
export { errorCodes, type ErrorCode } from './generated/error-codes';
// The storefront operations' documents and their input, enum and result types.
export * from './generated/operations';

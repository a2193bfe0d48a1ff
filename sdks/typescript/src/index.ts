export { Tenx, unwrap, retryAfterMs, type TenxOptions, type RetryOptions, type RecordConversion } from './client.js';
export { TenxError, TenxVersionError, WebhookVerificationError } from './errors.js';
export { verifyWebhook, type VerifyOptions, type WebhookHeaders } from './webhooks.js';
export { API_VERSION, LIBRARY_VERSION, majorOf, checkApiVersion } from './version.js';
/** Every generated function (one per route of the library), for `tenx.call(sdk.fn, options)`. */
export * as sdk from './generated/sdk.gen.js';
export type * from './generated/types.gen.js';

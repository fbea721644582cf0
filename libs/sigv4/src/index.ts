export type { IncomingRequestHead, OutgoingRequest, ParsedAuthorization } from './types.js';
export { parseAuthorization } from './parse-authorization.js';
export { parseRawQuery } from './parse-raw-query.js';
export { verifySignature } from './verify.js';
export { resign } from './resign.js';

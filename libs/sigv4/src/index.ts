export type { IncomingRequestHead, OutgoingRequest, ParsedAuthorization } from './types.js';
export { parseAuthorization } from './parse-authorization.js';
export { parseRawQuery } from './parse-raw-query.js';
export { verifySignature } from './verify.js';
export { isClientAuthQueryParameter, resign, type ResignedRequest } from './resign.js';
export { deriveSigningKey, scopeString, type CredentialScope } from './signature.js';
export {
  STREAMING_SIGNED_PAYLOAD,
  STREAMING_SIGNED_PAYLOAD_TRAILER,
  chunkSignature,
  chunkSigningContext,
  createChunkSigner,
  createChunkVerifier,
  reframeSignedChunks,
  trailerSignature,
  type ChunkSigner,
  type ChunkSigningContext,
  type ChunkVerifier,
  type ReframeOptions,
} from './chunked.js';

// The masking engine: pure functions over bytes, usable without gRPC.
export { replacementFor, type Detector } from './detector.js';
export { defaultDetectors } from './detectors.js';
export { createStreamMasker, type StreamMasker } from './stream-masker.js';
export { maskBuffer } from './mask-buffer.js';

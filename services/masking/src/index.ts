export { createMaskingService, type MaskingServiceOptions } from './service.js';
export { defaultProfile } from './profiles.js';
export { createStreamMasker, defaultDetectors, maskBuffer, replacementFor, type Detector, type StreamMasker } from './engine/index.js';

export { createMaskingService, type MaskingServiceOptions } from './service.js';
export { defaultProfile, profileFor } from './profiles.js';
export {
  createAnswerMasker,
  createStreamMasker,
  credentialDetectors,
  defaultDetectors,
  maskBuffer,
  personalDetectors,
  replacementFor,
  type Detector,
  type MaskingProfile,
  type StreamMasker,
} from './engine/index.js';

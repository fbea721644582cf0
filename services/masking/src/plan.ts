import type { PlanRequest, PlanResponse } from '@airlock/contracts';
import { rangeMargin } from './engine/byte-range.js';
import { isPassThrough, profileFor } from './profiles.js';

/**
 * Whether an answer needs the masking stream. API answers and text do; binary bodies (S3 objects, images, archives)
 * do not. An answer without a content type is an API answer for every service except S3, where it is an object body.
 * With it comes how much the edge must widen a ranged read for this profile (byte-range.ts), whatever the content type.
 */
export function plan(request: PlanRequest): PlanResponse {
  const profile = profileFor(request.profile);
  if (isPassThrough(profile)) return { transform: false, profile: profile.name, rangeMargin: 0 };
  return { transform: isText(request.contentType, request.service), profile: profile.name, rangeMargin: rangeMargin(profile.detectors) };
}

function isText(contentType: string, service: string): boolean {
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  if (type === '') return service.toLowerCase() !== 's3';
  return type.includes('xml') || type.includes('json') || type.startsWith('text/');
}

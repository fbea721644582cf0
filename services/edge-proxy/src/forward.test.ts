import { describe, expect, it } from 'vitest';
import { withoutClientAuth } from './forward.js';

describe('the forwarded query', () => {
  it('drops the parameters of query-string authentication and keeps every other pair exactly as sent', () => {
    const presigned =
      'response-content-type=text%2Fplain&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20260301%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260301T100000Z'
      + '&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Security-Token=a%2Bb%3D&x-amz-content-sha256=UNSIGNED-PAYLOAD&X-Amz-Signature=abc&x-id=GetObject&flag';
    expect(withoutClientAuth(presigned)).toBe('response-content-type=text%2Fplain&x-id=GetObject&flag');
    expect(withoutClientAuth('')).toBe('');
    expect(withoutClientAuth('list-type=2&prefix=a%20b')).toBe('list-type=2&prefix=a%20b');
    expect(withoutClientAuth('X%2DAmz%2DSignature=abc&bad=%E0%A4%A')).toBe('bad=%E0%A4%A');
  });
});

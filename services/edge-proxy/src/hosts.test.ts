import { describe, expect, it } from 'vitest';
import { createHostCheck, isVirtualHostBucket } from './hosts.js';

describe('the host check', () => {
  const defaults = createHostCheck([], '127.0.0.1', 4566);
  const configured = createHostCheck(['airlock.example.com', 'gw.internal:8443'], '0.0.0.0', 4566);

  it('accepts the edge itself, with or without its port', () => {
    expect(defaults('localhost:4566')).toEqual({});
    expect(defaults('LOCALHOST')).toEqual({});
    expect(defaults('127.0.0.1:4566')).toEqual({});
    expect(configured('airlock.example.com')).toEqual({});
    expect(configured('gw.internal:8443')).toEqual({});
  });

  it('reads S3 virtual-hosted style: a valid bucket name, a dot and a name of the edge', () => {
    expect(defaults('my-bucket.localhost:4566')).toEqual({ prefix: 'my-bucket' });
    expect(defaults('My.Dotted.Bucket.localhost')).toEqual({ prefix: 'my.dotted.bucket' });
    expect(configured('logs-2026.airlock.example.com')).toEqual({ prefix: 'logs-2026' });
    expect(configured('logs.gw.internal:8443')).toEqual({ prefix: 'logs' });
    // S3 Control puts the account id there.
    expect(defaults('123456789012.localhost:4566')).toEqual({ prefix: '123456789012' });
  });

  it('refuses everything else', () => {
    for (const host of [undefined, '', 's3.amazonaws.com', 'localhost:1', 'bucket.127.0.0.1:4566', 'ab.localhost', '-bucket.localhost', 'a..b.localhost', 'bucket.localhost.evil.com',
      'evil.com/x.localhost', '192.168.1.1.localhost', 'bucket.gw.internal', 'bucket_x.localhost', `${'a'.repeat(64)}.localhost`, 'xn--bucket.localhost', 'b-s3alias.localhost']) {
      expect(() => defaults(host), String(host)).toThrow(expect.objectContaining({ code: 'EndpointNotAllowed' }) as Error);
      expect(() => configured(host), String(host)).toThrow(expect.objectContaining({ code: 'EndpointNotAllowed' }) as Error);
    }
  });

  it('knows the S3 bucket naming rules', () => {
    expect(['abc', 'a.b-c', '123', 'x'.repeat(63)].every(isVirtualHostBucket)).toBe(true);
    expect(['ab', 'x'.repeat(64), 'Abc', 'a_b', 'a..b', 'a.', '-a', '10.0.0.1', 'sthree-x', 'amzn-s3-demo-x', 'x--x-s3', 'x.mrap'].some(isVirtualHostBucket)).toBe(false);
  });
});

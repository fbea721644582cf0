import { describe, expect, it } from 'vitest';
import { AirlockError } from '@airlock/errors';
import { resolveUpstream } from './endpoints.js';
import { serviceInfo } from './services.js';

const policy = { partition: 'aws' as const, allowedRegions: [] };

describe('resolveUpstream', () => {
  it('derives regional and global endpoints from service and region', () => {
    expect(resolveUpstream(serviceInfo('s3')!, 'eu-west-1', policy).url.href).toBe('https://s3.eu-west-1.amazonaws.com/');
    expect(resolveUpstream(serviceInfo('iam')!, 'eu-west-1', policy)).toMatchObject({ signingRegion: 'us-east-1' });
    expect(resolveUpstream(serviceInfo('iam')!, 'eu-west-1', policy).url.host).toBe('iam.amazonaws.com');
    expect(resolveUpstream(serviceInfo('sts')!, 'cn-north-1', { ...policy, partition: 'aws-cn' }).url.host).toBe('sts.cn-north-1.amazonaws.com.cn');
  });

  it.each(['evil.example.com', 'us-east-1.evil.com', 'us-east-1/../x', '', 'cn-north-1'])('refuses region %j', (region) => {
    expect(() => resolveUpstream(serviceInfo('s3')!, region, policy)).toThrow(AirlockError);
  });

  it('keeps to the configured region allowlist', () => {
    expect(() => resolveUpstream(serviceInfo('s3')!, 'eu-west-1', { ...policy, allowedRegions: ['us-east-1'] })).toThrow(/not allowed/);
  });

  it('sends everything to the configured upstream, still signed for the derived region', () => {
    const target = resolveUpstream(serviceInfo('iam')!, 'eu-west-1', { ...policy, upstreamEndpoint: 'http://127.0.0.1:5000' });
    expect(target.url.href).toBe('http://127.0.0.1:5000/');
    expect(target.signingRegion).toBe('us-east-1');
  });
});

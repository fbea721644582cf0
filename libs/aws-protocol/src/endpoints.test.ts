import { describe, expect, it } from 'vitest';
import { AirlockError } from '@airlock/errors';
import { resolveUpstream } from './endpoints.js';
import { serviceById, serviceInfo } from './services.js';

const policy = { partition: 'aws' as const, allowedRegions: [] };
const host = (id: string, region: string, extra: Partial<Parameters<typeof resolveUpstream>[2]> = {}, hostPrefix?: string) =>
  resolveUpstream(serviceById(id)!, region, { ...policy, ...extra }, { hostPrefix }).url.host;

describe('resolveUpstream', () => {
  it('derives regional and global endpoints from service and region', () => {
    expect(resolveUpstream(serviceInfo('s3')!, 'eu-west-1', policy).url.href).toBe('https://s3.eu-west-1.amazonaws.com/');
    expect(resolveUpstream(serviceInfo('iam')!, 'eu-west-1', policy)).toMatchObject({ signingRegion: 'us-east-1' });
    expect(resolveUpstream(serviceInfo('iam')!, 'eu-west-1', policy).url.host).toBe('iam.amazonaws.com');
    expect(resolveUpstream(serviceInfo('sts')!, 'cn-north-1', { ...policy, partition: 'aws-cn' }).url.host).toBe('sts.cn-north-1.amazonaws.com.cn');
  });

  it('learns global services from the catalogue, per partition', () => {
    expect(host('route53', 'us-east-1')).toBe('route53.amazonaws.com');
    expect(host('cloudfront', 'eu-west-1')).toBe('cloudfront.amazonaws.com');
    expect(host('organizations', 'eu-west-1')).toBe('organizations.us-east-1.amazonaws.com');
    expect(host('iam', 'us-gov-west-1', { partition: 'aws-us-gov' })).toBe('iam.us-gov.amazonaws.com');
    expect(resolveUpstream(serviceById('route53')!, 'cn-north-1', { ...policy, partition: 'aws-cn' }).signingRegion).toBe('cn-northwest-1');
    // STS stays regional: every region answers it, signed for that region.
    expect(resolveUpstream(serviceInfo('sts')!, 'us-east-1', policy)).toMatchObject({ signingRegion: 'us-east-1' });
    expect(host('sts', 'us-east-1')).toBe('sts.us-east-1.amazonaws.com');
  });

  it.each(['evil.example.com', 'us-east-1.evil.com', 'us-east-1/../x', '', 'cn-north-1'])('refuses region %j', (region) => {
    expect(() => resolveUpstream(serviceInfo('s3')!, region, policy)).toThrow(AirlockError);
    expect(() => resolveUpstream(serviceInfo('iam')!, region, policy)).toThrow(AirlockError);
  });

  it('keeps regional calls to the configured region allowlist; global services are not regional', () => {
    expect(() => resolveUpstream(serviceInfo('s3')!, 'eu-west-1', { ...policy, allowedRegions: ['us-east-1'] })).toThrow(/not allowed/);
    expect(host('iam', 'us-east-1', { allowedRegions: ['eu-west-1'] })).toBe('iam.amazonaws.com');
  });

  it('puts a checked host prefix in front (S3 Control account, "data-" prefixes) and nothing else', () => {
    expect(host('s3control', 'eu-west-1', {}, '111122223333.')).toBe('111122223333.s3-control.eu-west-1.amazonaws.com');
    expect(host('servicediscovery', 'eu-west-1', {}, 'data-')).toBe('data-servicediscovery.eu-west-1.amazonaws.com');
    for (const bad of ['evil.com/', 'a@b.', '..', 'x.evil.com:443/', '-x.', 'A B.']) expect(host('s3control', 'eu-west-1', {}, bad)).toBe('s3-control.eu-west-1.amazonaws.com');
  });

  it('uses FIPS and dual-stack endpoints only when the deployment asks', () => {
    expect(host('kms', 'us-east-1', { fips: true })).toBe('kms-fips.us-east-1.amazonaws.com');
    expect(host('ecr', 'us-east-1', { fips: true })).toBe('ecr-fips.us-east-1.amazonaws.com');
    expect(host('iam', 'us-east-1', { fips: true })).toBe('iam-fips.amazonaws.com');
    expect(host('s3', 'eu-west-1', { dualStack: true })).toBe('s3.dualstack.eu-west-1.amazonaws.com');
    expect(host('ec2', 'eu-west-1', { dualStack: true })).toBe('ec2.eu-west-1.api.aws');
    expect(host('kms', 'us-east-1', { fips: true, dualStack: true })).toBe('kms-fips.us-east-1.api.aws');
  });

  it('sends everything to the configured upstream, still signed for the derived region', () => {
    const target = resolveUpstream(serviceInfo('iam')!, 'eu-west-1', { ...policy, upstreamEndpoint: 'http://127.0.0.1:5000' }, { hostPrefix: '111122223333.' });
    expect(target.url.href).toBe('http://127.0.0.1:5000/');
    expect(target.signingRegion).toBe('us-east-1');
  });
});

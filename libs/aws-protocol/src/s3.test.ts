import { describe, expect, it } from 'vitest';
import { pathStyle, splitVirtualHost } from './s3.js';

const edges = ['localhost', 'localhost:4566', 'airlock.example.com', '127.0.0.1:4566', '[::1]:4566'];

describe('splitVirtualHost', () => {
  it.each([
    ['localhost:4566', { edgeHost: 'localhost:4566' }],
    ['Airlock.Example.com', { edgeHost: 'airlock.example.com' }],
    ['logs.localhost:4566', { edgeHost: 'localhost:4566', prefix: 'logs' }],
    ['my.dotted.bucket.airlock.example.com', { edgeHost: 'airlock.example.com', prefix: 'my.dotted.bucket' }],
    ['111122223333.localhost', { edgeHost: 'localhost', prefix: '111122223333' }],
  ])('%s', (host, expected) => {
    expect(splitVirtualHost(host, edges)).toEqual(expected);
  });

  it.each(['evil.com', 'localhost.evil.com', 'bucket.127.0.0.1:4566', 'a_b.localhost', '.localhost', 'x..y.localhost', 'bucket.localhost:9999', '', undefined])('refuses %j', (host) => {
    expect(splitVirtualHost(host, edges)).toBeUndefined();
  });

  it('prefers the longest edge host', () => {
    expect(splitVirtualHost('b.s3.airlock.example.com', ['airlock.example.com', 's3.airlock.example.com'])).toEqual({ edgeHost: 's3.airlock.example.com', prefix: 'b' });
  });
});

describe('pathStyle', () => {
  it('puts the bucket in front of the path', () => {
    expect(pathStyle('b', '/')).toBe('/b');
    expect(pathStyle('b', '/k/x')).toBe('/b/k/x');
  });
});

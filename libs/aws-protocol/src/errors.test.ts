import { describe, expect, it } from 'vitest';
import { AirlockError } from '@airlock/errors';
import { renderError } from './errors.js';

const denied = new AirlockError('AccessDenied', 'No policy permits s3:DeleteBucket <x>', { cause: new Error('secret detail') });

describe('renderError', () => {
  it('speaks the query protocol with an escaped message and never the cause', () => {
    const rendered = renderError(denied, 'query', 'req-1', { xmlNamespace: 'https://sts.amazonaws.com/doc/2011-06-15/' });
    expect(rendered.status).toBe(403);
    expect(rendered.body).toContain('<Code>AccessDenied</Code>');
    expect(rendered.body).toContain('s3:DeleteBucket &lt;x&gt;');
    expect(rendered.body).toContain('<Type>Sender</Type>');
    expect(rendered.body).not.toContain('secret detail');
  });

  it('speaks JSON with the JSON spelling of the code', () => {
    const rendered = renderError(denied, 'json', 'req-2');
    expect(JSON.parse(rendered.body)).toMatchObject({ __type: 'AccessDeniedException' });
    expect(rendered.headers['x-amzn-errortype']).toBe('AccessDeniedException');
  });

  it('answers HEAD in rest-xml with a status and no body', () => {
    expect(renderError(denied, 'rest-xml', 'r', { method: 'HEAD' }).body).toBe('');
    expect(renderError(denied, 'rest-xml', 'r').body).toContain('<Error><Code>AccessDenied</Code>');
  });

  it('marks retryable server-side failures as Receiver errors', () => {
    const rendered = renderError(new AirlockError('DependencyUnavailable', 'policy down'), 'query', 'r');
    expect(rendered.status).toBe(503);
    expect(rendered.body).toContain('<Type>Receiver</Type>');
  });
});

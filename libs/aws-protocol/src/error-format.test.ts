import { describe, expect, it } from 'vitest';
import { errorFormatFor } from './error-format.js';

const form = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };

describe('errorFormatFor (requests that name no service)', () => {
  it('answers an X-Amz-Target request in the JSON protocol, whatever else it carries', () => {
    expect(errorFormatFor({ 'x-amz-target': 'DynamoDB_20120810.ListTables', 'content-type': 'application/x-amz-json-1.0' }, {})).toEqual({ protocol: 'json' });
    expect(errorFormatFor({ 'x-amz-target': 'AmazonSQS.ListQueues' }, { Action: 'ListQueues' })).toEqual({ protocol: 'json' });
  });

  it('answers Action requests in the query protocol of the service whose API version they name', () => {
    expect(errorFormatFor({}, { Action: 'GetCallerIdentity', Version: '2011-06-15' })).toEqual({ protocol: 'query', xmlNamespace: 'https://sts.amazonaws.com/doc/2011-06-15/' });
    expect(errorFormatFor(form, { Action: 'ListTopics', Version: '2010-03-31' })).toEqual({ protocol: 'query', xmlNamespace: 'http://sns.amazonaws.com/doc/2010-03-31/' });
    expect(errorFormatFor(form, { Action: 'DescribeInstances', Version: '2016-11-15' })).toMatchObject({ protocol: 'ec2' });
    // SQS's query mode, though its model is JSON now.
    expect(errorFormatFor(form, { Action: 'ListQueues', Version: '2012-11-05' })).toMatchObject({ protocol: 'query' });
  });

  it('answers a form or Action request of an unknown version in the query protocol, without a namespace', () => {
    expect(errorFormatFor({}, { Action: 'Anything', Version: '1999-01-01' })).toEqual({ protocol: 'query' });
    expect(errorFormatFor(form, {})).toEqual({ protocol: 'query' });
    expect(errorFormatFor({}, { Action: 'Anything', Version: 'constructor' })).toEqual({ protocol: 'query' });
  });

  it('answers anything else in S3 REST-XML', () => {
    expect(errorFormatFor({}, { 'list-type': '2', prefix: 'reports/' })).toEqual({ protocol: 'rest-xml' });
    expect(errorFormatFor({ 'content-type': 'application/json' }, {})).toEqual({ protocol: 'rest-xml' });
  });
});

import type { AirlockError } from '@airlock/errors';
import type { Protocol } from './services.js';
import { escapeXml } from './xml.js';

export interface RenderedError {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Renders an error the way the service's own protocol does, so the client's SDK parses code and message and
 * decides on retries by itself. Only the error's client-safe message is used; `cause` never leaves the process.
 */
export function renderError(error: AirlockError, protocol: Protocol, requestId: string, options: { method?: string; xmlNamespace?: string } = {}): RenderedError {
  const { status, awsCode, retryable } = error.spec;
  const jsonCode = error.spec.jsonCode ?? awsCode;
  const common = { 'x-amzn-requestid': requestId, 'x-amz-request-id': requestId };
  const message = error.message;
  switch (protocol) {
    case 'json':
    case 'rest-json':
      return {
        status,
        headers: { ...common, 'content-type': protocol === 'json' ? 'application/x-amz-json-1.1' : 'application/json', 'x-amzn-errortype': jsonCode },
        body: JSON.stringify({ __type: jsonCode, message, Message: message }),
      };
    case 'ec2':
      return {
        status,
        headers: { ...common, 'content-type': 'text/xml' },
        body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(awsCode)}</Code><Message>${escapeXml(message)}</Message></Error></Errors><RequestID>${escapeXml(requestId)}</RequestID></Response>`,
      };
    case 'rest-xml':
      return {
        status,
        headers: { ...common, 'content-type': 'application/xml' },
        // HEAD answers carry no body; S3 clients read the status code alone.
        body:
          options.method === 'HEAD'
            ? ''
            : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${escapeXml(awsCode)}</Code><Message>${escapeXml(message)}</Message><RequestId>${escapeXml(requestId)}</RequestId></Error>`,
      };
    case 'query': {
      const namespace = options.xmlNamespace ? ` xmlns="${escapeXml(options.xmlNamespace)}"` : '';
      const type = status >= 500 || retryable ? 'Receiver' : 'Sender';
      return {
        status,
        headers: { ...common, 'content-type': 'text/xml' },
        body: `<ErrorResponse${namespace}>\n  <Error>\n    <Type>${type}</Type>\n    <Code>${escapeXml(awsCode)}</Code>\n    <Message>${escapeXml(message)}</Message>\n  </Error>\n  <RequestId>${escapeXml(requestId)}</RequestId>\n</ErrorResponse>\n`,
      };
    }
  }
}

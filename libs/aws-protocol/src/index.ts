export type { CallDescription } from './call.js';
export { classify, formBodyParameters, headerValue, jsonBodyParameters, type RequestFacts } from './classify.js';
export { errorFormatFor, type ErrorFormat } from './error-format.js';
export { resolveUpstream, type EndpointPolicy, type Partition, type UpstreamTarget } from './endpoints.js';
export { renderError, type RenderedError } from './errors.js';
export { mintsCredentials } from './minting.js';
export { pathStyle, splitVirtualHost, type VirtualHost } from './s3.js';
export { serviceById, serviceFor, serviceInfo, type Protocol, type ServiceInfo, type ServiceRequest } from './services.js';
export { escapeXml } from './xml.js';

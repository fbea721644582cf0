export type { CallDescription } from './call.js';
export { classify, formBodyParameters, headerValue, jsonBodyParameters, type RequestFacts } from './classify.js';
export { resolveUpstream, type EndpointPolicy, type Partition, type UpstreamTarget } from './endpoints.js';
export { renderError, type RenderedError } from './errors.js';
export { mintsCredentials } from './minting.js';
export { serviceInfo, type Protocol, type ServiceInfo } from './services.js';
export { escapeXml } from './xml.js';

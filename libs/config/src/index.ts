export { loadConfig, parseConfig } from './load.js';
export { configSchema, type AirlockConfig } from './schema.js';
export { serviceNamesInOrder, type ServiceName } from './service-names.js';

export { loadConfig, parseConfig } from './load.js';
export { configSchema, serviceNamesInOrder, type AirlockConfig, type ServiceName } from './schema.js';

export { startConsole, type ConsoleOptions, type RunningConsole } from './console.js';
export type { RecorderQueries } from './api-routes.js';
export type { PolicyResponse } from './views.js';

export { startSlackBot, type SlackBot, type SlackBotOptions } from './bot.js';
export type { MappedIdentity } from './identity.js';
export { interactionsPath } from './interactions.js';
export { slackSignature, verifySlackRequest } from './signature.js';
export { createWebApi, type SlackApi } from './slack-api.js';

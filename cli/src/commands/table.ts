import { approvals } from './approvals.js';
import { audit } from './audit.js';
import type { Command } from './command.js';
import { credentials } from './credentials.js';
import { dev, probe, serve } from './daemon.js';
import { env } from './env.js';
import { exec } from './exec.js';
import { login, logout } from './login.js';
import { policy } from './policy.js';
import { recordings } from './recordings.js';
import { sessions } from './sessions.js';
import { whoami } from './whoami.js';

/** Every `airlock` command, in the order `airlock --help` lists them. */
export const commands: readonly Command[] = [dev, serve, probe, login, logout, whoami, credentials, env, exec, sessions, recordings, audit, approvals, policy];


import { join } from 'node:path';

/**
 * The environment of an agent process (AWS CLI, boto3): Airlock's endpoint, a web identity token file and a role, and
 * nothing else. HOME is a scratch folder without ~/.aws; `configFile` is an AWS config file of the test's own, if any.
 */
export function agentEnvironment(options: { endpoint: string; tokenFile: string; roleArn: string; sessionName: string; home: string; configFile?: string }): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: options.home,
    AWS_ENDPOINT_URL: options.endpoint,
    AWS_WEB_IDENTITY_TOKEN_FILE: options.tokenFile,
    AWS_ROLE_ARN: options.roleArn,
    AWS_ROLE_SESSION_NAME: options.sessionName,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: options.configFile ?? join(options.home, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(options.home, 'no-credentials'),
  };
}

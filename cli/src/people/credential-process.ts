import type { SessionCredentials } from './sts.js';

/** The JSON the AWS CLI and SDKs read from a `credential_process` (version 1). */
export interface CredentialProcessOutput {
  Version: 1;
  AccessKeyId: string;
  SecretAccessKey: string;
  SessionToken: string;
  Expiration: string;
}

export function toCredentialProcess(credentials: SessionCredentials): CredentialProcessOutput {
  return {
    Version: 1,
    AccessKeyId: credentials.accessKeyId,
    SecretAccessKey: credentials.secretAccessKey,
    SessionToken: credentials.sessionToken,
    Expiration: credentials.expiration.toISOString(),
  };
}

export function fromCredentialProcess(output: CredentialProcessOutput): SessionCredentials {
  return {
    accessKeyId: output.AccessKeyId,
    secretAccessKey: output.SecretAccessKey,
    sessionToken: output.SessionToken,
    expiration: new Date(output.Expiration),
  };
}

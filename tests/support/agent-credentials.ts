import { S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';

/** Airlock session credentials, as an agent's SDK holds them after AssumeRoleWithWebIdentity at the edge. */
export interface SessionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

/** Exchanges an agent's OIDC token for Airlock session credentials at the edge's STS facade, in one attempt. */
export async function assumeThroughAirlock(edgeUrl: string, roleArn: string, webIdentityToken: string, sessionName: string): Promise<SessionCredentials> {
  const sts = new STSClient({ region: 'us-east-1', endpoint: edgeUrl, maxAttempts: 1 });
  try {
    const { Credentials: issued } = await sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: roleArn, RoleSessionName: sessionName, WebIdentityToken: webIdentityToken }));
    return { accessKeyId: issued!.AccessKeyId!, secretAccessKey: issued!.SecretAccessKey!, sessionToken: issued!.SessionToken! };
  } finally {
    sts.destroy();
  }
}

/** A stock S3 client pointed at the edge (path-style, us-east-1), one attempt per call so that refusals show as they are. */
export function s3ThroughAirlock(edgeUrl: string, credentials: SessionCredentials): S3Client {
  return new S3Client({ region: 'us-east-1', endpoint: edgeUrl, forcePathStyle: true, credentials, maxAttempts: 1 });
}

import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';

/** What credential vending asks of STS: exactly one AssumeRole, already named and scoped. */
export interface AssumeRoleInput {
  roleArn: string;
  roleSessionName: string;
  sourceIdentity: string;
  durationSeconds: number;
  /** IAM session policy (JSON); absent for none. */
  policy?: string;
  tags: ReadonlyArray<{ key: string; value: string }>;
}

export interface AssumedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expirationMs: number;
}

/**
 * The narrow view of STS this service depends on, so tests and the embedded mode can count, wrap or replace it.
 * Implementations throw the AWS SDK's errors unchanged; `toVendingError` turns them into Airlock errors.
 */
export interface Sts {
  assumeRole(input: AssumeRoleInput, options?: { signal?: AbortSignal }): Promise<AssumedCredentials>;
  close?(): void;
}

export interface AwsStsOptions {
  region: string;
  /** Upstream STS endpoint (emulators, tests); the SDK's regional endpoint when absent. */
  endpoint?: string;
  /** How long to wait for a TCP connection to STS. @default 3000 */
  connectionTimeoutMs?: number;
  /** How long to wait for STS to answer once connected. @default 10000 */
  requestTimeoutMs?: number;
}

/**
 * STS through the AWS SDK. The client deliberately gets no `credentials` option: Airlock's own identity comes only
 * from the SDK's default chain (workload identity, instance profile, environment), never from configuration.
 */
export function createAwsSts(options: AwsStsOptions): Sts {
  const client = new STSClient({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    // Credential vending retries transient failures itself, with backoff and a bound (retry.ts): no retries stacked here.
    maxAttempts: 1,
    requestHandler: {
      connectionTimeout: options.connectionTimeoutMs ?? 3_000,
      requestTimeout: options.requestTimeoutMs ?? 10_000,
    },
  });
  return {
    async assumeRole(input, { signal } = {}) {
      const output = await client.send(
        new AssumeRoleCommand({
          RoleArn: input.roleArn,
          RoleSessionName: input.roleSessionName,
          SourceIdentity: input.sourceIdentity,
          DurationSeconds: input.durationSeconds,
          ...(input.policy ? { Policy: input.policy } : {}),
          ...(input.tags.length > 0 ? { Tags: input.tags.map(({ key, value }) => ({ Key: key, Value: value })) } : {}),
        }),
        signal ? { abortSignal: signal } : {},
      );
      const credentials = output.Credentials;
      if (!credentials?.AccessKeyId || !credentials.SecretAccessKey || !credentials.SessionToken || !credentials.Expiration) {
        // Never include the (partial) credentials in the error: it is logged.
        throw new IncompleteStsAnswer('STS answered AssumeRole without complete credentials');
      }
      return {
        accessKeyId: credentials.AccessKeyId,
        secretAccessKey: credentials.SecretAccessKey,
        sessionToken: credentials.SessionToken,
        expirationMs: credentials.Expiration.getTime(),
      };
    },
    close: () => client.destroy(),
  };
}

export class IncompleteStsAnswer extends Error {
  override readonly name = 'IncompleteStsAnswer';
}

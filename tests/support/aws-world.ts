import { CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, IAMClient, PutRolePolicyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { startMoto, type Peer } from './peers.js';

/** IAM calls `createAwsWorld` makes before moto starts checking signatures. */
const setupCalls = 5;

export interface AwsWorld {
  moto: Peer;
  /** The only AWS identity in the test: what credential-vending finds in its default credential chain. */
  vendingIdentity: { accessKeyId: string; secretAccessKey: string };
  roleArn: string;
  /** Environment for an Airlock process whose default credential chain is the vending identity. */
  vendingEnv: Record<string, string>;
  /**
   * Credentials of the agent role straight from moto (sts:AssumeRole as the vending identity), bypassing Airlock:
   * how a test sets things up at moto and sees what really happened there.
   */
  roleCredentialsAtMoto(sessionName: string): Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken: string }>;
  stop(): Promise<void>;
}

/**
 * moto as AWS with signature and IAM checks on: the first `setupCalls` requests create an IAM user (the vending
 * identity, allowed to assume one role and to write recordings) and the role agents act as; every later request
 * must be signed by a key moto knows.
 */
export async function createAwsWorld(options: { roleName?: string; rolePolicy?: object } = {}): Promise<AwsWorld> {
  const moto = await startMoto({ initialNoAuthActionCount: setupCalls });
  const iam = new IAMClient({ endpoint: moto.url, region: 'us-east-1', credentials: { accessKeyId: 'setup', secretAccessKey: 'setup' } });
  try {
    await iam.send(new CreateUserCommand({ UserName: 'airlock-vending' }));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 'airlock-vending',
        PolicyName: 'vend-and-record',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' },
            { Effect: 'Allow', Action: 's3:*', Resource: ['arn:aws:s3:::airlock-recordings', 'arn:aws:s3:::airlock-recordings/*'] },
            // Lets tests look at moto's buckets directly, to prove that refused calls created nothing.
            { Effect: 'Allow', Action: 's3:ListAllMyBuckets', Resource: '*' },
          ],
        }),
      }),
    );
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'airlock-vending' }));
    const roleName = options.roleName ?? 'agent';
    const { Role } = await iam.send(
      new CreateRoleCommand({
        RoleName: roleName,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:user/airlock-vending' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: roleName,
        PolicyName: 'agent-permissions',
        PolicyDocument: JSON.stringify(
          options.rolePolicy ?? {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: ['s3:*', 'sts:GetCallerIdentity'], Resource: '*' }],
          },
        ),
      }),
    );
    if (!AccessKey?.AccessKeyId || !AccessKey.SecretAccessKey || !Role?.Arn) throw new Error('moto did not return the IAM setup');
    const vendingIdentity = { accessKeyId: AccessKey.AccessKeyId, secretAccessKey: AccessKey.SecretAccessKey };
    const roleArn = Role.Arn;
    return {
      moto,
      vendingIdentity,
      roleArn,
      vendingEnv: {
        AWS_ACCESS_KEY_ID: vendingIdentity.accessKeyId,
        AWS_SECRET_ACCESS_KEY: vendingIdentity.secretAccessKey,
        AWS_REGION: 'us-east-1',
      },
      async roleCredentialsAtMoto(sessionName) {
        const sts = new STSClient({ region: 'us-east-1', endpoint: moto.url, credentials: vendingIdentity });
        try {
          const { Credentials: role } = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName }));
          if (!role?.AccessKeyId || !role.SecretAccessKey || !role.SessionToken) throw new Error('moto returned no role credentials');
          return { accessKeyId: role.AccessKeyId, secretAccessKey: role.SecretAccessKey, sessionToken: role.SessionToken };
        } finally {
          sts.destroy();
        }
      },
      stop: () => moto.stop(),
    };
  } catch (error) {
    await moto.stop();
    throw error;
  } finally {
    iam.destroy();
  }
}

/**
 * Calls whose answer would be AWS credentials. Airlock never forwards them: a client must not leave with a key that
 * works without Airlock in the path.
 */
const credentialMinting = new Set([
  'sts:AssumeRole',
  'sts:AssumeRoleWithSAML',
  'sts:AssumeRoleWithWebIdentity',
  'sts:AssumeRoot',
  'sts:GetSessionToken',
  'sts:GetFederationToken',
  'sso:GetRoleCredentials',
  'iam:CreateAccessKey',
  'iam:CreateServiceSpecificCredential',
  'cognito-identity:GetCredentialsForIdentity',
  'ecr:GetAuthorizationToken',
  'codeartifact:GetAuthorizationToken',
]);

export function mintsCredentials(action: string): boolean {
  return credentialMinting.has(action);
}

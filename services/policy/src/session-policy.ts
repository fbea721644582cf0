import type { CredentialScope } from './annotations.js';

/** @default "service" — the scope of an allowed call whose deciding permits name none (see README "Policy"). */
export const defaultCredentialScope: CredentialScope = 'service';

/** STS refuses session policies longer than this (IAM and STS quotas: "Session policy … 2,048 characters"). */
export const sessionPolicyLimit = 2048;

/**
 * The IAM session policy that scopes a call's vended credentials, as compact JSON with its keys in a fixed order:
 * `{"Version":"2012-10-17","Statement":[{"Sid":"Airlock","Effect":"Allow","Action":[...],"Resource":[...]}]}`.
 * Empty for `role` scope (the role's own permissions bound the call).
 *
 * `action` scope names the call's action on its resources ("*" when it names none); `service` scope allows the
 * call's whole IAM service on any resource. IAM reads `*` and `?` in a Resource as wildcards, so an ARN that holds
 * them (an S3 key may) is written with IAM's literal forms `${*}`, `${?}` and `${$}`. A call with so many resources
 * that the policy would pass STS's limit is scoped to its action on any resource: still exactly that action.
 */
export function sessionPolicyFor(scope: CredentialScope, action: string, resources: readonly string[]): string {
  if (scope === 'role') return '';
  const service = action.slice(0, action.indexOf(':'));
  if (scope === 'service') return render([`${service}:*`], ['*']);
  const named = [...new Set(resources)].map(literalArn);
  const exact = render([action], named.length > 0 ? named : ['*']);
  return exact.length <= sessionPolicyLimit ? exact : render([action], ['*']);
}

function render(actions: readonly string[], resources: readonly string[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Airlock', Effect: 'Allow', Action: actions, Resource: resources }] });
}

function literalArn(arn: string): string {
  return arn.replace(/[*?$]/g, (character) => `\${${character}}`);
}

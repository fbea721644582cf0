import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Lets every verified token holder sign in (sts:AssumeRoleWithWebIdentity) with any role. Tests that bring their own
 * policy files start from this, so what they prove never depends on the default pack, which changes as it is tuned.
 */
export const signInPolicy = `@id("test-sign-in-with-any-role")
permit (principal, action == Airlock::Action::"sts:AssumeRoleWithWebIdentity", resource is Airlock::Role);
`;

/** A permit without conditions for each action, e.g. the setup calls a test makes through Airlock. */
export function allowPolicy(id: string, actions: string[]): string {
  return `@id("${id}")
permit (principal, action in [${actions.map((action) => `Airlock::Action::"${action}"`).join(', ')}], resource);
`;
}

/** Writes the policies as one .cedar file in `dir` and returns its path. */
export async function writePolicyFile(dir: string, name: string, policies: string[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, policies.join('\n'));
  return path;
}

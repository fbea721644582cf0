#!/usr/bin/env node
// Regenerates libs/contracts/src/generated from proto/ with buf + ts-proto.
// With --check, fails when the committed code differs from what the protos generate (CI runs this).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const target = join(root, 'libs/contracts/src/generated');
const check = process.argv.includes('--check');
const buf = join(root, 'node_modules/.bin/buf');

execFileSync(buf, ['lint'], { cwd: join(root, 'proto'), stdio: 'inherit' });

if (!check) {
  execFileSync(buf, ['generate'], { cwd: join(root, 'proto'), stdio: 'inherit' });
  process.exit(0);
}

const scratch = mkdtempSync(join(tmpdir(), 'airlock-contracts-'));
try {
  // buf resolves the plugin's `out` (../libs/...) relative to --output, so the output sits one level down.
  execFileSync(buf, ['generate', '--output', join(scratch, 'proto')], { cwd: join(root, 'proto'), stdio: 'inherit' });
  const generated = join(scratch, 'libs/contracts/src/generated');
  const stale = diffTrees(generated, target);
  if (stale.length > 0) {
    console.error(`Generated contracts are stale; run \`npm run generate\` and commit:\n  ${stale.join('\n  ')}`);
    process.exit(1);
  }
  console.log('Generated contracts are up to date.');
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

function listFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

function diffTrees(a, b) {
  const fa = listFiles(a);
  const fb = listFiles(b);
  const names = new Set([...fa, ...fb]);
  return [...names].filter((n) => !fa.includes(n) || !fb.includes(n) || !readFileSync(join(a, n)).equals(readFileSync(join(b, n))));
}

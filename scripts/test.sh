#!/usr/bin/env bash
# The whole test suite, from a fresh checkout: installs what the tests need, checks, builds, tests.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== %s\n' "$*"; }

say "system peers (nats-server, redis-server, haproxy, docker-compose, openssl, chromium, moto, AWS CLI)"
missing_debs=()
command -v nats-server >/dev/null || missing_debs+=(nats-server)
command -v redis-server >/dev/null || missing_debs+=(redis-server)
# The load-balanced test puts haproxy in front of three edges; the deploy/ check validates the Compose file.
command -v haproxy >/dev/null || missing_debs+=(haproxy)
command -v docker-compose >/dev/null || missing_debs+=(docker-compose)
# The mTLS tests make their certificates at test time with the openssl CLI.
command -v openssl >/dev/null || missing_debs+=(openssl)
if [ ${#missing_debs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing_debs[@]}" >/dev/null
  else
    echo "missing: ${missing_debs[*]} (install them with apt-get as root)" >&2
    exit 1
  fi
fi
# Debian's chromium drives the console's browser tests (tests/e2e/console.test.ts); without it they are skipped, saying so.
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } ||
    echo "chromium could not be installed: the console browser tests will be skipped" >&2
fi
if ! python3 -c 'import moto, flask, werkzeug' 2>/dev/null; then
  echo "missing: moto[server] for python3 (pip install 'moto[server]'); it stands in for AWS in the integration tests" >&2
  exit 1
fi
if ! command -v aws >/dev/null; then
  echo "missing: the AWS CLI (pip install awscli); the spine tests drive it" >&2
  exit 1
fi

say "npm dependencies"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

say "helm, for the chart check (scripts/fetch-helm.sh)"
bash scripts/fetch-helm.sh >/dev/null

say "generated contracts are current"
npm run --silent check:generated

say "build and type-check"
npm run --silent typecheck
npm run --silent --workspace examples/mcp-aws typecheck

say "lint"
npm run --silent lint

say "tests"
mkdir -p test-artifacts
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=test-artifacts/vitest.json || status=$?
node -e '
  const r = require("./test-artifacts/vitest.json");
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' || true
exit $status

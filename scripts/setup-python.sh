#!/usr/bin/env bash
# Installs pinned Python tools into ./.venv:
#   bash scripts/setup-python.sh        the test tools (moto server, cfn-lint, checkov, parliament): npm test
#   bash scripts/setup-python.sh demo   only the moto server: npm run demo
# Idempotent: re-running with the same requirements does nothing. The test tools include the demo's.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-dev}" in
  dev) req=scripts/requirements-dev.txt; files=(scripts/requirements-dev.txt scripts/requirements-demo.txt) ;;
  demo) req=scripts/requirements-demo.txt; files=(scripts/requirements-demo.txt) ;;
  *) echo "setup-python.sh: unknown set '$1' (use: dev, demo)" >&2; exit 2 ;;
esac
stamp=".venv/.requirements-${1:-dev}.sha256"
want=$(cat "${files[@]}" | sha256sum | cut -d' ' -f1)
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  echo "setup-python.sh: needs python3 with the venv module (Debian/Ubuntu: apt install python3-venv)." >&2
  exit 1
fi
python3 -m venv .venv
# uv resolves and installs the pinned tools in about a minute where pip's resolver took many (checkov's tree);
# the pins are the same either way (https://docs.astral.sh/uv/pip/compatibility/).
.venv/bin/pip install --quiet --disable-pip-version-check "uv==0.13.9"
.venv/bin/uv pip install --python .venv/bin/python --quiet -r "$req"
echo "$want" > "$stamp"

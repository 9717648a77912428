#!/usr/bin/env bash
# Installs the pinned Python tools the tests use (moto server, cfn-lint, checkov) into ./.venv.
# Idempotent: re-running with the same requirements file does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
req=scripts/requirements-dev.txt
stamp=.venv/.requirements.sha256
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r "$req"
echo "$want" > "$stamp"

#!/usr/bin/env bash
# Lints the GitHub Actions workflows (.github/workflows/*.yml) with actionlint, built from the version and
# module hashes pinned in tools/actionlint/go.mod and go.sum (the Go module proxy serves the sources; go.sum
# verifies them). `go tool` caches the build, so only the first run on a machine compiles it (about a minute).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
if ! command -v go >/dev/null 2>&1; then
  echo "lint:workflows: actionlint is built with Go 1.25 or later, and \`go\` is not on PATH." >&2
  echo "Install Go (https://go.dev/doc/install, or your package manager), then run \`npm run lint:workflows\` again." >&2
  exit 1
fi
shopt -s nullglob
workflows=("$root"/.github/workflows/*.yml "$root"/.github/workflows/*.yaml)
if [ ${#workflows[@]} -eq 0 ]; then
  echo "lint:workflows: no workflow in .github/workflows" >&2
  exit 1
fi
cd tools/actionlint
# GOTOOLCHAIN=local: use the installed Go, never download another one; -mod=readonly: go.sum must already
# hold every hash.
GOTOOLCHAIN=local GOFLAGS="${GOFLAGS:-} -mod=readonly" go tool actionlint -no-color "${workflows[@]}"
echo "lint:workflows: ${#workflows[@]} workflow(s) pass actionlint."

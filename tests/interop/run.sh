#!/usr/bin/env bash
# CTest driver for the SD-JWT interoperability test (tests/interop/tests.cmake).
# Usage: run.sh <path to the interop_sdjwt executable>
# Installs @sd-jwt/core into a temporary folder with `npm ci` (from the
# registry: the lock file pins the versions), then: C++ writes a credential
# and a presentation, @sd-jwt/core verifies them and writes its own, and C++
# verifies that. Exits 77 (CTest SKIP_RETURN_CODE) only if node or npm is absent.
set -euo pipefail
gen="$1"
here="$(cd "$(dirname "$0")" && pwd)"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "interop: SKIPPED: node and npm are needed for the @sd-jwt/core interoperability test"
  exit 77
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$here/package.json" "$here/package-lock.json" "$here/interop.mjs" "$work/"
(cd "$work" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
"$gen" write "$work"
node "$work/interop.mjs" "$work"
"$gen" check "$work"

#!/usr/bin/env bash
# Starts a local IMI chain answering on localhost: installs the Debian packages
# (scripts/setup.sh), builds imid and imi in Release into build-release/, then
# runs a single-validator development chain (`imid dev`) in the foreground and
# prints its API URL. Ctrl-C stops it cleanly (the block in progress finishes,
# LevelDB is closed); run the script again to continue the same chain.
#
#   scripts/localnet.sh [--reset]
#     --reset   delete the chain's data first and start from a new genesis
# Environment:
#   IMI_LOCALNET_HOME  node home (default: ~/.imi/localnet)
#   IMI_LOCALNET_API   API address (default: 127.0.0.1:8080)
# (A later issue makes this four validators.)
set -euo pipefail
cd "$(dirname "$0")/.."

home="${IMI_LOCALNET_HOME:-${HOME:-.}/.imi/localnet}"
api="${IMI_LOCALNET_API:-127.0.0.1:8080}"

if [ "${1:-}" = "--reset" ]; then
  echo "localnet: deleting $home"
  rm -rf "$home"
elif [ -n "${1:-}" ]; then
  echo "usage: scripts/localnet.sh [--reset]" >&2
  exit 2
fi

scripts/setup.sh
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release --target imid imi -j "$(nproc 2>/dev/null || echo 2)"

echo "localnet: home $home"
echo "localnet: CLI at $(pwd)/build-release/node/imi (IMI_NODE=http://$api)"
echo "localnet: Ctrl-C stops the chain"
# exec: Ctrl-C (SIGINT) reaches imid itself, which shuts down cleanly.
exec build-release/node/imid dev --home "$home" --api "$api"

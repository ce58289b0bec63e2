#!/usr/bin/env bash
# Starts a local 4-validator IMI chain on 127.0.0.1: installs the Debian
# packages (scripts/setup.sh), builds imid and imi in Release into
# build-release/, creates the network with `imi testnet --validators 4` (once;
# later runs continue the same chain), starts the four `imid start` processes
# in the background with their logs in files, waits until each answers
# /readyz and prints their API URLs. Ctrl-C stops all four cleanly (SIGTERM:
# each finishes the block in progress and closes LevelDB); run the script
# again to continue the same chain. Stopping or killing one node leaves a
# quorum (3 of 4) committing; the script reports it and keeps the others up.
#
#   scripts/localnet.sh [--reset]
#     --reset   delete the chain's data first and start from a new genesis
# Environment:
#   IMI_LOCALNET_HOME      state directory (default: ~/.imi/localnet), holding
#                          node0..node3 (node homes) and testnet.json
#   IMI_LOCALNET_API_PORT  API port of node0; node i uses port + i (default 8080)
#   IMI_LOCALNET_P2P_PORT  P2P port of node0; node i uses port + i (default 26656)
set -euo pipefail
cd "$(dirname "$0")/.."

home="${IMI_LOCALNET_HOME:-${HOME:-.}/.imi/localnet}"
api_port="${IMI_LOCALNET_API_PORT:-8080}"
p2p_port="${IMI_LOCALNET_P2P_PORT:-26656}"
validators=4

if [ "${1:-}" = "--reset" ]; then
  echo "localnet: deleting $home"
  rm -rf "$home"
elif [ -n "${1:-}" ]; then
  echo "usage: scripts/localnet.sh [--reset]" >&2
  exit 2
fi

if [ -e "$home/imid.conf" ]; then
  # The single-validator dev chain of earlier versions lived in $home itself.
  echo "localnet: $home holds a single-validator chain from an earlier version;" >&2
  echo "localnet: run scripts/localnet.sh --reset to replace it with a 4-validator network" >&2
  exit 1
fi

scripts/setup.sh
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release --target imid imi -j "$(nproc 2>/dev/null || echo 2)"
imid="$(pwd)/build-release/node/imid"
imi="$(pwd)/build-release/node/imi"

if [ ! -e "$home/node0/imid.conf" ]; then
  summary="$("$imi" testnet --validators "$validators" --out "$home" --chain imi-localnet \
    --api-base-port "$api_port" --p2p-base-port "$p2p_port" 2>&1)" || {
    echo "$summary" >&2
    exit 1
  }
  echo "$summary" >"$home/testnet.txt"
  echo "localnet: created a $validators-validator network in $home (summary: $home/testnet.txt)"
else
  echo "localnet: continuing the chain in $home"
fi

# The API port of each node, from its config ([api] listen = 127.0.0.1:PORT).
node_api_port() {
  sed -n '/^\[api\]/,/^\[/s/^listen = .*:\([0-9]*\)$/\1/p' "$home/node$1/imid.conf"
}

# True when the node's /readyz answers 200 (bash's /dev/tcp: no curl needed).
is_ready() {
  local port="$1" line=""
  { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
  printf 'GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
  IFS= read -r -t 2 line <&3 || true
  exec 3<&-
  [[ "$line" == *" 200 "* ]]
}

pids=()
stopping=0
declare -A reported=()  # nodes already seen exiting (and reaped)
stop_all() {  # stop_all EXIT_CODE
  stopping=1
  trap '' INT TERM
  echo
  echo "localnet: stopping ${#pids[@]} node(s)"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for i in "${!pids[@]}"; do
    [ -z "${reported[$i]:-}" ] || continue
    local code=0
    wait "${pids[$i]}" || code=$?
    if [ "$code" -eq 0 ]; then
      echo "localnet: node$i stopped"
    else
      echo "localnet: node$i exited with code $code (log: $home/node$i/imid.log)"
    fi
  done
  exit "$1"
}
trap 'stop_all 0' INT TERM

for ((i = 0; i < validators; i++)); do
  # Something already answering there (another localnet?) would pass for our node.
  if (exec 3<>"/dev/tcp/127.0.0.1/$(node_api_port "$i")") 2>/dev/null; then
    echo "localnet: port $(node_api_port "$i") of node$i is in use (another localnet running?);" >&2
    echo "localnet: stop that process or set IMI_LOCALNET_API_PORT" >&2
    exit 1
  fi
done
for ((i = 0; i < validators; i++)); do
  log="$home/node$i/imid.log"
  echo "=== $(date -u '+%Y-%m-%dT%H:%M:%SZ') imid start" >>"$log"
  "$imid" start --home "$home/node$i" >>"$log" 2>&1 &
  pids+=($!)
done

echo "localnet: waiting for the nodes to answer /readyz"
deadline=$((SECONDS + 60))
for ((i = 0; i < validators; i++)); do
  port="$(node_api_port "$i")"
  until kill -0 "${pids[$i]}" 2>/dev/null && is_ready "$port"; do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      echo "localnet: node$i did not start; the end of $home/node$i/imid.log:" >&2
      tail -n 20 "$home/node$i/imid.log" >&2
      stop_all 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "localnet: node$i is not ready after 60 s; see $home/node$i/imid.log" >&2
      stop_all 1
    fi
    sleep 0.2
  done
done

echo
echo "localnet: $validators validators running (chain imi-localnet):"
for ((i = 0; i < validators; i++)); do
  echo "  node$i  http://127.0.0.1:$(node_api_port "$i")   pid ${pids[$i]}   log $home/node$i/imid.log"
done
cat <<EOF

Use any node's API, e.g.:
  export PATH=$(pwd)/build-release/node:\$PATH IMI_NODE=http://127.0.0.1:$(node_api_port 0)
  imi status
  curl -s http://127.0.0.1:$(node_api_port 1)/v1/status
Each node's keystore password is in $home/nodeI/password (a validator signs
governance transactions with --key $home/nodeI/validator.key --password-file
$home/nodeI/password). Operator's guide: docs/network.md.
Ctrl-C stops all nodes cleanly.
EOF

# Report nodes that exit on their own; the others keep running.
while [ "$stopping" -eq 0 ]; do
  for i in "${!pids[@]}"; do
    if [ -z "${reported[$i]:-}" ] && ! kill -0 "${pids[$i]}" 2>/dev/null; then
      reported[$i]=1
      code=0
      wait "${pids[$i]}" || code=$?
      echo "localnet: node$i exited (code $code); the end of its log:" >&2
      tail -n 10 "$home/node$i/imid.log" >&2
    fi
  done
  if [ "${#reported[@]}" -eq "${#pids[@]}" ]; then
    echo "localnet: every node has exited" >&2
    exit 1
  fi
  sleep 1
done

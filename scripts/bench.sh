#!/usr/bin/env bash
# Measures a fresh local network under load (issue 7; docs/bench.md).
#
#   scripts/bench.sh --validators N --seconds S [--mix anchor|identity|mixed|share|approval]
#                    [--payload BYTES] [--rate TPS] [--warmup S] [--no-build]
#                    [-- extra imi bench options, e.g. --concurrency 1]
#
# Builds imid and imi in Release (build-bench/, or $IMI_BENCH_BUILD), writes a
# fresh N-validator network into a temporary directory (`imi testnet`), turns
# off the per-client rate and connection limits (all load comes from 127.0.0.1), starts the
# nodes, runs `imi bench` for a warm-up plus S seconds of steady load spread
# over every node, stops the nodes (SIGTERM) and deletes the directory.
# Progress goes to stderr; the last line of stdout is the JSON summary
# (tps, p50_ms, p90_ms, p99_ms, max_ms, rejected, nodes[] with CPU and RSS,
# plus validators and the machine's load average when the run started).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

validators=1 seconds=30 mix=anchor payload=0 rate=0 warmup=3 build=1
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --validators) validators=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --mix) mix=$2; shift 2 ;;
    --payload) payload=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --) shift; extra=("$@"); break ;;
    *) echo "usage: scripts/bench.sh --validators N --seconds S [--mix anchor|identity|mixed|share|approval]" \
            "[--payload BYTES] [--rate TPS] [--warmup S] [--no-build] [-- imi bench options]" >&2
       exit 2 ;;
  esac
done

bdir="${IMI_BENCH_BUILD:-$root/build-bench}"
if [ "$build" = 1 ]; then
  echo "bench: building imid and imi (Release) in $bdir" >&2
  cmake -S "$root" -B "$bdir" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$bdir" --target imid imi -j 2 >&2
fi
imid="$bdir/node/imid"
imi="$bdir/node/imi"

dir=$(mktemp -d /tmp/imi-bench-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "${IMI_BENCH_KEEP:-}" ]; then echo "bench: kept $dir (node logs in net/node*/)" >&2; else rm -rf "$dir"; fi
}
trap cleanup EXIT

# Free ports: N API ports from one base and N P2P ports from another.
read -r api_base p2p_base < <(/usr/bin/python3 - "$validators" <<'EOF'
import random, socket, sys
n = int(sys.argv[1])
def free(base):
    for p in range(base, base + n):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            return False
        finally:
            s.close()
    return True
bases = []
while len(bases) < 2:
    b = random.randrange(20000, 60000 - n)
    if free(b) and all(abs(b - x) > n for x in bases):
        bases.append(b)
print(*bases)
EOF
)

"$imi" testnet --validators "$validators" --out "$dir/net" --api-base-port "$api_base" \
  --p2p-base-port "$p2p_base" >/dev/null
nodes=()
for ((i = 0; i < validators; i++)); do nodes+=("$dir/net/node$i"); done

# The load comes from one address: no per-client rate or connection limit.
# IMI_BENCH_SLOW_BLOCK_MS=N: log the phases of every block slower than N ms
# (node logs kept with IMI_BENCH_KEEP=1).
for n in "${nodes[@]}"; do
  sed -i -e 's/^requests_per_second = .*/requests_per_second = 0/' \
    -e 's/^connections_per_client_max = .*/connections_per_client_max = 100000/' "$n/imid.conf"
  if [ -n "${IMI_BENCH_SLOW_BLOCK_MS:-}" ]; then
    sed -i "s/^slow_block_ms = .*/slow_block_ms = $IMI_BENCH_SLOW_BLOCK_MS/" "$n/imid.conf"
  fi
  # IMI_BENCH_SET="key=value ...": set existing config keys on every node.
  for kv in ${IMI_BENCH_SET:-}; do
    k=${kv%%=*} v=${kv#*=}
    grep -q "^$k = " "$n/imid.conf" || { echo "bench: no key $k in imid.conf" >&2; exit 2; }
    sed -i "s/^$k = .*/$k = $v/" "$n/imid.conf"
  done
done

bench_args=(--seconds "$seconds" --warmup "$warmup" --mix "$mix" --payload "$payload")
if [ "$rate" != 0 ]; then bench_args+=(--rate "$rate"); fi
if [ "$mix" = identity ] || [ "$mix" = mixed ]; then
  # Identity registrations need a registrar: a fresh key granted the role in
  # every node's (identical) genesis before the first start.
  export IMI_KEY_PASSWORD=bench-registrar
  "$imi" --json key new --out "$dir/registrar.key" >"$dir/registrar.json"
  /usr/bin/python3 - "$dir/registrar.json" "${nodes[@]}" <<'EOF'
import json, sys
did = json.load(open(sys.argv[1]))["did"]
for home in sys.argv[2:]:
    path = home + "/genesis.json"
    g = json.load(open(path))
    g.setdefault("roles", []).append({"role": "registrar", "did": did})
    open(path, "w").write(json.dumps(g, separators=(",", ":")))
EOF
  bench_args+=(--registrar-key "$dir/registrar.key")
fi
if [ "$mix" = approval ]; then
  # The approval mix's catalogue, windows and departments are fixed bench keys
  # (imi bench --print-roles): granted their roles in every node's genesis.
  "$imi" bench --print-roles >"$dir/approval_roles.json"
  /usr/bin/python3 - "$dir/approval_roles.json" "${nodes[@]}" <<'EOF'
import json, sys
roles = json.load(open(sys.argv[1]))
for home in sys.argv[2:]:
    path = home + "/genesis.json"
    g = json.load(open(path))
    g.setdefault("roles", []).extend(roles)
    open(path, "w").write(json.dumps(g, separators=(",", ":")))
EOF
fi

urls=()
for ((i = 0; i < validators; i++)); do
  n=${nodes[$i]}
  "$imid" start --home "$n" >"$n/stdout.log" 2>"$n/stderr.log" &
  pids+=($!)
done
for ((i = 0; i < validators; i++)); do
  n=${nodes[$i]}
  for _ in $(seq 300); do
    grep -q '^API_URL=' "$n/stdout.log" && break
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      echo "bench: node$i did not start:" >&2
      cat "$n/stderr.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  url=$(sed -n 's/^API_URL=//p' "$n/stdout.log")
  [ -n "$url" ] || { echo "bench: node$i printed no API URL" >&2; exit 1; }
  urls+=("$url")
done
# Ready = answering /readyz (a network also needs its first view settled).
for u in "${urls[@]}"; do
  for _ in $(seq 300); do
    curl -sf "$u/readyz" >/dev/null 2>&1 && break
    sleep 0.1
  done
done

load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench: $validators validator(s) at ${urls[*]} (pids ${pids[*]}); load average $load" >&2
join() { local IFS=,; echo "$*"; }
summary=$("$imi" bench --nodes "$(join "${urls[@]}")" --pids "$(join "${pids[@]}")" \
  "${bench_args[@]}" "${extra[@]}")
/usr/bin/python3 - "$validators" "$load" "$summary" <<'EOF'
import json, sys
s = json.loads(sys.argv[3])
out = {"validators": int(sys.argv[1]), "load_avg": [float(x) for x in sys.argv[2].split()]}
out.update(s)
print(json.dumps(out))
EOF

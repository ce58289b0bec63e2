#!/usr/bin/env bash
# Replays a README tour against a running chain, with the `imi` CLI only,
# printing each command and its output; exits non-zero at the first step
# that fails (the step is named on stderr).
#
#   scripts/tour.sh share --node URL [--homes DIR] [--issuer-key FILE]
#                   [--presentation FILE] [--work DIR] [--imi PATH]
#
# share: community sharing (apps/share.h, docs/share.md).
#   1. Alice and Bob (new keys): Alice lists a child's bicycle in cell r12c7
#      (committee east-lane), Bob requests it until now + 7 days, Alice
#      accepts, both confirm the handover, Alice confirms the return, they
#      rate each other; both reputations.
#   2. A skill_issuer certifies Carol for first_aid; Carol registers as a
#      responder in r12c8; Bob asks for first_aid in r12c7; Carol responds;
#      Bob confirms her arrival.
#   3. Dave asks for first_aid with the shortest expiry genesis allows
#      (params urgent_expiry_ms_min) and nobody answers: the tour sends
#      nothing more and waits until the request is "escalated".
#   4. Eve grants her daughter Fay the scope "share"; Fay lists Eve's walking
#      frame for her (--for); the listing's owner is Eve.
#   With --presentation FILE (an SD-JWT presentation): Alice also lists a
#   cargo bike requiring no_criminal_record; Bob requests it with FILE sealed
#   to Alice's key (the salt opening stays in the work directory); Alice
#   accepts, having checked it.
#
# The skill_issuer: --issuer-key FILE (a keystore whose DID holds the role),
# else a new key granted the role by governance with the validators' keys in
# --homes DIR (DIR/node*/validator.key with DIR/node*/password, as written by
# `imi testnet` and scripts/localnet.sh, or an `imid dev` home).
# Environment: IMI_KEY_PASSWORD protects the residents' keys (default
# "tour-password"); IMI the imi binary (default: imi on PATH, else
# build-release/node/imi).
# Exit codes: 0 every step passed, 1 a step failed, 2 usage.
set -uo pipefail

usage() {
  sed -n '5,7p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[ "${1:-}" = "share" ] || usage
shift
node="" homes="" issuer_key="" presentation="" work="" imi="${IMI:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --node) node="$2"; shift 2 ;;
    --homes) homes="$2"; shift 2 ;;
    --issuer-key) issuer_key="$2"; shift 2 ;;
    --presentation) presentation="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --imi) imi="$2"; shift 2 ;;
    *) usage ;;
  esac
done
[ -n "$node" ] || usage
if [ -z "$imi" ]; then
  imi="$(command -v imi || true)"
  [ -n "$imi" ] || imi="$(cd "$(dirname "$0")/.." && pwd)/build-release/node/imi"
fi
[ -x "$imi" ] || { echo "tour: no imi binary at $imi (pass --imi PATH)" >&2; exit 2; }
work="${work:-$(mktemp -d -t imi-tour-XXXXXX)}"
mkdir -p "$work"
export IMI_NODE="$node" IMI_KEY_PASSWORD="${IMI_KEY_PASSWORD:-tour-password}"
started=$(date +%s)

step() { printf '\n== %s\n' "$*"; }
die() {
  echo "tour: FAILED: $*" >&2
  exit 1
}
# Runs imi with the arguments, echoing the command and its output into $out;
# a non-zero exit fails the tour.
out=""
run() {
  printf '$ imi %s\n' "$*"
  out="$("$imi" "$@" 2>&1)"
  local rc=$?
  printf '%s\n' "$out"
  [ $rc -eq 0 ] || die "imi $1 $2 exited $rc"
}
# The value of "name:" in the last output.
get() { printf '%s\n' "$out" | sed -n "s/^$1: *\([^ ]*\).*/\1/p" | head -1; }
newkey() {
  run key new --out "$work/$1.key"
  eval "$1=$(get did)"
}
# Prints a share record's field from its JSON (imi share show ... --json).
record_field() {
  "$imi" --json share show "$1" "$2" | python3 -c \
    'import json,sys; v=json.load(sys.stdin)["value"]; print(v.get(sys.argv[1], ""))' "$3"
}

# --- 0. residents --------------------------------------------------------------
step "residents: new keys for Alice, Bob, Carol, Dave, Eve and her daughter Fay"
run status
for who in alice bob carol dave eve fay; do newkey "$who"; done
# shellcheck disable=SC2154  # set by newkey
printf 'alice=%s\nbob=%s\ncarol=%s\ndave=%s\neve=%s\nfay=%s\n' \
  "$alice" "$bob" "$carol" "$dave" "$eve" "$fay"

# --- 1. lending ------------------------------------------------------------------
step "Alice lists her child's bicycle in r12c7 (committee east-lane)"
run share list --kind lend --category bicycle --title "Child's bicycle, 20 inch" \
  --description "Blue, with a bell; helmet included" --committee east-lane --cell r12c7 \
  --availability "weekends" --key "$work/alice.key" --wait
bike=$(get record)
step "the open listings of r12c7"
run share listings --cell r12c7
printf '%s\n' "$out" | grep -q "$bike" || die "listing $bike is not among r12c7's open listings"
step "Bob requests it until now + 7 days"
run share request --listing "$bike" --until +7d --key "$work/bob.key" --wait
loan=$(get record)
step "Alice accepts"
run share accept --loan "$loan" --key "$work/alice.key" --wait
step "both confirm the handover"
run share handover --loan "$loan" --key "$work/alice.key" --wait
run share handover --loan "$loan" --key "$work/bob.key" --wait
run share show loan "$loan"
printf '%s\n' "$out" | grep -q handed_over || die "loan $loan is not handed_over"
step "Alice confirms the return"
run share return --loan "$loan" --key "$work/alice.key" --wait
step "they rate each other"
run share rate --loan "$loan" --score 5 --key "$work/alice.key" --wait
run share rate --loan "$loan" --score 5 --key "$work/bob.key" --wait
step "reputations"
run share reputation --did "$alice"
run share reputation --did "$bob"
run share loans --did "$bob"

if [ -n "$presentation" ]; then
  step "Alice lists a cargo bike that requires a no-criminal-record endorsement"
  run share list --kind lend --category cargo_bike --title "Cargo bike" --committee east-lane \
    --cell r12c7 --requires no_criminal_record --key "$work/alice.key" --wait
  cargo=$(get record)
  step "Bob requests it with his presentation sealed to Alice's key (the salt stays here)"
  run share request --listing "$cargo" --until +2d --presentation "$presentation" \
    --opening-out "$work/bob-cargo-opening.json" --key "$work/bob.key" --wait
  cargo_loan=$(get record)
  step "Alice opens and checks it off chain, then accepts"
  run share accept --loan "$cargo_loan" --requirements-checked --key "$work/alice.key" --wait
fi

# --- 2. skills and urgent help -------------------------------------------------
step "a skill_issuer"
if [ -z "$issuer_key" ]; then
  [ -n "$homes" ] || die "no --issuer-key and no --homes: cannot grant skill_issuer"
  keys=() pws=()
  if [ -f "$homes/validator.key" ]; then
    keys+=("$homes/validator.key")
    if [ -f "$homes/password" ]; then pws+=("$homes/password"); else pws+=("$homes/dev-password"); fi
  fi
  for d in "$homes"/node*; do
    [ -f "$d/validator.key" ] && keys+=("$d/validator.key") && pws+=("$d/password")
  done
  [ ${#keys[@]} -gt 0 ] || die "no validator keys under $homes"
  newkey issuer
  issuer_key="$work/issuer.key"
  step "governance: the validators grant the issuer the skill_issuer role"
  run --password-file "${pws[0]}" tx send --app governance --op propose --key "${keys[0]}" \
    --wait --args '{"action":{"type":"grant_role","role":"skill_issuer","did":"'"$issuer"'"}}'
  proposal=$(get id)
  i=1
  while ! printf '%s\n' "$out" | grep -q '"enacted"'; do
    [ $i -lt ${#keys[@]} ] || die "proposal $proposal not enacted with every validator's approval"
    run --password-file "${pws[$i]}" tx send --app governance --op approve --key "${keys[$i]}" \
      --wait --args '{"proposal":"'"$proposal"'"}'
    i=$((i + 1))
  done
else
  issuer=$("$imi" --json key show "$issuer_key" | python3 -c 'import json,sys; print(json.load(sys.stdin)["did"])')
fi
step "the issuer certifies Carol for first aid"
run share certify --did "$carol" --skill first_aid --expires +365d --key "$issuer_key" --wait
step "Carol registers as a first-aid responder in r12c8"
run share register-responder --skill first_aid --cell r12c8 --key "$work/carol.key" --wait
run share responders --skill first_aid --cell r12c8
step "Bob asks for first aid in r12c7 (a neighbour of r12c8)"
params=$("$imi" --json share params) || die "cannot read the share params"
min=$(printf '%s' "$params" | python3 -c 'import json,sys; print(json.load(sys.stdin)["value"].get("urgent_expiry_ms_min", 60000))')
max=$(printf '%s' "$params" | python3 -c 'import json,sys; print(json.load(sys.stdin)["value"].get("urgent_expiry_ms_max", 1800000))')
expiry=600000
[ "$expiry" -ge "$min" ] || expiry=$min
[ "$expiry" -le "$max" ] || expiry=$max
run share urgent --skill first_aid --cell r12c7 --committee east-lane --expires-in "$expiry" \
  --key "$work/bob.key" --wait
help1=$(get record)
run share urgent --cell r12c7
step "Carol responds"
run share respond --urgent "$help1" --key "$work/carol.key" --wait
step "Bob confirms she arrived"
run share arrived --urgent "$help1" --key "$work/bob.key" --wait
run share show urgent "$help1"

# --- 3. escalation ---------------------------------------------------------------
step "Dave asks for first aid with the shortest expiry allowed (${min} ms); nobody answers"
run share urgent --skill first_aid --cell r12c7 --committee east-lane --expires-in "$min" \
  --key "$work/dave.key" --wait
help2=$(get record)
step "waiting, with no other traffic, for the request to escalate"
deadline=$(($(date +%s) + min / 1000 + 60))
while :; do
  status=$(record_field urgent "$help2" status)
  [ "$status" = "escalated" ] && break
  [ "$(date +%s)" -lt "$deadline" ] || die "urgent $help2 still \"$status\" after $((min / 1000 + 60)) s"
  sleep 0.5
done
run share show urgent "$help2"

# --- 4. delegation ---------------------------------------------------------------
step "Eve grants her daughter Fay the scope \"share\" for 30 days"
run delegation grant --delegate "$fay" --scope share --expires-in 30d --key "$work/eve.key" --wait
step "Fay lists Eve's walking frame on Eve's behalf"
run share list --kind lend --category mobility_aid --title "Walking frame" \
  --committee east-lane --cell r12c7 --for "$eve" --key "$work/fay.key" --wait
frame=$(get record)
owner=$(record_field listing "$frame" owner)
[ "$owner" = "$eve" ] || die "listing $frame is owned by $owner, not Eve ($eve)"
echo "the walking frame's owner is Eve ($eve)"
run share owned --did "$eve"

step "tour done in $(($(date +%s) - started)) s; keys and openings in $work"

#!/usr/bin/env bash
# Replays a README tour against a running chain, with the `imi` CLI only,
# printing each command and its output; exits non-zero at the first step
# that fails (the step is named on stderr).
#
#   scripts/tour.sh share --node URL [--homes DIR] [--issuer-key FILE]
#                   [--presentation FILE] [--work DIR] [--imi PATH]
#   scripts/tour.sh approval --node URL --homes DIR [--short-limit MS]
#                   [--resident-claims JSON] [--birth-date YYYY-MM-DD]
#                   [--certificate-claims JSON] [--work DIR] [--imi PATH]
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
# approval: the one-door approval service (apps/approval.h, docs/approval.md).
#   0. Governance (the validators in --homes) grants a service centre the
#      catalogue, window and registrar roles, the civil affairs department
#      the department and credential_issuer roles, the housing fund the
#      authority role. The centre registers the DIDs and issues Mei (a
#      resident) her identity credential; the department creates its status
#      list; the centre defines two matters.
#   1. Mei grants her daughter Lan the scope "approval" for that matter; Lan
#      opens Mei's case from home (--for); a window accepts; the department
#      asks the housing fund a yes/no question, which answers; Lan adds the
#      lease (hashed and anchored), Mei her identity presentation (sealed to
#      the department); the department checks both, approves and issues the
#      certificate (an SD-JWT VC) to Mei, who presents it to her landlord;
#      the node verifies it; Mei rates the service; the statistics.
#   2. A case of the second matter (statutory limit --short-limit ms,
#      default 5000) is opened at a window and left alone until it is
#      "overdue" (escalated to the supervisor).
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
  sed -n '5,10p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

tour="${1:-}"
[ "$tour" = "share" ] || [ "$tour" = "approval" ] || usage
shift
node="" homes="" issuer_key="" presentation="" work="" imi="${IMI:-}"
short_limit=5000 birth_date="1949-12-31"
resident_claims='{"name":"Wang Mei","id_number":"110105194912310021","phone":"13900001111"}'
certificate_claims='{"registered_address":"12 Plum Lane, East District","household":"Wang"}'
while [ $# -gt 0 ]; do
  case "$1" in
    --short-limit) short_limit="$2"; shift 2 ;;
    --resident-claims) resident_claims="$2"; shift 2 ;;
    --birth-date) birth_date="$2"; shift 2 ;;
    --certificate-claims) certificate_claims="$2"; shift 2 ;;
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

# The validators' keystores and password files under --homes.
validator_keys() {
  keys=() pws=()
  if [ -f "$homes/validator.key" ]; then
    keys+=("$homes/validator.key")
    if [ -f "$homes/password" ]; then pws+=("$homes/password"); else pws+=("$homes/dev-password"); fi
  fi
  for d in "$homes"/node*; do
    [ -f "$d/validator.key" ] && keys+=("$d/validator.key") && pws+=("$d/password")
  done
  [ ${#keys[@]} -gt 0 ] || die "no validator keys under $homes"
}
# grant_role ROLE DID: a governance proposal, approved by the validators
# until it is enacted.
grant_role() {
  [ -n "${keys+x}" ] || validator_keys
  step "governance: the validators grant $2 the $1 role"
  run --password-file "${pws[0]}" tx send --app governance --op propose --key "${keys[0]}" \
    --wait --args '{"action":{"type":"grant_role","role":"'"$1"'","did":"'"$2"'"}}'
  local proposal i=1
  proposal=$(get id)
  while ! printf '%s\n' "$out" | grep -q '"enacted"'; do
    [ $i -lt ${#keys[@]} ] || die "proposal $proposal not enacted with every validator's approval"
    run --password-file "${pws[$i]}" tx send --app governance --op approve --key "${keys[$i]}" \
      --wait --args '{"proposal":"'"$proposal"'"}'
    i=$((i + 1))
  done
}

# --- approval ------------------------------------------------------------------
# Prints a field of an approval record (imi approval show case|matter ID --json).
case_field() {
  "$imi" --json approval show case "$1" | python3 -c \
    'import json,sys; v=json.load(sys.stdin)["value"]; print(json.dumps(v.get(sys.argv[1])) if not isinstance(v.get(sys.argv[1]), str) else v[sys.argv[1]])' "$2"
}
# register WHO: the centre (a registrar) attests WHO's key; WHO registers.
register() {
  run key show "$work/$1.key"
  run credential attest --key "$work/centre.key" --subject-key "$(get key)" \
    --out "$work/$1-attestation.json"
  run credential register --key "$work/$1.key" --attestation "$work/$1-attestation.json" --wait
}
tour_approval() {
  [ -n "$homes" ] || die "the approval tour needs --homes DIR (the validators grant the roles)"
  local matter=residence-permit quick=street-stall audience="did:example:landlord-chen"
  step "participants: the service centre, the civil affairs department, the housing fund, a supervisor, Mei and her daughter Lan"
  run status
  for who in centre dept fund supervisor mei lan; do newkey "$who"; done
  # shellcheck disable=SC2154  # set by newkey
  printf 'centre=%s\ndept=%s\nfund=%s\nsupervisor=%s\nmei=%s\nlan=%s\n' \
    "$centre" "$dept" "$fund" "$supervisor" "$mei" "$lan"
  for role in catalogue window registrar; do grant_role "$role" "$centre"; done
  grant_role department "$dept"
  grant_role credential_issuer "$dept"
  grant_role authority "$fund"

  step "the centre registers the DIDs (itself, the department, the fund, Mei)"
  for who in centre dept fund mei; do register "$who"; done
  step "the centre issues Mei her identity credential (claims off chain, in her file)"
  run credential issue --key "$work/centre.key" --holder "$mei" --vct imi:resident \
    --claims "$resident_claims" --birth-date "$birth_date" --out "$work/mei-identity.vc"
  step "the department creates its certificate status list"
  run credential list-create --key "$work/dept.key" --status-list certs --size 1024 --wait

  step "the centre defines the matter $matter (one department, two materials, one question)"
  cat >"$work/$matter.json" <<JSON
{"matter":"$matter","name":"Residence registration","kind":"approval",
 "departments":["$dept"],
 "materials":[{"id":"lease","kind":"document","doc_type":"lease_contract"},
              {"id":"identity","kind":"credential","credential_type":"imi.resident",
               "claims":["name"],"predicates":["age_over_18"]}],
 "questions":[{"id":"no-arrears","text":"Does the applicant owe no housing fund arrears?",
               "authority":"$fund","within_ms":86400000,"valid_for_ms":2592000000}],
 "reasons":["incomplete","not_resident"],"time_limit_ms":1728000000,
 "supervisor":"$supervisor","statutes":["housing-reg-12"]}
JSON
  run approval define-matter --file "$work/$matter.json" --key "$work/centre.key" --wait
  step "the centre defines the matter $quick (statutory limit $short_limit ms)"
  cat >"$work/$quick.json" <<JSON
{"matter":"$quick","name":"Street stall licence","kind":"service","departments":["$dept"],
 "materials":[{"id":"site-plan","kind":"document","doc_type":"site_plan"}],"questions":[],
 "reasons":["incomplete"],"time_limit_ms":$short_limit,"supervisor":"$supervisor"}
JSON
  run approval define-matter --file "$work/$quick.json" --key "$work/centre.key" --wait
  run approval matters

  step "Mei grants her daughter Lan the scope \"approval\" for $matter"
  run delegation grant --delegate "$lan" --scope approval --matters "$matter" --expires-in 30d \
    --key "$work/mei.key" --wait
  step "Lan opens Mei's case from home on her behalf"
  run approval open-case --matter "$matter" --for "$mei" --key "$work/lan.key" --wait
  kase=$(get record)
  [ "$(case_field "$kase" applicant)" = "$mei" ] || die "case $kase is not Mei's"
  [ "$(case_field "$kase" status)" = "submitted" ] || die "case $kase is not submitted"
  step "the window accepts the case"
  run approval accept-case --case "$kase" --window north-hall --key "$work/centre.key" --wait
  run approval show case "$kase"
  [ "$(case_field "$kase" status)" = "in_review" ] || die "case $kase is not in_review"

  step "the department asks the housing fund a yes/no question"
  run approval ask --case "$kase" --question no-arrears --key "$work/dept.key" --wait
  step "the housing fund answers (sealed to the department; a commitment on chain)"
  run answer --case "$kase" --question no-arrears --department "$dept" --yes \
    --key "$work/fund.key" --wait
  commitment=$(get commitment)
  step "the department records the answer"
  run approval record-answer --case "$kase" --question no-arrears --commitment "$commitment" \
    --key "$work/dept.key" --wait

  step "Lan adds the lease (hashed and anchored; the paper stays home)"
  printf 'Lease contract: 12 Plum Lane, East District; tenant Wang Mei; 2025-2027\n' \
    >"$work/lease.txt"
  run approval add-material --case "$kase" --material lease --file "$work/lease.txt" \
    --for "$mei" --key "$work/lan.key" --wait
  step "Mei adds her identity presentation, sealed to the department (the opening stays here)"
  run credential present --credential "$work/mei-identity.vc" --key "$work/mei.key" \
    --disclose name,age_over_18 --audience "$dept" --nonce "$kase" \
    --out "$work/mei-identity-presentation.txt"
  run approval add-material --case "$kase" --material identity \
    --presentation "$work/mei-identity-presentation.txt" \
    --opening-out "$work/mei-identity-opening.json" --key "$work/mei.key" --wait
  step "the department checks both materials"
  run approval verify-material --case "$kase" --material lease --check --file "$work/lease.txt" \
    --key "$work/dept.key" --wait
  run approval verify-material --case "$kase" --material identity --check \
    --key "$work/dept.key" --wait
  run approval waiting --department "$dept"

  step "the department approves"
  run approval approve --case "$kase" --key "$work/dept.key" --wait
  [ "$(case_field "$kase" decision)" = "approved" ] || die "case $kase is not approved"
  step "the department issues the certificate to Mei"
  run approval issue-certificate --case "$kase" --status-list certs \
    --claims "$certificate_claims" --out "$work/mei-certificate.vc" --key "$work/dept.key" --wait
  hash=$(tr -d '\n' <"$work/mei-certificate.vc" | sha256sum | cut -c1-64)
  [ "$(case_field "$kase" certificate | python3 -c 'import json,sys; print(json.load(sys.stdin)["hash"])')" = "$hash" ] ||
    die "the chain's certificate hash is not the SHA-256 of $work/mei-certificate.vc"
  echo "the chain holds the certificate's SHA-256 $hash"
  step "Mei presents the certificate to her landlord, who has a node verify it"
  run credential present --credential "$work/mei-certificate.vc" --key "$work/mei.key" \
    --disclose matter,registered_address --audience "$audience" --nonce "lease-$kase" \
    --out "$work/mei-certificate-presentation.txt"
  run credential verify --presentation "$work/mei-certificate-presentation.txt" \
    --audience "$audience" --nonce "lease-$kase"
  step "Mei rates the service"
  run approval rate --case "$kase" --score 5 --key "$work/mei.key" --wait
  run approval cases --applicant "$mei"
  today=$(($(date -u +%s) / 86400))
  step "the statistics of $matter"
  run approval stats --matter "$matter" --from $((today - 1)) --to "$today"
  run approval stats --matter "$matter" --department "$dept" --from $((today - 1)) --to "$today"

  step "a window opens a $quick case for Mei; nobody acts on it"
  run approval open-case --matter "$quick" --applicant "$mei" --window north-hall \
    --key "$work/centre.key" --wait
  late=$(get record)
  step "waiting, with no other traffic, for the case to go overdue"
  local deadline=$(($(date +%s) + short_limit / 1000 + 60))
  while [ "$(case_field "$late" overdue)" != "true" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || die "case $late not overdue after $((short_limit / 1000 + 60)) s"
    sleep 0.5
  done
  run approval show case "$late"
  run approval open --matter "$quick"
  run approval stats --matter "$quick" --from $((today - 1)) --to "$today"
  step "tour done in $(($(date +%s) - started)) s; keys, credentials and openings in $work"
}

if [ "$tour" = "approval" ]; then
  tour_approval
  exit 0
fi

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
  newkey issuer
  issuer_key="$work/issuer.key"
  grant_role skill_issuer "$issuer"
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

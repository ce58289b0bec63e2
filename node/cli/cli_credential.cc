// imi credential: SD-JWT VCs from the command line (identity/sdjwt.h) and the
// on-chain steps around them. Issuing and presenting run offline with a
// keystore; verifying asks a node (POST /v1/presentations/verify), which
// checks the issuer's key, the holder's DID and the status list on chain.
//
//   attest      a registrar signs the attestation a DID's registration carries
//   register    the subject sends its registration with that attestation
//   list-create an issuer creates a status list on chain
//   issue       an issuer signs a credential for a holder's DID key
//   show        what a credential or presentation file holds (offline)
//   status      a holder checks its credential's status-list entry on chain
//   present     a holder discloses chosen claims with a key-binding JWT
//   verify      a verifier has the node check a presentation
//   revoke | suspend | reinstate   an issuer updates the credential's entry
#include <rapidjson/document.h>
#include <sodium.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "apps/identity_registry_status.h"
#include "base/bytes.h"
#include "identity/base64url.h"
#include "identity/keystore.h"
#include "identity/sdjwt.h"
#include "identity/status_list.h"
#include "ledger/json.h"
#include "ledger/transaction.h"
#include "node/cli/cli_common.h"
#include "node/home.h"

namespace imi::cli {

namespace {

namespace sdjwt = identity::sdjwt;

const char* kUsage =
    "  credential attest --key REGISTRAR_KEY --subject-key HEX [--guardians HEX,...] [--out FILE]\n"
    "                                a registrar's signed attestation: args of identity register\n"
    "  credential register --key KEY --attestation FILE [--wait]\n"
    "                                register the key's DID with a registrar's attestation\n"
    "  credential list-create --key ISSUER_KEY --status-list ID --size N [--app A] [--wait]\n"
    "                                create the issuer's status list (app identity or endorse)\n"
    "  credential issue --key ISSUER_KEY --holder DID[#key-N] [--holder-key HEX]\n"
    "        [--claims JSON] [--birth-date YYYY-MM-DD [--district NAME]] [--vct TYPE]\n"
    "        [--status-list ID [--status-index N|random] [--app A]] [--valid-days D]\n"
    "        [--issuer DID] [--issuer-key-n N] [--out FILE]\n"
    "                                issue an SD-JWT VC (offline unless the index is random)\n"
    "  credential show --credential FILE\n"
    "                                issuer, holder, status entry and claims of a file\n"
    "  credential status --credential FILE\n"
    "                                the credential's status-list entry on chain\n"
    "  credential present --credential FILE --key HOLDER_KEY [--disclose NAME,...]\n"
    "        --audience AUD --nonce N [--out FILE]\n"
    "                                a presentation with a key-binding JWT (offline)\n"
    "  credential verify --presentation FILE --audience AUD --nonce N [--max-age-s S]\n"
    "                                the node checks it; exit 0 only if every check passed\n"
    "  credential revoke|suspend|reinstate --key ISSUER_KEY\n"
    "        (--credential FILE | --status-list ID --status-index N [--app A]) [--wait]\n"
    "                                set the credential's status-list entry on chain\n";

int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

rapidjson::Value jstr(std::string_view s, rapidjson::Document::AllocatorType& a) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

// A string as a JSON string literal.
std::string quote(std::string_view s) {
  rapidjson::Document d;
  d.SetString(s.data(), static_cast<rapidjson::SizeType>(s.size()), d.GetAllocator());
  return ledger::jcs(d);
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= text.size() && !text.empty()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(pos, comma - pos);
    if (!item.empty()) out.push_back(item);
    pos = comma + 1;
  }
  return out;
}

Result<identity::KeyPair> load_key(const Ctx& ctx, const std::string& path) {
  auto pw = password(ctx);
  if (!pw) return pw.status();
  return identity::load_keystore(path, *pw);
}

// A credential or presentation file, without surrounding whitespace.
Result<std::string> read_sd_jwt(const std::string& path) {
  auto text = node::read_small_file(path, sdjwt::kSdJwtBytesMax + 64);
  if (!text) return text.status();
  std::string s = std::move(text).value();
  const size_t b = s.find_first_not_of(" \t\r\n");
  const size_t e = s.find_last_not_of(" \t\r\n");
  if (b == std::string::npos) return Status::error("cli.input", path + " is empty");
  return s.substr(b, e - b + 1);
}

// Writes `text` (mode 0600: a credential is the holder's) or, without --out,
// prints it alone so it can be piped.
int emit_output(const node::CliArgs& a, const std::string& text) {
  const std::string out = a.get("--out");
  if (out.empty()) {
    std::printf("%s\n", text.c_str());
    return kExitOk;
  }
  if (Status s = node::write_file_atomic(out, text + "\n", 0600); !s)
    return fail(kExitLocal, s.to_string());
  return -1;  // written: the caller prints its summary
}

// The issuer-signed payload and the disclosures (name -> value JSON) of an
// SD-JWT, decoded without any check: for showing and for finding the status entry.
struct Decoded {
  rapidjson::Document payload;
  std::vector<std::pair<std::string, std::string>> disclosed;
  bool has_kb = false;
};
Result<Decoded> decode(const std::string& text) {
  auto parts = sdjwt::split(text);
  if (!parts) return parts.status();
  Decoded d;
  d.has_kb = parts->kb_jwt.has_value();
  const size_t dot1 = parts->jwt.find('.');
  const size_t dot2 = parts->jwt.find('.', dot1 + 1);
  auto body = dot1 == std::string::npos || dot2 == std::string::npos
                  ? std::nullopt
                  : identity::base64url_decode_string(
                        std::string_view(parts->jwt).substr(dot1 + 1, dot2 - dot1 - 1));
  if (body) d.payload.Parse(body->c_str(), body->size());
  if (!body || d.payload.HasParseError() || !d.payload.IsObject())
    return Status::error("sdjwt.malformed", "the issuer-signed JWT does not decode");
  for (const auto& disc : parts->disclosures) {
    auto t = identity::base64url_decode_string(disc);
    rapidjson::Document arr;
    if (t) arr.Parse(t->c_str(), t->size());
    if (!t || arr.HasParseError() || !arr.IsArray() || arr.Size() != 3 || !arr[1].IsString())
      return Status::error("sdjwt.malformed", "a disclosure does not decode");
    d.disclosed.emplace_back(arr[1].GetString(), ledger::jcs(arr[2]));
  }
  return d;
}

struct StatusEntry {
  apps::StatusListName name;
  uint64_t idx = 0;
};
std::optional<StatusEntry> status_entry(const rapidjson::Value& payload) {
  if (!payload.HasMember("status") || !payload["status"].IsObject()) return std::nullopt;
  const auto& sl = payload["status"];
  if (!sl.HasMember("status_list") || !sl["status_list"].IsObject()) return std::nullopt;
  const auto& l = sl["status_list"];
  if (!l.HasMember("uri") || !l["uri"].IsString() || !l.HasMember("idx") || !l["idx"].IsUint64())
    return std::nullopt;
  auto name = apps::parse_status_list_uri(l["uri"].GetString());
  if (!name) return std::nullopt;
  return StatusEntry{*name, l["idx"].GetUint64()};
}

// The state key of a status-list record, percent-encoded as one path segment.
std::string list_path(const std::string& app, const std::string& issuer, const std::string& list,
                      const std::string& chunk = {}) {
  std::string key = "list%2F" + issuer + "%2F" + list;
  if (!chunk.empty()) key += "%2F" + chunk;
  return "/v1/state/" + app + "/" + key;
}

// Signs and submits one transaction from `from` (default: the key's DID) with
// the account's next nonce; with `wait`, until it commits. Prints the outcome.
int send_tx(const Ctx& ctx, const identity::KeyPair& key, std::string from, const std::string& app,
            const std::string& op, const rapidjson::Value& args, bool wait) {
  Submission sub = submit_tx(ctx, key, std::move(from), app, op, args, wait);
  if (sub.exit != kExitOk) return sub.exit;
  const Reply* r = &sub.reply;
  const ledger::Transaction* tx = &*sub.tx;
  if (ctx.json) std::printf("%s\n", r->body.c_str());
  if (r->status == 202) {
    if (!ctx.json)
      std::printf("submitted %s %s.%s%s\n", tx->id_hex().c_str(), app.c_str(), op.c_str(),
                  wait ? "; still pending after the wait" : "; follow it with `imi tx get ID`");
    return wait ? kExitPending : kExitOk;
  }
  auto d = parse(r->body);
  const std::string status = str(d, "status");
  if (status == "rejected") {
    if (!ctx.json)
      std::printf("rejected %s: %s\n", tx->id_hex().c_str(), str(d["reason"], "message").c_str());
    return kExitRejected;
  }
  if (status != "committed") {
    if (!ctx.json) std::printf("%s %s\n", status.c_str(), tx->id_hex().c_str());
    return kExitPending;
  }
  const std::string code = d.HasMember("result") ? str(d["result"], "code") : "";
  if (!ctx.json) {
    std::printf("%s.%s committed at height %s, result code %s%s%s\ntx: %s\n", app.c_str(),
                op.c_str(), str(d, "height").c_str(), code.c_str(),
                d.HasMember("message") ? ": " : "", str(d, "message").c_str(),
                tx->id_hex().c_str());
  }
  return code == "0" ? kExitOk : kExitTxFailed;
}

int need(const node::CliArgs& a, std::initializer_list<const char*> names, const char* sub) {
  for (const char* n : names)
    if (a.get(n).empty()) return fail(kExitUsage, std::string("credential ") + sub + " needs " + n);
  return kExitOk;
}

#define IMI_NEED(...)                                 \
  do {                                                \
    if (int rc_ = need(__VA_ARGS__); rc_) return rc_; \
  } while (0)

int cmd_attest(const Ctx& ctx, const node::CliArgs& a) {
  IMI_NEED(a, {"--key", "--subject-key"}, "attest");
  auto subject = from_hex_fixed<32>(a.get("--subject-key"));
  if (!subject || !is_lower_hex(a.get("--subject-key"), 64) ||
      !identity::is_valid_public_key(*subject))
    return fail(kExitUsage, "--subject-key must be a valid Ed25519 public key (64 lowercase hex)");
  auto key = load_key(ctx, a.get("--key"));
  if (!key) return fail(kExitLocal, key.status().to_string());
  rapidjson::Document att(rapidjson::kObjectType);
  auto& al = att.GetAllocator();
  att.AddMember("type", "register", al);
  att.AddMember("did", jstr(identity::did_from_key(*subject), al), al);
  att.AddMember("key", jstr(a.get("--subject-key"), al), al);
  rapidjson::Value guardians(rapidjson::kArrayType);
  for (const auto& g : split_list(a.get("--guardians"))) {
    if (!is_lower_hex(g, 64))
      return fail(kExitUsage, "--guardians are guardian commitments, 64 lowercase hex each");
    guardians.PushBack(jstr(g, al), al);
  }
  att.AddMember("guardians", guardians, al);
  att.AddMember("registrar", jstr(key->did(), al), al);
  att.AddMember("registrar_key", jstr(to_hex(key->public_key()), al), al);
  const auto sig = key->sign(identity::Domain::kAttestation, ledger::jcs(att));
  att.AddMember("sig", jstr(to_hex(sig), al), al);
  rapidjson::Document args(rapidjson::kObjectType);
  args.AddMember("attestation", rapidjson::Value(att, args.GetAllocator()), args.GetAllocator());
  const int rc = emit_output(a, ledger::jcs(args));
  if (rc >= 0) return rc;
  if (ctx.json)
    std::printf("{\"did\":\"%s\",\"file\":%s}\n", identity::did_from_key(*subject).c_str(),
                quote(a.get("--out")).c_str());
  else
    std::printf(
        "attested %s by registrar %s\nwrote %s; the subject registers with\n"
        "  imi credential register --key SUBJECT_KEY --attestation %s --wait\n",
        identity::did_from_key(*subject).c_str(), key->did().c_str(), a.get("--out").c_str(),
        a.get("--out").c_str());
  return kExitOk;
}

int cmd_register(const Ctx& ctx, const node::CliArgs& a) {
  IMI_NEED(a, {"--key", "--attestation"}, "register");
  auto text = node::read_small_file(a.get("--attestation"), 64 * 1024);
  if (!text) return fail(kExitLocal, text.status().message());
  auto args = ledger::parse_strict(*text);
  if (!args || !args->IsObject() || !args->HasMember("attestation"))
    return fail(kExitLocal, a.get("--attestation") + " is not what `imi credential attest` writes");
  auto key = load_key(ctx, a.get("--key"));
  if (!key) return fail(kExitLocal, key.status().to_string());
  return send_tx(ctx, *key, "", "identity", "register", *args, a.has("--wait"));
}

std::string list_app(const node::CliArgs& a) { return a.get("--app", "identity"); }

int cmd_list_create(const Ctx& ctx, const node::CliArgs& a) {
  IMI_NEED(a, {"--key", "--status-list", "--size"}, "list-create");
  uint64_t size = 0;
  if (!parse_u64(a.get("--size"), size) || size == 0 || size > apps::kStatusListSizeMax)
    return fail(kExitUsage, "--size must be from 1 to " + std::to_string(apps::kStatusListSizeMax));
  if (!apps::is_valid_list_id(a.get("--status-list")))
    return fail(kExitUsage, "--status-list must be 1 to 32 of [a-z0-9_-]");
  auto key = load_key(ctx, a.get("--key"));
  if (!key) return fail(kExitLocal, key.status().to_string());
  rapidjson::Document args(rapidjson::kObjectType);
  args.AddMember("list", jstr(a.get("--status-list"), args.GetAllocator()), args.GetAllocator());
  args.AddMember("size", rapidjson::Value(size), args.GetAllocator());
  return send_tx(ctx, *key, a.get("--issuer"), list_app(a), "status_list_create", args,
                 a.has("--wait"));
}

// The size of a status list on chain, for picking a random index.
Result<uint64_t> list_size(const Ctx& ctx, const std::string& app, const std::string& issuer,
                           const std::string& list) {
  auto r = http(ctx, "GET", list_path(app, issuer, list));
  if (!r) return r.status();
  auto d = parse(r->body);
  if (r->status != 200 || !d.IsObject() || !d.HasMember("value"))
    return Status::error("cli.node", "the node answered HTTP " + std::to_string(r->status));
  if (!d["value"].IsObject() || !d["value"].HasMember("size") || !d["value"]["size"].IsUint64())
    return Status::error("cli.no_list", "no status list " + list + " of " + issuer + " in app " +
                                            app + "; create it with `imi credential list-create`");
  return d["value"]["size"].GetUint64();
}

int cmd_issue(const Ctx& ctx, const node::CliArgs& a) {
  IMI_NEED(a, {"--key", "--holder"}, "issue");
  const int64_t now = now_s();
  sdjwt::IssueRequest req;
  req.vct = a.get("--vct", "imi:resident");
  req.iat = now;
  // The holder's key: "#key-N" names it; a bare DID means its initial key-1.
  const std::string holder = a.get("--holder");
  if (auto kid = sdjwt::parse_kid(holder)) {
    req.holder_kid = holder;
  } else if (identity::is_valid_did(holder)) {
    req.holder_kid = sdjwt::make_kid(holder, 1);
  } else {
    return fail(kExitUsage, "--holder must be did:imi:<40 hex> or did:imi:<40 hex>#key-N");
  }
  if (a.has("--holder-key")) {
    auto hk = from_hex_fixed<32>(a.get("--holder-key"));
    if (!hk || !is_lower_hex(a.get("--holder-key"), 64) || !identity::is_valid_public_key(*hk))
      return fail(kExitUsage, "--holder-key must be a valid Ed25519 public key (64 lowercase hex)");
    const auto kid = sdjwt::parse_kid(req.holder_kid);
    if (kid->n == 1 && identity::did_from_key(*hk) != kid->did)
      return fail(kExitUsage, "--holder-key is not the initial key of " + kid->did +
                                  "; name the key as DID#key-N");
    req.holder_jwk = *hk;
  }
  uint64_t key_n = 1;
  if (a.has("--issuer-key-n") && (!parse_u64(a.get("--issuer-key-n"), key_n) || key_n == 0))
    return fail(kExitUsage, "--issuer-key-n must be a key number (1, 2, ...)");
  int64_t days = 0;
  if (a.has("--valid-days")) {
    uint64_t d = 0;
    if (!parse_u64(a.get("--valid-days"), d) || d == 0 || d > 36600)
      return fail(kExitUsage, "--valid-days must be from 1 to 36600");
    days = static_cast<int64_t>(d);
    req.nbf = now;
    req.exp = now + days * 86400;
  }
  if (a.has("--claims")) {
    auto claims = ledger::parse_strict(a.get("--claims"));
    if (!claims || !claims->IsObject())
      return fail(kExitUsage, "--claims must be a JSON object, e.g. '{\"name\":\"Li Wei\"}'");
    for (const auto& m : claims->GetObject())
      req.disclosable.push_back(
          {std::string(m.name.GetString(), m.name.GetStringLength()), ledger::jcs(m.value)});
  }
  if (a.has("--birth-date")) {
    auto p = sdjwt::predicate_claims(a.get("--birth-date"), now, a.get("--district"));
    if (!p) return fail(kExitUsage, p.status().message());
    for (auto& c : *p) req.disclosable.push_back(std::move(c));
  } else if (a.has("--district")) {
    req.disclosable.push_back(sdjwt::string_claim("resident_of", a.get("--district")));
  }
  if (req.disclosable.empty())
    return fail(kExitUsage, "a credential needs claims: --claims JSON and/or --birth-date");
  auto key = load_key(ctx, a.get("--key"));
  if (!key) return fail(kExitLocal, key.status().to_string());
  req.issuer = a.get("--issuer", key->did());
  req.issuer_kid = sdjwt::make_kid(req.issuer, key_n);
  if (a.has("--status-list")) {
    const std::string list = a.get("--status-list"), app = list_app(a);
    if (!apps::is_valid_list_id(list))
      return fail(kExitUsage, "--status-list must be 1 to 32 of [a-z0-9_-]");
    uint64_t idx = 0;
    const std::string idx_text = a.get("--status-index", "random");
    if (idx_text == "random") {
      // A random index says nothing about the holder; the issuer records it
      // (printed below) to revoke the credential later.
      auto size = list_size(ctx, app, req.issuer, list);
      if (!size) return fail(kExitUnreachable, size.status().message());
      idx = randombytes_uniform(static_cast<uint32_t>(*size));
    } else if (!parse_u64(idx_text, idx)) {
      return fail(kExitUsage, "--status-index must be a number or `random`");
    }
    req.status = sdjwt::StatusRef{apps::status_list_uri(app, req.issuer, list), idx};
  } else if (a.has("--status-index")) {
    return fail(kExitUsage, "--status-index needs --status-list ID");
  }
  auto cred = sdjwt::issue(*key, req);
  if (!cred) return fail(kExitUsage, cred.status().message());
  const int rc = emit_output(a, *cred);
  if (rc >= 0) return rc;
  std::string names;
  for (const auto& c : req.disclosable) names += (names.empty() ? "" : ",") + c.name;
  if (ctx.json) {
    std::printf("{\"file\":%s,\"issuer\":%s,\"holder_kid\":%s,\"vct\":%s,\"claims\":%s,",
                quote(a.get("--out")).c_str(), quote(req.issuer).c_str(),
                quote(req.holder_kid).c_str(), quote(req.vct).c_str(), quote(names).c_str());
    if (req.status)
      std::printf("\"status\":{\"uri\":%s,\"idx\":%llu},", quote(req.status->uri).c_str(),
                  static_cast<unsigned long long>(req.status->idx));
    std::printf("\"exp\":%lld}\n", static_cast<long long>(req.exp.value_or(0)));
    return kExitOk;
  }
  std::printf(
      "issued %s\nissuer:  %s\nholder:  %s\nvct:     %s\nclaims:  %s (selectively "
      "disclosable)\n",
      a.get("--out").c_str(), req.issuer_kid.c_str(), req.holder_kid.c_str(), req.vct.c_str(),
      names.c_str());
  if (req.status)
    std::printf("status:  %s index %llu (keep it to revoke or suspend)\n", req.status->uri.c_str(),
                static_cast<unsigned long long>(req.status->idx));
  if (req.exp)
    std::printf("expires: %lld (%lld days)\n", static_cast<long long>(*req.exp),
                static_cast<long long>(days));
  return kExitOk;
}

int cmd_show(const Ctx& ctx, const node::CliArgs& a) {
  IMI_NEED(a, {"--credential"}, "show");
  auto text = read_sd_jwt(a.get("--credential"));
  if (!text) return fail(kExitLocal, text.status().message());
  auto d = decode(*text);
  if (!d) return fail(kExitLocal, a.get("--credential") + ": " + d.status().message());
  const auto& p = d->payload;
  if (ctx.json) {
    std::string claims = "{";
    for (const auto& [n, v] : d->disclosed)
      claims += (claims.size() > 1 ? "," : "") + quote(n) + ":" + v;
    claims += "}";
    std::printf("{\"payload\":%s,\"disclosed\":%s,\"presentation\":%s}\n", ledger::jcs(p).c_str(),
                claims.c_str(), d->has_kb ? "true" : "false");
    return kExitOk;
  }
  std::string holder = p.HasMember("cnf") ? str(p["cnf"], "kid") : "";
  if (holder.empty() && p.HasMember("cnf") && p["cnf"].IsObject() && p["cnf"].HasMember("jwk"))
    holder = str(p["cnf"]["jwk"], "kid") + " (with its key as a JWK)";
  std::printf("%s\nissuer:  %s\nvct:     %s\nholder:  %s\nissued:  %s\n",
              d->has_kb ? "presentation (with a key-binding JWT)" : "credential",
              str(p, "iss").c_str(), str(p, "vct").c_str(), holder.c_str(), str(p, "iat").c_str());
  if (p.HasMember("exp")) std::printf("expires: %s\n", str(p, "exp").c_str());
  if (auto e = status_entry(p))
    std::printf("status:  %s index %llu\n",
                apps::status_list_uri(e->name.app, e->name.issuer, e->name.list).c_str(),
                static_cast<unsigned long long>(e->idx));
  std::printf("claims (%zu %s):\n", d->disclosed.size(), d->has_kb ? "disclosed" : "disclosable");
  for (const auto& [n, v] : d->disclosed) std::printf("  %s: %s\n", n.c_str(), v.c_str());
  return kExitOk;
}

int cmd_status(const Ctx& ctx, const node::CliArgs& a) {
  IMI_NEED(a, {"--credential"}, "status");
  auto text = read_sd_jwt(a.get("--credential"));
  if (!text) return fail(kExitLocal, text.status().message());
  auto d = decode(*text);
  if (!d) return fail(kExitLocal, a.get("--credential") + ": " + d.status().message());
  auto e = status_entry(d->payload);
  if (!e) return fail(kExitLocal, "the credential names no status-list entry");
  auto size = list_size(ctx, e->name.app, e->name.issuer, e->name.list);
  if (!size)
    return fail(size.status().code() == "cli.no_list" ? kExitRejected : kExitUnreachable,
                size.status().message());
  if (e->idx >= *size) return fail(kExitRejected, "the index lies beyond the issuer's list");
  const uint64_t chunk = e->idx / apps::kStatusChunkEntries;
  auto r =
      http(ctx, "GET", list_path(e->name.app, e->name.issuer, e->name.list, std::to_string(chunk)));
  if (!r) return fail(kExitUnreachable, r.status().message());
  if (r->status != 200) return report_problem(*r);
  auto v = parse(r->body);
  identity::CredentialStatus status = identity::CredentialStatus::kValid;
  if (v.IsObject() && v.HasMember("value") && v["value"].IsObject()) {
    // A chunk holds 4096 two-bit entries as raw bytes (apps/identity_registry_status.h).
    auto bytes = identity::base64url_decode(str(v["value"], "bytes"));
    if (!bytes) return fail(kExitUnreachable, "the node served a malformed status chunk");
    auto sl = identity::StatusList::from_bytes(std::move(*bytes));
    if (!sl) return fail(kExitUnreachable, sl.status().message());
    auto s = sl->get(e->idx % apps::kStatusChunkEntries);
    if (!s) return fail(kExitUnreachable, s.status().message());
    status = *s;
  }
  const std::string name(identity::status_name(status));
  if (ctx.json)
    std::printf("{\"status\":\"%s\",\"uri\":%s,\"idx\":%llu}\n", name.c_str(),
                quote(apps::status_list_uri(e->name.app, e->name.issuer, e->name.list)).c_str(),
                static_cast<unsigned long long>(e->idx));
  else
    std::printf("status: %s (entry %llu of %s's list %s)\n", name.c_str(),
                static_cast<unsigned long long>(e->idx), e->name.issuer.c_str(),
                e->name.list.c_str());
  return status == identity::CredentialStatus::kValid ? kExitOk : kExitRejected;
}

int cmd_present(const Ctx& ctx, const node::CliArgs& a) {
  IMI_NEED(a, {"--credential", "--key", "--audience", "--nonce"}, "present");
  auto cred = read_sd_jwt(a.get("--credential"));
  if (!cred) return fail(kExitLocal, cred.status().message());
  auto key = load_key(ctx, a.get("--key"));
  if (!key) return fail(kExitLocal, key.status().to_string());
  sdjwt::PresentRequest req;
  req.disclose = split_list(a.get("--disclose"));
  req.aud = a.get("--audience");
  req.nonce = a.get("--nonce");
  req.iat = now_s();
  auto p = sdjwt::present(*cred, *key, req);
  if (!p)
    return fail(p.status().code() == "sdjwt.bad_request" ? kExitUsage : kExitLocal,
                a.get("--credential") + ": " + p.status().message());
  const int rc = emit_output(a, *p);
  if (rc >= 0) return rc;
  if (ctx.json) {
    std::printf("{\"file\":%s,\"disclosed\":%s}\n", quote(a.get("--out")).c_str(),
                quote(a.get("--disclose")).c_str());
  } else {
    std::printf("presented %s for %s (nonce %s)\ndisclosed: %s\n", a.get("--out").c_str(),
                req.aud.c_str(), req.nonce.c_str(),
                req.disclose.empty() ? "(no claim)" : a.get("--disclose").c_str());
  }
  return kExitOk;
}

int cmd_verify(const Ctx& ctx, const node::CliArgs& a) {
  IMI_NEED(a, {"--presentation", "--audience", "--nonce"}, "verify");
  auto pres = read_sd_jwt(a.get("--presentation"));
  if (!pres) return fail(kExitLocal, pres.status().message());
  std::string body = "{\"audience\":" + quote(a.get("--audience")) +
                     ",\"nonce\":" + quote(a.get("--nonce")) + ",\"presentation\":" + quote(*pres);
  if (a.has("--max-age-s")) {
    uint64_t s = 0;
    if (!parse_u64(a.get("--max-age-s"), s) || s == 0 || s > 86400)
      return fail(kExitUsage, "--max-age-s must be from 1 to 86400");
    body += ",\"max_age_s\":" + std::to_string(s);
  }
  body += "}";
  auto r = http(ctx, "POST", "/v1/presentations/verify", body);
  if (!r) return fail(kExitUnreachable, r.status().message());
  if (r->status != 200) return report_problem(*r);
  auto d = parse(r->body);
  if (!d.IsObject() || !d.HasMember("ok") || !d["ok"].IsBool() || !d.HasMember("checks") ||
      !d["checks"].IsArray())
    return fail(kExitUnreachable, "the node's answer is not a verification: " + r->body);
  const bool ok = d["ok"].GetBool();
  if (ctx.json) {
    std::printf("%s\n", r->body.c_str());
    return ok ? kExitOk : kExitRejected;
  }
  std::printf("presentation: %s\n", ok ? "VALID (every check passed)" : "NOT VALID");
  for (const auto& c : d["checks"].GetArray()) {
    const bool cok = c.HasMember("ok") && c["ok"].IsBool() && c["ok"].GetBool();
    const std::string detail = str(c, "detail");
    std::printf("  %-4s %-18s %s\n", cok ? "ok" : "FAIL", str(c, "name").c_str(), detail.c_str());
  }
  if (d.HasMember("claims") && d["claims"].IsObject()) {
    // The registered JWT claims first, then what the holder disclosed.
    const auto& c = d["claims"];
    std::string holder = c.HasMember("cnf") ? str(c["cnf"], "kid") : "";
    if (holder.empty() && c.HasMember("cnf") && c["cnf"].IsObject() && c["cnf"].HasMember("jwk"))
      holder = str(c["cnf"]["jwk"], "kid");
    std::printf("issuer:  %s\ntype:    %s\nholder:  %s\n", str(c, "iss").c_str(),
                str(c, "vct").c_str(), holder.c_str());
    std::printf("claims:\n");
    for (const auto& m : c.GetObject()) {
      const std::string_view n(m.name.GetString(), m.name.GetStringLength());
      if (n == "iss" || n == "vct" || n == "cnf" || n == "iat" || n == "nbf" || n == "exp" ||
          n == "status")
        continue;
      std::printf("  %s: %s\n", m.name.GetString(), ledger::jcs(m.value).c_str());
    }
  }
  return ok ? kExitOk : kExitRejected;
}

int cmd_set_status(const Ctx& ctx, const node::CliArgs& a, identity::CredentialStatus status) {
  IMI_NEED(a, {"--key"}, "revoke|suspend|reinstate");
  auto key = load_key(ctx, a.get("--key"));
  if (!key) return fail(kExitLocal, key.status().to_string());
  const std::string issuer = a.get("--issuer", key->did());
  StatusEntry e;
  if (a.has("--credential")) {
    auto text = read_sd_jwt(a.get("--credential"));
    if (!text) return fail(kExitLocal, text.status().message());
    auto d = decode(*text);
    if (!d) return fail(kExitLocal, a.get("--credential") + ": " + d.status().message());
    auto found = status_entry(d->payload);
    if (!found) return fail(kExitLocal, "the credential names no status-list entry");
    e = *found;
    if (e.name.issuer != issuer)
      return fail(kExitUsage, "the credential's status list belongs to " + e.name.issuer +
                                  ", not to " + issuer);
  } else {
    IMI_NEED(a, {"--status-list", "--status-index"}, "revoke|suspend|reinstate");
    e.name = {list_app(a), issuer, a.get("--status-list")};
    if (!parse_u64(a.get("--status-index"), e.idx))
      return fail(kExitUsage, "--status-index must be a number");
  }
  rapidjson::Document args(rapidjson::kObjectType);
  auto& al = args.GetAllocator();
  args.AddMember("list", jstr(e.name.list, al), al);
  rapidjson::Value update(rapidjson::kArrayType), updates(rapidjson::kArrayType);
  update.PushBack(rapidjson::Value(e.idx), al);
  update.PushBack(rapidjson::Value(static_cast<unsigned>(status)), al);
  updates.PushBack(update, al);
  args.AddMember("updates", updates, al);
  if (!ctx.json)
    std::printf("setting entry %llu of %s's list %s (app %s) to %s\n",
                static_cast<unsigned long long>(e.idx), issuer.c_str(), e.name.list.c_str(),
                e.name.app.c_str(), std::string(identity::status_name(status)).c_str());
  return send_tx(ctx, *key, a.get("--issuer"), e.name.app, "status_list_update", args,
                 a.has("--wait"));
}

int run_credential(const Ctx& ctx, const node::CliArgs& a) {
  const std::string sub = a.positional.size() == 2 ? a.positional[1] : "";
  if (sub == "attest") return cmd_attest(ctx, a);
  if (sub == "register") return cmd_register(ctx, a);
  if (sub == "list-create") return cmd_list_create(ctx, a);
  if (sub == "issue") return cmd_issue(ctx, a);
  if (sub == "show") return cmd_show(ctx, a);
  if (sub == "status") return cmd_status(ctx, a);
  if (sub == "present") return cmd_present(ctx, a);
  if (sub == "verify") return cmd_verify(ctx, a);
  if (sub == "revoke") return cmd_set_status(ctx, a, identity::CredentialStatus::kInvalid);
  if (sub == "suspend") return cmd_set_status(ctx, a, identity::CredentialStatus::kSuspended);
  if (sub == "reinstate") return cmd_set_status(ctx, a, identity::CredentialStatus::kValid);
  return fail(kExitUsage, std::string("use one of:\n") + kUsage);
}

}  // namespace

Command credential_command() {
  Command c;
  c.name = "credential";
  c.usage = kUsage;
  c.value_options = {"--subject-key", "--guardians", "--attestation",  "--status-list",
                     "--size",        "--holder",    "--holder-key",   "--claims",
                     "--birth-date",  "--district",  "--vct",          "--status-index",
                     "--valid-days",  "--issuer",    "--issuer-key-n", "--credential",
                     "--disclose",    "--audience",  "--presentation", "--max-age-s"};
  c.run = run_credential;
  return c;
}

}  // namespace imi::cli

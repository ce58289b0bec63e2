// Shared by the workflow apps' command groups: args from options, a DID's
// current key, sealed presentations (see cli_app.h).
#include <sodium.h>

#include <cctype>
#include <cstdio>
#include <sstream>

#include "base/sha256.h"
#include "identity/base64url.h"
#include "identity/keystore.h"
#include "identity/sealed.h"
#include "ledger/json.h"
#include "node/cli/cli_app.h"
#include "node/cli/cli_share.h"
#include "node/home.h"

namespace imi::cli::app {

void put(Doc& d, const char* name, const std::string& v) {
  d.AddMember(
      rapidjson::Value(name, d.GetAllocator()),
      rapidjson::Value(v.c_str(), static_cast<rapidjson::SizeType>(v.size()), d.GetAllocator()),
      d.GetAllocator());
}
void put(Doc& d, const char* name, uint64_t v) {
  d.AddMember(rapidjson::Value(name, d.GetAllocator()), rapidjson::Value(v), d.GetAllocator());
}

rapidjson::Value list_of(const std::string& csv, Doc::AllocatorType& al) {
  rapidjson::Value out(rapidjson::kArrayType);
  std::stringstream in(csv);
  for (std::string t; std::getline(in, t, ',');)
    if (!t.empty()) out.PushBack(rapidjson::Value(t.c_str(), al), al);
  return out;
}

bool copy_args(const node::CliArgs& a, std::string_view what, std::initializer_list<Arg> list,
               Doc& args) {
  for (const Arg& x : list) {
    if (!a.has(x.option)) {
      if (!x.required) continue;
      fail(kExitUsage, std::string(what) + " needs " + x.option);
      return false;
    }
    put(args, x.name, a.get(x.option));
  }
  return true;
}

Result<identity::PublicKey> current_key(const Ctx& ctx, const std::string& did) {
  auto r = http(ctx, "GET", "/v1/dids/" + did);
  if (!r) return Status::error("cli.unreachable", r.status().message());
  if (r->status == 200) {
    auto d = parse(r->body);
    if (d.IsObject() && d.HasMember("verificationMethod") && d["verificationMethod"].IsArray() &&
        !d["verificationMethod"].Empty()) {
      const auto& vm = d["verificationMethod"][d["verificationMethod"].Size() - 1];
      if (vm.IsObject() && vm.HasMember("publicKeyJwk")) {
        auto raw = identity::base64url_decode(str(vm["publicKeyJwk"], "x"));
        if (raw && raw->size() == 32) {
          identity::PublicKey k{};
          std::copy(raw->begin(), raw->end(), k.begin());
          return k;
        }
      }
    }
    return Status::error("cli.bad_answer", "the DID document of " + did + " names no key");
  }
  auto acct = share::get_state(ctx, "account", did);
  if (acct.exit != kExitOk) return Status::error("cli.unreachable", "cannot read " + did);
  if (acct.absent() || !acct.value().IsObject() || !acct.value().HasMember("keys") ||
      !acct.value()["keys"].IsArray() || acct.value()["keys"].Size() != 1)
    return Status::error("cli.no_key", "cannot tell the current key of " + did +
                                           " (no DID document and not exactly one account key)");
  auto k = from_hex_fixed<32>(acct.value()["keys"][0].GetString());
  if (!k) return Status::error("cli.bad_answer", "the account of " + did + " has a bad key");
  return *k;
}

int seal_presentation(const Ctx& ctx, const std::string& file, const std::string& to_did,
                      const std::string& opening_out, Doc& args) {
  auto text = node::read_small_file(file, 1 << 20);
  if (!text) return fail(kExitLocal, text.status().message());
  std::string presentation = *text;
  while (!presentation.empty() && std::isspace(static_cast<unsigned char>(presentation.back())))
    presentation.pop_back();
  auto key = current_key(ctx, to_did);
  if (!key)
    return fail(key.status().code() == "cli.unreachable" ? kExitUnreachable : kExitRejected,
                key.status().message());
  Hash32 salt_raw;
  randombytes_buf(salt_raw.data(), salt_raw.size());
  Doc opening(rapidjson::kObjectType);
  put(opening, "presentation", presentation);
  put(opening, "salt", to_hex(salt_raw));
  const std::string opening_text = ledger::jcs(opening);
  auto box = identity::seal(*key, as_bytes(opening_text));
  if (!box) return fail(kExitRejected, "cannot seal to " + to_did + ": " + box.status().message());
  const std::string commitment = to_hex(sha256(opening_text));
  put(args, "sealed", identity::base64url_encode(ByteView(box->data(), box->size())));
  put(args, "commitment", commitment);
  if (!opening_out.empty()) {
    if (Status s = node::write_file_atomic(opening_out, opening_text + "\n", 0600); !s)
      return fail(kExitLocal, s.to_string());
  }
  // The salt is what opens the commitment: keep it, never post it.
  std::FILE* where = ctx.json ? stderr : stdout;
  std::fprintf(where, "sealed to: %s (key %s)\ncommitment: %s\nsalt:     %s (keep off chain%s)\n",
               to_did.c_str(), to_hex(*key).c_str(), commitment.c_str(), to_hex(salt_raw).c_str(),
               opening_out.empty() ? "" : ("; opening in " + opening_out).c_str());
  return kExitOk;
}

int check_sealed_presentation(const Ctx& ctx, const node::CliArgs& a, const std::string& sealed,
                              const std::string& commitment) {
  if (sealed.empty()) return fail(kExitRejected, "the record carries no sealed presentation");
  auto pw = password(ctx);
  if (!pw) return fail(kExitLocal, pw.status().message());
  auto key = identity::load_keystore(a.get("--key"), *pw);
  if (!key) return fail(kExitLocal, key.status().to_string());
  auto box = identity::base64url_decode(sealed);
  if (!box) return fail(kExitRejected, "the sealed box is not base64url");
  auto opened = identity::open_sealed(*key, ByteView(box->data(), box->size()));
  if (!opened)
    return fail(kExitRejected,
                "cannot open the sealed presentation with this key (the check needs the "
                "recipient's own key, not a delegate's)");
  const std::string opening(opened->begin(), opened->end());
  if (to_hex(sha256(opening)) != commitment)
    return fail(kExitRejected, "the sealed presentation does not match its commitment");
  auto od = parse(opening);
  const std::string presentation = str(od, "presentation");
  // The key-binding JWT is the last '~'-separated part; its payload names
  // the audience and nonce the presentation was made for.
  const std::string kb = presentation.substr(presentation.rfind('~') + 1);
  const size_t dot1 = kb.find('.'), dot2 = kb.find('.', dot1 + 1);
  auto payload = dot1 == std::string::npos || dot2 == std::string::npos
                     ? std::nullopt
                     : identity::base64url_decode_string(kb.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!payload) return fail(kExitRejected, "the presentation has no key-binding JWT");
  auto pd = parse(*payload);
  Doc body(rapidjson::kObjectType);
  put(body, "presentation", presentation);
  put(body, "audience", str(pd, "aud"));
  put(body, "nonce", str(pd, "nonce"));
  auto r = http(ctx, "POST", "/v1/presentations/verify", ledger::jcs(body));
  if (!r) return fail(kExitUnreachable, r.status().message());
  if (r->status != 200) return report_problem(*r);
  auto v = parse(r->body);
  const bool ok = v.IsObject() && v.HasMember("ok") && v["ok"].IsBool() && v["ok"].GetBool();
  std::FILE* where = ctx.json ? stderr : stdout;
  std::fprintf(where, "opened the sealed presentation; commitment matches\n");
  if (v.HasMember("checks") && v["checks"].IsArray())
    for (const auto& c : v["checks"].GetArray())
      std::fprintf(where, "  %-4s %s %s\n", str(c, "ok") == "true" ? "ok" : "FAIL",
                   str(c, "name").c_str(), str(c, "detail").c_str());
  if (!ok) return fail(kExitRejected, "the presentation does not verify");
  return kExitOk;
}

}  // namespace imi::cli::app

// imi share: the community sharing app (apps/share.h) from the command line.
// One subcommand per op, its flags mapping to the op's args; queries and
// `show` live in cli_share_query.cc. Every op takes --key FILE, --for DID (a
// delegate acting for a principal), --wait and --json.
//
// `request` on a listing with requirements seals the resident's SD-JWT
// presentation to the lender's current key and commits to it:
//   opening    = JCS({"presentation": text, "salt": 64 hex, fresh})
//   sealed     = base64url(crypto_box_seal(opening, lender key))
//   commitment = hex(SHA-256(opening))
// Only sealed and commitment go on chain; the opening (the salt) stays with
// the resident. The lender's `accept --check` opens the box with its key,
// checks the commitment and has a node verify the presentation.
#include <sodium.h>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "base/sha256.h"
#include "identity/base64url.h"
#include "identity/keystore.h"
#include "identity/sealed.h"
#include "ledger/json.h"
#include "node/cli/cli_share.h"
#include "node/home.h"

namespace imi::cli {

namespace {

using share::send_op;

const char* kUsage =
    "  share list --kind lend|give|skill --category C --title T --committee ID --cell rRcC\n"
    "        [--description T] [--availability T] [--requires TYPE,...]\n"
    "  share unlist --listing ID\n"
    "  share request --listing ID [--until MS|+7d] [--presentation FILE [--opening-out FILE]]\n"
    "  share accept --loan ID [--check | --requirements-checked]\n"
    "  share decline|cancel|handover|return --loan ID\n"
    "  share rate --loan ID --score 1..5\n"
    "  share certify --did DID --skill S --expires MS|+365d      (a skill_issuer)\n"
    "  share uncertify --did DID --skill S\n"
    "  share register-responder|unregister-responder --skill S --cell rRcC\n"
    "  share urgent --skill S --cell rRcC --committee ID --expires-in 10m\n"
    "  share respond|arrived|close-urgent --urgent ID\n"
    "                                send a share op; every op takes --key FILE [--for DID]\n"
    "                                [--wait]; prints the record id (first 32 hex of the tx id)\n"
    "  share listings --cell C | owned --did D | loans --did D | urgent --cell C\n"
    "        | responders --skill S --cell C   [--cursor X] [--limit N]\n"
    "  share reputation --did D | show listing|loan|urgent ID | params\n"
    "                                read the share app's committed state\n";

using Doc = rapidjson::Document;

void put(Doc& d, const char* name, const std::string& v) {
  d.AddMember(
      rapidjson::Value(name, d.GetAllocator()),
      rapidjson::Value(v.c_str(), static_cast<rapidjson::SizeType>(v.size()), d.GetAllocator()),
      d.GetAllocator());
}
void put(Doc& d, const char* name, uint64_t v) {
  d.AddMember(rapidjson::Value(name, d.GetAllocator()), rapidjson::Value(v), d.GetAllocator());
}

// Copies each --option given (or required) into args[name] as a string.
// False after printing a usage error for a missing required one.
struct Arg {
  const char* name;
  const char* option;
  bool required;
};
bool copy_args(const node::CliArgs& a, std::string_view op, std::initializer_list<Arg> list,
               Doc& args) {
  for (const Arg& x : list) {
    if (!a.has(x.option)) {
      if (!x.required) continue;
      fail(kExitUsage, "share " + std::string(op) + " needs " + x.option);
      return false;
    }
    put(args, x.name, a.get(x.option));
  }
  return true;
}

// The lender's current public key: the last key of its DID document when
// the DID is registered, else its account's only key.
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

// share request: seals the presentation (if any) and commits to it.
int op_request(const Ctx& ctx, const node::CliArgs& a, Doc& args) {
  if (!copy_args(a, "request", {{"listing", "--listing", true}}, args)) return kExitUsage;
  if (a.has("--until")) {
    uint64_t until = 0;
    if (!share::parse_time_ms(a.get("--until"), until))
      return fail(kExitUsage, "--until is ms since the epoch or +DURATION (e.g. +7d)");
    put(args, "until", until);
  }
  if (!a.has("--presentation")) return send_op(ctx, a, "share", "request", args);

  auto listing = share::get_state(ctx, "share", "listing/" + a.get("--listing"));
  if (listing.exit != kExitOk) return listing.exit;
  if (listing.absent()) return fail(kExitRejected, "no listing " + a.get("--listing"));
  const std::string owner = str(listing.value(), "owner");
  auto text = node::read_small_file(a.get("--presentation"), 1 << 20);
  if (!text) return fail(kExitLocal, text.status().message());
  std::string presentation = *text;
  while (!presentation.empty() && std::isspace(static_cast<unsigned char>(presentation.back())))
    presentation.pop_back();
  auto key = current_key(ctx, owner);
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
  if (!box) return fail(kExitRejected, "cannot seal to " + owner + ": " + box.status().message());
  const std::string commitment = to_hex(sha256(opening_text));
  put(args, "sealed", identity::base64url_encode(ByteView(box->data(), box->size())));
  put(args, "commitment", commitment);
  if (a.has("--opening-out")) {
    std::ofstream out(a.get("--opening-out"), std::ios::trunc);
    out << opening_text << "\n";
    if (!out) return fail(kExitLocal, "cannot write " + a.get("--opening-out"));
  }
  // The salt is what opens the commitment: keep it, never post it.
  std::FILE* where = ctx.json ? stderr : stdout;
  std::fprintf(where, "sealed to: %s (key %s)\ncommitment: %s\nsalt:     %s (keep off chain%s)\n",
               owner.c_str(), to_hex(*key).c_str(), commitment.c_str(), to_hex(salt_raw).c_str(),
               a.has("--opening-out") ? ("; opening in " + a.get("--opening-out")).c_str() : "");
  return send_op(ctx, a, "share", "request", args);
}

// share accept --check: opens the sealed presentation with the lender's key,
// checks the commitment and has the node verify the presentation (audience
// and nonce from its key-binding JWT).
int check_requirements(const Ctx& ctx, const node::CliArgs& a) {
  auto loan = share::get_state(ctx, "share", "loan/" + a.get("--loan"));
  if (loan.exit != kExitOk) return loan.exit;
  if (loan.absent()) return fail(kExitRejected, "no loan " + a.get("--loan"));
  const std::string sealed = str(loan.value(), "sealed");
  if (sealed.empty()) return fail(kExitRejected, "the loan carries no sealed presentation");
  auto pw = password(ctx);
  if (!pw) return fail(kExitLocal, pw.status().message());
  auto key = identity::load_keystore(a.get("--key"), *pw);
  if (!key) return fail(kExitLocal, key.status().to_string());
  auto box = identity::base64url_decode(sealed);
  if (!box) return fail(kExitRejected, "the loan's sealed box is not base64url");
  auto opened = identity::open_sealed(*key, ByteView(box->data(), box->size()));
  if (!opened)
    return fail(kExitRejected,
                "cannot open the sealed presentation with this key (--check needs "
                "the lender's own key, not a delegate's)");
  const std::string opening(opened->begin(), opened->end());
  if (to_hex(sha256(opening)) != str(loan.value(), "commitment"))
    return fail(kExitRejected, "the sealed presentation does not match the loan's commitment");
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
  if (!ctx.json) {
    std::printf("opened the sealed presentation; commitment matches\n");
    if (v.HasMember("checks") && v["checks"].IsArray())
      for (const auto& c : v["checks"].GetArray())
        std::printf("  %-4s %s %s\n", str(c, "ok") == "true" ? "ok" : "FAIL",
                    str(c, "name").c_str(), str(c, "detail").c_str());
  }
  if (!ok) return fail(kExitRejected, "the presentation does not verify; not accepting");
  return kExitOk;
}

int run_share(const Ctx& ctx, const node::CliArgs& a) {
  if (a.positional.size() < 2) return fail(kExitUsage, std::string("use:\n") + kUsage);
  const std::string& sub = a.positional[1];
  // "urgent" is the op with --key/--skill/--expires-in, else the query.
  const bool urgent_op =
      sub == "urgent" && (a.has("--key") || a.has("--skill") || a.has("--expires-in"));
  if (share::is_share_query(sub) && !urgent_op) return share::run_share_query(ctx, a, sub);
  if (sub == "show") return share::run_share_show(ctx, a);
  if (a.positional.size() != 2)
    return fail(kExitUsage, "share " + sub + " takes no further words (options only)");

  Doc args(rapidjson::kObjectType);
  const std::initializer_list<Arg> loan = {{"loan", "--loan", true}};
  const std::initializer_list<Arg> urgent = {{"urgent", "--urgent", true}};
  const std::initializer_list<Arg> skill_cell = {{"skill", "--skill", true},
                                                 {"cell", "--cell", true}};
  auto simple = [&](std::string_view op, std::initializer_list<Arg> list) {
    if (!copy_args(a, sub, list, args)) return kExitUsage;
    return send_op(ctx, a, "share", op, args);
  };
  if (sub == "list") {
    if (!copy_args(a, sub,
                   {{"kind", "--kind", true},
                    {"category", "--category", true},
                    {"title", "--title", true},
                    {"description", "--description", false},
                    {"committee", "--committee", true},
                    {"cell", "--cell", true},
                    {"availability", "--availability", false}},
                   args))
      return kExitUsage;
    if (a.has("--requires")) {
      rapidjson::Value req(rapidjson::kArrayType);
      std::stringstream in(a.get("--requires"));
      for (std::string t; std::getline(in, t, ',');)
        if (!t.empty())
          req.PushBack(rapidjson::Value(t.c_str(), args.GetAllocator()), args.GetAllocator());
      args.AddMember("requires", req, args.GetAllocator());
    }
    return send_op(ctx, a, "share", "list", args);
  }
  if (sub == "unlist") return simple("unlist", {{"listing", "--listing", true}});
  if (sub == "request") return op_request(ctx, a, args);
  if (sub == "accept") {
    if (!copy_args(a, sub, loan, args)) return kExitUsage;
    if (a.has("--check")) {
      if (int rc = check_requirements(ctx, a); rc != kExitOk) return rc;
    }
    if (a.has("--check") || a.has("--requirements-checked"))
      args.AddMember("requirements_checked", true, args.GetAllocator());
    return send_op(ctx, a, "share", "accept", args);
  }
  for (const char* op : {"decline", "cancel", "handover", "return"})
    if (sub == op) return simple(op, loan);
  if (sub == "rate") {
    uint64_t score = 0;
    if (!parse_u64(a.get("--score"), score) || score < 1 || score > 5)
      return fail(kExitUsage, "share rate needs --score 1..5");
    put(args, "score", score);
    return simple("rate", loan);
  }
  if (sub == "certify") {
    uint64_t expires = 0;
    if (!share::parse_time_ms(a.get("--expires"), expires))
      return fail(kExitUsage, "share certify needs --expires MS or +DURATION (e.g. +365d)");
    put(args, "expires", expires);
    return simple("certify", {{"did", "--did", true}, {"skill", "--skill", true}});
  }
  if (sub == "uncertify")
    return simple("uncertify", {{"did", "--did", true}, {"skill", "--skill", true}});
  if (sub == "register-responder") return simple("register_responder", skill_cell);
  if (sub == "unregister-responder") return simple("unregister_responder", skill_cell);
  if (sub == "urgent") {
    uint64_t n = 0;
    if (!share::parse_duration_ms(a.get("--expires-in"), n))
      return fail(kExitUsage, "share urgent needs --expires-in DURATION (e.g. 10m, 60000)");
    put(args, "expires_in_ms", n);
    return simple(
        "urgent",
        {{"skill", "--skill", true}, {"cell", "--cell", true}, {"committee", "--committee", true}});
  }
  if (sub == "respond") return simple("respond", urgent);
  if (sub == "arrived") return simple("arrived", urgent);
  if (sub == "close-urgent") return simple("close_urgent", urgent);
  return fail(kExitUsage, "unknown share subcommand " + sub + "; use:\n" + kUsage);
}

}  // namespace

Command share_command() {
  Command c;
  c.name = "share";
  c.usage = kUsage;
  c.value_options = {
      "--kind",         "--category", "--title",   "--description", "--committee",   "--cell",
      "--availability", "--requires", "--listing", "--until",       "--opening-out", "--loan",
      "--score",        "--did",      "--skill",   "--expires",     "--expires-in",  "--urgent",
      "--for",          "--cursor",   "--limit"};
  c.flags = {"--check", "--requirements-checked"};
  c.run = run_share;
  return c;
}

}  // namespace imi::cli

// imi consent: the access log of the consent app (apps/consent.h, rules
// version 2). An auditor lists the accesses made under a lawful basis
// (flagged); a resident lists every access addressed to their DID and, with
// their key, opens the sealed openings to see what was read, by whom and why,
// each checked against the commitment on chain.
#include <cstdio>

#include "apps/consent.h"
#include "identity/keystore.h"
#include "ledger/json.h"
#include "node/cli/cli_share.h"

namespace imi::cli {

namespace {

const char* kUsage =
    "  consent flagged [--department DID]   [--cursor X] [--limit N]\n"
    "                                accesses made under a lawful basis (for auditors)\n"
    "  consent accesses --resident DID [--open KEYFILE]   [--cursor X] [--limit N]\n"
    "                                every access to a resident's data; with --open, the\n"
    "                                resident's key opens what was read and why\n";

std::string names(const apps::ReadOpening& o) {
  std::string out;
  for (const auto& a : o.attributes) out += (out.empty() ? "" : ",") + a.name;
  return out;
}

// One access record, and what its sealed opening says when `key` opens it.
void print_access(const rapidjson::Value& item, const identity::KeyPair* key) {
  if (!item.IsObject() || !item.HasMember("value") || !item["value"].IsObject()) return;
  const auto& v = item["value"];
  const bool flagged = v.HasMember("flagged");
  std::printf("%s  height %s  %s  by %s  %s %s%s\n", str(item, "key").c_str(),
              share::field(v, "height").c_str(), share::time_text(v, "time").c_str(),
              share::field(v, "department").c_str(), flagged ? "basis" : "consent",
              share::field(v, flagged ? "basis" : "consent").c_str(), flagged ? "  FLAGGED" : "");
  if (!key) return;
  if (!v.HasMember("sealed") || !v["sealed"].IsObject() || !v["sealed"].HasMember("resident") ||
      !v["sealed"]["resident"].IsString()) {
    std::printf("    no opening sealed to the resident\n");
    return;
  }
  auto o = apps::open_read(*key, v["sealed"]["resident"].GetString());
  if (!o) {
    std::printf("    cannot open: %s\n", o.status().to_string().c_str());
    return;
  }
  std::printf("    read %s  case %s  %s\n", names(*o).c_str(), o->case_id.c_str(),
              apps::read_matches(*o, v) ? "(matches the commitment on chain)"
                                        : "(DOES NOT match the commitment on chain)");
}

int run_consent(const Ctx& ctx, const node::CliArgs& a) {
  if (a.positional.size() != 2) return fail(kExitUsage, std::string("use:\n") + kUsage);
  const std::string& sub = a.positional[1];
  std::string path;
  if (sub == "flagged") {
    path = "/v1/apps/consent/flagged";
    if (a.has("--department")) {
      if (!identity::is_valid_did(a.get("--department")))
        return fail(kExitUsage, "--department is a did:imi");
      path += "?department=" + share::url_encode(a.get("--department"));
    }
  } else if (sub == "accesses") {
    if (!identity::is_valid_did(a.get("--resident")))
      return fail(kExitUsage, "consent accesses needs --resident DID (a did:imi)");
    path = "/v1/apps/consent/accesses?resident=" + share::url_encode(a.get("--resident"));
  } else {
    return fail(kExitUsage, "unknown consent subcommand " + sub + "; use:\n" + kUsage);
  }
  if (a.has("--open") && sub != "accesses")
    return fail(kExitUsage, "--open goes with `consent accesses` (the resident's key)");
  char sep = path.find('?') == std::string::npos ? '?' : '&';
  if (a.has("--cursor")) {
    path += sep + std::string("cursor=") + share::url_encode(a.get("--cursor"));
    sep = '&';
  }
  if (a.has("--limit")) {
    uint64_t limit = 0;
    if (!parse_u64(a.get("--limit"), limit) || limit == 0)
      return fail(kExitUsage, "--limit is a positive number of items");
    path += sep + std::string("limit=") + std::to_string(limit);
  }
  std::optional<identity::KeyPair> key;
  if (a.has("--open")) {
    auto pw = password(ctx);
    if (!pw) return fail(kExitLocal, pw.status().message());
    auto k = identity::load_keystore(a.get("--open"), *pw);
    if (!k) return fail(kExitLocal, a.get("--open") + ": " + k.status().message());
    if (k->did() != a.get("--resident"))
      return fail(kExitUsage,
                  "the key's DID " + k->did() + " is not --resident " + a.get("--resident"));
    key = std::move(*k);
  }
  Page page = get_page(ctx, path, "items");
  if (page.exit != kExitOk) return page.exit;
  if (ctx.json) {
    if (key) {
      // Each item gains "opened": the opening, or null when it does not open.
      auto& al = page.doc.GetAllocator();
      for (auto& item : page.doc["items"].GetArray()) {
        if (!item.IsObject() || !item.HasMember("value")) continue;
        const auto& v = item["value"];
        rapidjson::Value opened(rapidjson::kNullType);
        if (v.IsObject() && v.HasMember("sealed") && v["sealed"].HasMember("resident") &&
            v["sealed"]["resident"].IsString()) {
          auto o = apps::open_read(*key, v["sealed"]["resident"].GetString());
          if (o) {
            opened.SetObject();
            rapidjson::Value attrs(rapidjson::kArrayType);
            for (const auto& at : o->attributes)
              attrs.PushBack(rapidjson::Value(at.name.c_str(), al), al);
            opened.AddMember("attributes", attrs, al);
            opened.AddMember("case", rapidjson::Value(o->case_id.c_str(), al), al);
            opened.AddMember("matches", apps::read_matches(*o, v), al);
          }
        }
        item.AddMember("opened", opened, al);
      }
    }
    std::printf("%s\n", ledger::jcs(page.doc).c_str());
    return kExitOk;
  }
  const auto& items = page.doc["items"];
  std::printf("consent/%s at height %s (state_root %s): %u item(s)\n", sub.c_str(),
              str(page.doc, "height").c_str(), str(page.doc, "state_root").c_str(), items.Size());
  for (const auto& item : items.GetArray()) print_access(item, key ? &*key : nullptr);
  const std::string next = str(page.doc, "next");
  if (!next.empty() && next != "null") std::printf("more: pass --cursor %s\n", next.c_str());
  return kExitOk;
}

}  // namespace

Command consent_command() {
  Command c;
  c.name = "consent";
  c.usage = kUsage;
  c.value_options = {"--department", "--resident", "--open", "--cursor", "--limit"};
  c.run = run_consent;
  return c;
}

}  // namespace imi::cli

// imi delegation: a principal grants or revokes a delegate the right to send
// transactions on its behalf (ledger/delegation.h), and either side lists
// the grants. The delegate then passes --for PRINCIPAL to app commands
// (e.g. `imi share list ... --for DID`).
#include <cstdio>

#include "node/cli/cli_app.h"
#include "node/cli/cli_share.h"

namespace imi::cli {

namespace {

const char* kUsage =
    "  delegation grant --delegate DID --scope APP[/OP],... (--expires-in 30d | --expires MS)\n"
    "        [--matters ID,...] --key FILE [--wait]\n"
    "  delegation revoke --delegate DID --key FILE [--wait]\n"
    "                                let DID act for the key's DID (within scope, until expiry)\n"
    "  delegation granted --principal DID | held --delegate DID   [--cursor X] [--limit N]\n"
    "                                the grants a principal gave, or a delegate holds\n";

void print_grant(const rapidjson::Value& item) {
  const auto& v = item.IsObject() && item.HasMember("value") ? item["value"] : item;
  if (!v.IsObject()) return;
  std::printf("%s -> %s  scope %s  expires %s\n", share::field(v, "principal").c_str(),
              share::field(v, "delegate").c_str(), share::field(v, "scope").c_str(),
              share::time_text(v, "expires").c_str());
}

int run_delegation(const Ctx& ctx, const node::CliArgs& a) {
  if (a.positional.size() != 2) return fail(kExitUsage, std::string("use:\n") + kUsage);
  const std::string& sub = a.positional[1];
  if (sub == "granted")
    return share::run_query(ctx, a, "delegation", "granted", {{"principal", "--principal"}},
                            print_grant);
  if (sub == "held")
    return share::run_query(ctx, a, "delegation", "held", {{"delegate", "--delegate"}},
                            print_grant);
  if (sub != "grant" && sub != "revoke")
    return fail(kExitUsage, "unknown delegation subcommand " + sub + "; use:\n" + kUsage);
  const std::string delegate = a.get("--delegate");
  if (!identity::is_valid_did(delegate))
    return fail(kExitUsage, "delegation " + sub + " needs --delegate DID (a did:imi)");
  rapidjson::Document args(rapidjson::kObjectType);
  auto& al = args.GetAllocator();
  args.AddMember("delegate", rapidjson::Value(delegate.c_str(), al), al);
  if (sub == "grant") {
    if (a.get("--scope").empty())
      return fail(kExitUsage, "delegation grant needs --scope APP[/OP],... (e.g. share)");
    uint64_t expires = 0;
    if (a.has("--expires-in")) {
      uint64_t d = 0;
      if (!share::parse_duration_ms(a.get("--expires-in"), d))
        return fail(kExitUsage, "--expires-in is a duration, e.g. 30d");
      expires = share::now_ms() + d;
    } else if (!share::parse_time_ms(a.get("--expires"), expires)) {
      return fail(kExitUsage, "delegation grant needs --expires-in DURATION or --expires MS");
    }
    args.AddMember("scope", app::list_of(a.get("--scope"), al), al);
    args.AddMember("expires", rapidjson::Value(expires), al);
    if (a.has("--matters")) args.AddMember("matters", app::list_of(a.get("--matters"), al), al);
  }
  if (a.has("--for")) return fail(kExitUsage, "only a principal grants or revokes (no --for)");
  return share::send_op(ctx, a, "delegation", sub, args);
}

}  // namespace

Command delegation_command() {
  Command c;
  c.name = "delegation";
  c.usage = kUsage;
  c.value_options = {"--delegate", "--scope",     "--expires-in", "--expires",
                     "--matters",  "--principal", "--cursor",     "--limit"};
  c.run = run_delegation;
  return c;
}

}  // namespace imi::cli

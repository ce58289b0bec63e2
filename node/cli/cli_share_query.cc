// imi share queries: the share app's named queries (GET
// /v1/apps/share/{query}), a resident's reputation and one record (GET
// /v1/state/share/{key}), printed readably or, with --json, unchanged.
#include <cstdio>

#include "ledger/json.h"
#include "node/cli/cli_share.h"

namespace imi::cli::share {

namespace {

const rapidjson::Value& value_of(const rapidjson::Value& item) {
  static const rapidjson::Value kNull;
  return item.IsObject() && item.HasMember("value") ? item["value"] : kNull;
}

void print_listing(const rapidjson::Value& item) {
  const auto& v = value_of(item);
  if (!v.IsObject()) return;
  std::printf("listing %s  %-7s %s/%s  \"%s\"\n    owner %s  cell %s  committee %s",
              field(v, "id").c_str(), field(v, "status").c_str(), field(v, "kind").c_str(),
              field(v, "category").c_str(), field(v, "title").c_str(), field(v, "owner").c_str(),
              field(v, "cell").c_str(), field(v, "committee").c_str());
  const std::string req = str(v, "requires");
  if (!req.empty() && req != "[]") std::printf("  requires %s", req.c_str());
  if (v.HasMember("availability"))
    std::printf("\n    available: %s", field(v, "availability").c_str());
  std::printf("\n");
}

void print_loan(const rapidjson::Value& item) {
  const auto& v = value_of(item);
  if (!v.IsObject()) return;
  std::printf("loan %s  %-11s %s of listing %s\n    lender %s  borrower %s  until %s\n",
              field(v, "id").c_str(), field(v, "status").c_str(), field(v, "kind").c_str(),
              field(v, "listing").c_str(), field(v, "lender").c_str(), field(v, "borrower").c_str(),
              time_text(v, "until").c_str());
}

void print_urgent(const rapidjson::Value& item) {
  const auto& v = value_of(item);
  if (!v.IsObject()) return;
  std::printf("urgent %s  %-9s %s in %s (committee %s)\n    requester %s  expires %s",
              field(v, "id").c_str(), field(v, "status").c_str(), field(v, "skill").c_str(),
              field(v, "cell").c_str(), field(v, "committee").c_str(),
              field(v, "requester").c_str(), time_text(v, "expires").c_str());
  if (v.HasMember("responder")) std::printf("  responder %s", field(v, "responder").c_str());
  std::printf("\n");
}

void print_responder(const rapidjson::Value& item) {
  const auto& v = value_of(item);
  if (!v.IsObject()) return;
  std::printf("responder %s  %s in %s since %s\n", field(v, "did").c_str(),
              field(v, "skill").c_str(), field(v, "cell").c_str(), time_text(v, "since").c_str());
}

void print_record(std::string_view kind, const rapidjson::Value& v) {
  rapidjson::Document item(rapidjson::kObjectType);
  item.AddMember("value", rapidjson::Value(v, item.GetAllocator()), item.GetAllocator());
  if (kind == "listing") return print_listing(item);
  if (kind == "loan") return print_loan(item);
  if (kind == "urgent") return print_urgent(item);
}

int reputation(const Ctx& ctx, const node::CliArgs& a) {
  const std::string did = a.get("--did");
  if (did.empty()) return fail(kExitUsage, "share reputation needs --did DID");
  StateAnswer s = get_state(ctx, "share", "reputation/" + did);
  if (s.exit != kExitOk) return s.exit;
  if (ctx.json) {
    std::printf("%s\n", ledger::jcs(s.doc).c_str());
    return kExitOk;
  }
  if (s.absent() || !s.value().IsObject()) {
    std::printf("%s: no loans or ratings yet (height %s)\n", did.c_str(),
                str(s.doc, "height").c_str());
    return kExitOk;
  }
  const auto& v = s.value();
  uint64_t count = 0, sum = 0;
  parse_u64(str(v, "ratings_count"), count);
  parse_u64(str(v, "ratings_sum"), sum);
  char mean[32] = "-";
  if (count > 0)
    std::snprintf(mean, sizeof mean, "%.2f", static_cast<double>(sum) / static_cast<double>(count));
  std::printf(
      "%s (height %s)\n  loans completed: %s\n  on-time returns: %s\n  late returns:    %s\n"
      "  ratings:         %s (mean %s)\n",
      did.c_str(), str(s.doc, "height").c_str(), field(v, "loans_completed").c_str(),
      field(v, "on_time_returns").c_str(), field(v, "late_returns").c_str(),
      field(v, "ratings_count").c_str(), mean);
  return kExitOk;
}

// The app's parameters (genesis "apps":{"share":{...}}, state "params").
int params(const Ctx& ctx) {
  StateAnswer s = get_state(ctx, "share", "params");
  if (s.exit != kExitOk) return s.exit;
  if (ctx.json) {
    std::printf("%s\n", ledger::jcs(s.doc).c_str());
    return kExitOk;
  }
  if (s.absent() || !s.value().IsObject())
    return fail(kExitRejected, "the chain has no share params");
  for (const auto& m : s.value().GetObject())
    std::printf("%-28s %s\n", m.name.GetString(), str(s.value(), m.name.GetString()).c_str());
  return kExitOk;
}

}  // namespace

bool is_share_query(std::string_view sub) {
  for (const char* q :
       {"listings", "owned", "loans", "urgent", "responders", "reputation", "params"})
    if (sub == q) return true;
  return false;
}

int run_share_query(const Ctx& ctx, const node::CliArgs& a, std::string_view sub) {
  // "urgent" is both an op (with --expires-in) and a query (with --cell only).
  if (sub == "listings")
    return run_query(ctx, a, "share", "listings", {{"cell", "--cell"}}, print_listing);
  if (sub == "owned") return run_query(ctx, a, "share", "owned", {{"did", "--did"}}, print_listing);
  if (sub == "loans") return run_query(ctx, a, "share", "loans", {{"did", "--did"}}, print_loan);
  if (sub == "urgent")
    return run_query(ctx, a, "share", "urgent", {{"cell", "--cell"}}, print_urgent);
  if (sub == "responders")
    return run_query(ctx, a, "share", "responders", {{"skill", "--skill"}, {"cell", "--cell"}},
                     print_responder);
  if (sub == "params") return params(ctx);
  return reputation(ctx, a);
}

int run_share_show(const Ctx& ctx, const node::CliArgs& a) {
  if (a.positional.size() != 4 ||
      (a.positional[2] != "listing" && a.positional[2] != "loan" && a.positional[2] != "urgent"))
    return fail(kExitUsage, "use `imi share show listing|loan|urgent ID`");
  const std::string& kind = a.positional[2];
  StateAnswer s = get_state(ctx, "share", kind + "/" + a.positional[3]);
  if (s.exit != kExitOk) return s.exit;
  if (ctx.json) {
    std::printf("%s\n", ledger::jcs(s.doc).c_str());
    return s.absent() ? kExitRejected : kExitOk;
  }
  if (s.absent()) return fail(kExitRejected, "no " + kind + " " + a.positional[3]);
  print_record(kind, s.value());
  std::printf("    at height %s, state_root %s\n", str(s.doc, "height").c_str(),
              str(s.doc, "state_root").c_str());
  return kExitOk;
}

}  // namespace imi::cli::share

// imi approval queries (GET /v1/apps/approval/<query>) and `show`: matters,
// cases by applicant, cases waiting at a department, open cases of a
// matter, and the statistics of a matter over a range of days with the
// summary the app computes (counts, median / p90 durations, ratings).
#include <cstdio>
#include <ctime>

#include "ledger/json.h"
#include "node/cli/cli_approval.h"
#include "node/cli/cli_share.h"

namespace imi::cli::approval {

namespace {

using share::field;
using share::time_text;

const rapidjson::Value& value_of(const rapidjson::Value& item) {
  static const rapidjson::Value kNull;
  return item.IsObject() && item.HasMember("value") ? item["value"] : kNull;
}

void print_matter(const rapidjson::Value& item) {
  const auto& v = value_of(item);
  if (!v.IsObject()) return;
  std::printf("matter %s v%s  %s \"%s\"\n    departments %s\n    time limit %s ms  supervisor %s\n",
              field(v, "matter").c_str(), field(v, "version").c_str(), field(v, "kind").c_str(),
              field(v, "name").c_str(), field(v, "departments").c_str(),
              field(v, "time_limit_ms").c_str(), field(v, "supervisor").c_str());
}

void print_case(const rapidjson::Value& item) {
  const auto& v = value_of(item);
  if (!v.IsObject()) return;
  std::printf("case %s  %-9s matter %s v%s%s\n    applicant %s  department %s\n",
              field(v, "id").c_str(), field(v, "status").c_str(), field(v, "matter").c_str(),
              field(v, "version").c_str(), str(v, "overdue") == "true" ? "  OVERDUE" : "",
              field(v, "applicant").c_str(), field(v, "department").c_str());
  std::printf("    opened %s  due %s\n", time_text(v, "opened_at").c_str(),
              time_text(v, "due").c_str());
  if (v.HasMember("missing")) std::printf("    missing %s\n", field(v, "missing").c_str());
  if (v.HasMember("decision"))
    std::printf("    decision %s%s by %s at %s\n", field(v, "decision").c_str(),
                v.HasMember("reason") ? (" (" + field(v, "reason") + ")").c_str() : "",
                field(v, "decided_by").c_str(), time_text(v, "decided_at").c_str());
  if (v.HasMember("certificate"))
    std::printf("    certificate %s\n", field(v["certificate"], "hash").c_str());
  if (v.HasMember("rating")) std::printf("    rating %s\n", field(v, "rating").c_str());
}

void print_record(std::string_view kind, const rapidjson::Value& v) {
  rapidjson::Document item(rapidjson::kObjectType);
  item.AddMember("value", rapidjson::Value(v, item.GetAllocator()), item.GetAllocator());
  if (kind == "case") return print_case(item);
  print_matter(item);
}

// A day: days since 1970-01-01 (UTC), "YYYY-MM-DD" or "today".
bool parse_day(const std::string& text, uint64_t& out) {
  if (text == "today") {
    out = share::now_ms() / 86400000;
    return true;
  }
  std::tm tm{};
  if (text.size() == 10 && strptime(text.c_str(), "%Y-%m-%d", &tm) != nullptr) {
    const std::time_t t = timegm(&tm);
    if (t < 0) return false;
    out = static_cast<uint64_t>(t) / 86400;
    return true;
  }
  return parse_u64(text, out);
}

// A bucket bound in ms for people: "<= 45 s", "<= 12 min", "<= 3.5 h",
// "<= 2.0 d"; "-" without durations (or beyond the last bound).
std::string human_ms(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject() || !v.HasMember(name) || !v[name].IsUint64()) return "-";
  const double ms = static_cast<double>(v[name].GetUint64());
  char buf[32];
  if (ms < 60000)
    std::snprintf(buf, sizeof buf, "<= %.0f s", ms / 1000);
  else if (ms < 3600000)
    std::snprintf(buf, sizeof buf, "<= %.0f min", ms / 60000);
  else if (ms < 86400000)
    std::snprintf(buf, sizeof buf, "<= %.1f h", ms / 3600000);
  else
    std::snprintf(buf, sizeof buf, "<= %.1f d", ms / 86400000);
  return buf;
}

std::string milli(const rapidjson::Value& v, const char* name, double div, const char* unit) {
  if (!v.IsObject() || !v.HasMember(name) || !v[name].IsUint64()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f%s", div == 1000 ? 2 : 1,
                static_cast<double>(v[name].GetUint64()) / div, unit);
  return buf;
}

int stats(const Ctx& ctx, const node::CliArgs& a) {
  uint64_t from = 0, to = 0;
  if (a.get("--matter").empty()) return fail(kExitUsage, "stats needs --matter M");
  if (!parse_day(a.get("--from"), from) || !parse_day(a.get("--to"), to))
    return fail(kExitUsage, "stats needs --from DAY --to DAY (YYYY-MM-DD, today, or a day number)");
  std::string path = "/v1/apps/approval/stats?matter=" + share::url_encode(a.get("--matter")) +
                     "&from=" + std::to_string(from) + "&to=" + std::to_string(to);
  if (a.has("--department")) path += "&department=" + share::url_encode(a.get("--department"));
  if (a.has("--cursor")) path += "&cursor=" + share::url_encode(a.get("--cursor"));
  if (a.has("--limit")) path += "&limit=" + share::url_encode(a.get("--limit"));
  Page page = get_page(ctx, path, "items");
  if (page.exit != kExitOk) return page.exit;
  if (ctx.json) {
    std::printf("%s\n", ledger::jcs(page.doc).c_str());
    return kExitOk;
  }
  const auto& d = page.doc;
  if (!d.HasMember("summary") || !d["summary"].IsObject())
    return fail(kExitUnreachable, "the node's stats answer carries no summary");
  const auto& s = d["summary"];
  std::printf("matter %s%s, days %llu..%llu, at height %s (state_root %s)\n",
              a.get("--matter").c_str(),
              a.has("--department") ? (" at " + a.get("--department")).c_str() : "",
              static_cast<unsigned long long>(from), static_cast<unsigned long long>(to),
              str(d, "height").c_str(), str(d, "state_root").c_str());
  std::printf("  opened %s  accepted %s  decided %s (approved %s, rejected %s)  overdue %s\n",
              field(s, "opened").c_str(), field(s, "accepted").c_str(), field(s, "decided").c_str(),
              field(s, "approved").c_str(), field(s, "rejected").c_str(),
              field(s, "overdue").c_str());
  const auto& acc = s.HasMember("accept_ms") ? s["accept_ms"] : s;
  const auto& dec = s.HasMember("decide_ms") ? s["decide_ms"] : s;
  std::printf("  time to acceptance: median %s, p90 %s\n", human_ms(acc, "median").c_str(),
              human_ms(acc, "p90").c_str());
  std::printf("  time to decision:   median %s, p90 %s\n", human_ms(dec, "median").c_str(),
              human_ms(dec, "p90").c_str());
  std::printf("  rating: mean %s, satisfied (4 or 5) %s\n",
              milli(s, "rating_mean_milli", 1000, " / 5").c_str(),
              milli(s, "satisfied_permille", 10, " %").c_str());
  std::printf("  (%u day record(s) on this page)\n", d["items"].Size());
  const std::string next = str(d, "next");
  if (!next.empty() && next != "null") std::printf("more: pass --cursor %s\n", next.c_str());
  return kExitOk;
}

}  // namespace

bool is_query(std::string_view sub) {
  for (const char* q : {"matters", "cases", "waiting", "open", "stats"})
    if (sub == q) return true;
  return false;
}

int run_query(const Ctx& ctx, const node::CliArgs& a, std::string_view sub) {
  if (sub == "matters") return share::run_query(ctx, a, "approval", "matters", {}, print_matter);
  if (sub == "cases")
    return share::run_query(ctx, a, "approval", "cases", {{"applicant", "--applicant"}},
                            print_case);
  if (sub == "waiting")
    return share::run_query(ctx, a, "approval", "waiting", {{"department", "--department"}},
                            print_case);
  if (sub == "open")
    return share::run_query(ctx, a, "approval", "open", {{"matter", "--matter"}}, print_case);
  return stats(ctx, a);
}

int run_show(const Ctx& ctx, const node::CliArgs& a) {
  if (a.positional.size() != 4 || (a.positional[2] != "case" && a.positional[2] != "matter"))
    return fail(kExitUsage, "use `imi approval show case|matter ID`");
  const std::string& kind = a.positional[2];
  std::string key = kind + "/" + a.positional[3];
  if (kind == "matter") {
    // The current version's definition.
    share::StateAnswer head = share::get_state(ctx, "approval", key);
    if (head.exit != kExitOk) return head.exit;
    if (head.absent()) return fail(kExitRejected, "no matter " + a.positional[3]);
    key += "/v/" + str(head.value(), "version");
  }
  share::StateAnswer s = share::get_state(ctx, "approval", key);
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

}  // namespace imi::cli::approval

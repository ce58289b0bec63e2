// The approval app's statistics (apps/approval.h): the per-day counter
// records and the stats query with its summary.
#include <charconv>
#include <cstdio>
#include <map>

#include "apps/approval_internal.h"
#include "ledger/json.h"

namespace imi::apps::approval_detail {
namespace {

constexpr size_t kBuckets = kApprovalHistogramBoundsMs.size() + 1;
constexpr std::string_view kCounters[] = {
    "accept_ms_sum", "accepted",   "decide_ms_sum", "decided",  "approved", "opened",
    "overdue",       "rating_sum", "ratings",       "rejected", "satisfied"};

size_t bucket_of(int64_t ms) {
  for (size_t i = 0; i < kApprovalHistogramBoundsMs.size(); ++i)
    if (ms <= static_cast<int64_t>(kApprovalHistogramBoundsMs[i])) return i;
  return kApprovalHistogramBoundsMs.size();
}

std::string day_digits(int64_t day) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%09lld", static_cast<long long>(day));
  return buf;
}

// A counter record with every member, zero where absent.
rapidjson::Document counters(std::optional<rapidjson::Document> doc) {
  rapidjson::Document r(rapidjson::kObjectType);
  if (doc) r = std::move(*doc);
  auto& a = r.GetAllocator();
  for (std::string_view f : kCounters)
    if (!r.HasMember(rapidjson::StringRef(f.data(), f.size()))) set(r, f, num(0), a);
  for (std::string_view h : {"accept_hist", "decide_hist"}) {
    if (r.HasMember(rapidjson::StringRef(h.data(), h.size()))) continue;
    rapidjson::Value hist(rapidjson::kArrayType);
    for (size_t i = 0; i < kBuckets; ++i) hist.PushBack(0, a);
    set(r, h, std::move(hist), a);
  }
  return r;
}

void add(rapidjson::Value& r, std::string_view field, int64_t delta, util::Alloc& a) {
  if (delta != 0) set(r, field, num(int_of(r, field) + delta), a);
}

void add_duration(rapidjson::Value& r, std::string_view sum, std::string_view hist, int64_t ms,
                  util::Alloc& a) {
  add(r, sum, ms, a);
  auto& counts = r.FindMember(rapidjson::StringRef(hist.data(), hist.size()))->value;
  auto& bucket = counts[static_cast<rapidjson::SizeType>(bucket_of(ms))];
  bucket.SetInt64(bucket.GetInt64() + 1);
}

Status add_to(ledger::AppState& w, const std::string& key, const StatsDelta& d) {
  auto doc = read(w, key);
  if (!doc) return doc.status();
  auto r = counters(std::move(*doc));
  auto& a = r.GetAllocator();
  add(r, "opened", d.opened, a);
  add(r, "accepted", d.accepted, a);
  add(r, "decided", d.decided, a);
  add(r, "approved", d.approved, a);
  add(r, "rejected", d.rejected, a);
  add(r, "overdue", d.overdue, a);
  if (d.accept_ms) add_duration(r, "accept_ms_sum", "accept_hist", *d.accept_ms, a);
  if (d.decide_ms) add_duration(r, "decide_ms_sum", "decide_hist", *d.decide_ms, a);
  if (d.rating > 0) {
    add(r, "ratings", 1, a);
    add(r, "rating_sum", d.rating, a);
    add(r, "satisfied", d.rating >= 4 ? 1 : 0, a);
  }
  return write(w, key, r);
}

bool parse_day(std::string_view s, int64_t& out) {
  if (s.empty() || s.size() > 9 || (s.size() > 1 && s[0] == '0')) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}
bool is_day(std::string_view s) {
  int64_t d = 0;
  return parse_day(s, d);
}

// The value at rank ceil(n * pct / 100) in the summed histogram: its
// bucket's upper bound, null in the open-ended bucket or with no durations.
rapidjson::Value percentile(const std::array<int64_t, kBuckets>& hist, int64_t pct) {
  int64_t n = 0;
  for (int64_t c : hist) n += c;
  if (n == 0) return rapidjson::Value(rapidjson::kNullType);
  const int64_t rank = (n * pct + 99) / 100;
  int64_t seen = 0;
  for (size_t i = 0; i < kApprovalHistogramBoundsMs.size(); ++i) {
    seen += hist[i];
    if (seen >= rank) return num(static_cast<int64_t>(kApprovalHistogramBoundsMs[i]));
  }
  return rapidjson::Value(rapidjson::kNullType);
}

// Counter sums over the days read.
struct Totals {
  std::map<std::string, int64_t, std::less<>> sums;
  std::array<int64_t, kBuckets> accept_hist{}, decide_hist{};

  void add_record(const rapidjson::Value& r) {
    for (std::string_view f : kCounters) sums[std::string(f)] += int_of(r, f);
    for (auto [name, hist] :
         {std::pair{"accept_hist", &accept_hist}, {"decide_hist", &decide_hist}}) {
      auto it = r.FindMember(name);
      if (it == r.MemberEnd() || !it->value.IsArray()) continue;
      for (rapidjson::SizeType i = 0; i < it->value.Size() && i < kBuckets; ++i)
        if (it->value[i].IsInt64()) (*hist)[i] += it->value[i].GetInt64();
    }
  }

  std::string summary() const {
    rapidjson::Document s(rapidjson::kObjectType);
    auto& a = s.GetAllocator();
    auto get = [&](std::string_view f) {
      auto it = sums.find(f);
      return it == sums.end() ? 0 : it->second;
    };
    for (std::string_view f : {"opened", "accepted", "decided", "approved", "rejected", "overdue"})
      s.AddMember(str(f, a), num(get(f)), a);
    for (auto [name, hist] : {std::pair{"accept_ms", &accept_hist}, {"decide_ms", &decide_hist}}) {
      rapidjson::Value v(rapidjson::kObjectType);
      v.AddMember("median", percentile(*hist, 50), a);
      v.AddMember("p90", percentile(*hist, 90), a);
      s.AddMember(str(name, a), v, a);
    }
    const int64_t ratings = get("ratings");
    auto per = [&](int64_t part) {
      return ratings == 0 ? rapidjson::Value(rapidjson::kNullType) : num(part * 1000 / ratings);
    };
    s.AddMember("rating_mean_milli", per(get("rating_sum")), a);
    s.AddMember("satisfied_permille", per(get("satisfied")), a);
    return ledger::jcs(s);
  }
};

}  // namespace

std::string stats_key(std::string_view matter, std::string_view department, int64_t day) {
  if (department.empty()) return "stats/" + std::string(matter) + "/" + day_digits(day);
  return "stats_dept/" + std::string(matter) + "/" + std::string(department) + "/" +
         day_digits(day);
}

Status add_stats(ledger::AppState& w, std::string_view matter, std::string_view department,
                 int64_t now, const StatsDelta& d) {
  const int64_t day = now / kDayMs;
  IMI_RETURN_IF_ERROR(add_to(w, stats_key(matter, "", day), d));
  return add_to(w, stats_key(matter, department, day), d);
}

Result<ledger::QueryPage> stats_query(const ledger::QueryParams& params, std::string_view cursor,
                                      size_t limit, const ledger::IndexReader& index) {
  auto matter = util::query_param(params, "matter", &is_valid_ident, "a matter id");
  if (!matter) return matter.status();
  std::string department;
  if (params.contains("department")) {
    auto d = util::query_param(params, "department", &util::is_valid_did, "a did:imi");
    if (!d) return d.status();
    department = *d;
  }
  auto from_s = util::query_param(params, "from", &is_day, "a day number");
  if (!from_s) return from_s.status();
  auto to_s = util::query_param(params, "to", &is_day, "a day number");
  if (!to_s) return to_s.status();
  int64_t from = 0, to = 0;
  parse_day(*from_s, from);
  parse_day(*to_s, to);
  auto stored = index.scan(kApprovalApp, "params", "", 1);
  if (!stored) return stored.status();
  ApprovalParams p;
  if (!stored->empty() && stored->front().key == "params") {
    auto doc = ledger::parse_strict(stored->front().value);
    if (doc) p.stats_days_max = static_cast<uint64_t>(int_of(*doc, "stats_days_max", 366));
  }
  if (to < from || static_cast<uint64_t>(to - from) >= p.stats_days_max)
    return Status::error("query.bad_param",
                         "to must be from..from + " + std::to_string(p.stats_days_max - 1));

  // Day keys have a fixed width, so the range is one ordered scan.
  const std::string first = stats_key(*matter, department, from);
  const std::string prefix = first.substr(0, first.size() - 9);
  const std::string last = stats_key(*matter, department, to);
  const std::string start = from == 0 ? std::string() : stats_key(*matter, department, from - 1);
  if (!cursor.empty() && (!cursor.starts_with(prefix) || cursor.size() != first.size()))
    return Status::error("query.bad_param",
                         "cursor is not from this query; start again without one");
  auto entries = index.scan(kApprovalApp, prefix, start, static_cast<size_t>(p.stats_days_max));
  if (!entries) return entries.status();
  ledger::QueryPage page;
  Totals totals;
  size_t after_cursor = 0;  // days in range past the cursor
  for (const auto& e : *entries) {
    if (e.key.size() != first.size() || e.key > last) break;
    auto doc = ledger::parse_strict(e.value);
    if (!doc) return Status::error("state.corrupt_value", "approval " + e.key);
    totals.add_record(*doc);
    if (!cursor.empty() && e.key <= cursor) continue;
    if (++after_cursor <= limit) page.keys.push_back(e.key);
  }
  if (after_cursor > limit && !page.keys.empty()) page.next = page.keys.back();
  page.summary = totals.summary();
  return page;
}

}  // namespace imi::apps::approval_detail

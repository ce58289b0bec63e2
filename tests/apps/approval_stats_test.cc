#include <doctest/doctest.h>

#include "apps/approval.h"
#include "tests/apps/approval_fixture.h"

using namespace imi;
using namespace imi::apps;
using namespace imi::apps::testing;

namespace {

class EmptyState : public ledger::StateReader {
 public:
  Result<std::optional<std::string>> get(std::string_view, std::string_view) const override {
    return std::optional<std::string>();
  }
};

Status init_with(std::string params) {
  auto g = ledger::Genesis::parse(genesis_json(1, R"(,"apps":{"approval":)" + params + "}"));
  REQUIRE(g.is_ok());
  EmptyState empty;
  ledger::AppState st(empty, "approval");
  return ApprovalApp().init_genesis(*g, st);
}

rapidjson::Document summary_of(const ledger::QueryPage& p) {
  REQUIRE_FALSE(p.summary.empty());
  return json(p.summary);
}

}  // namespace

TEST_CASE("approval: genesis parameters are checked and written") {
  CHECK(init_with(R"({"materials_max":3})").is_ok());
  CHECK(init_with(R"({"materials_max":0})").code() == "approval.bad_params");
  CHECK(init_with(R"({"materials_max":-1})").code() == "approval.bad_params");
  CHECK(init_with(R"({"materials_max":"3"})").code() == "approval.bad_params");
  CHECK(init_with(R"({"no_such_limit":1})").code() == "approval.bad_params");
  ApprovalChain s(R"({"materials_max":3})");
  auto p = s.get("params");
  CHECK(p["materials_max"].GetInt64() == 3);
  CHECK(p["stats_days_max"].GetInt64() == 366);  // a default
  CHECK(p["time_limit_ms_max"].GetInt64() == 31622400000);
}

TEST_CASE("approval: counters per day and department, and the stats summary") {
  ApprovalChain s;
  // A: opened by the applicant, accepted two minutes later.
  auto a = s.ok(s.tx(mother(), "open_case", R"({"matter":"residence"})"));
  s.c.block_at(s.c.time() + 120000, {});
  s.ok(s.tx(window_clerk(), "accept_case", s.case_arg(a)));
  // B approved through both departments, C rejected; both rated.
  auto b = s.open_at_window();
  auto c = s.open_at_window();
  s.approved(b);
  s.ok(s.tx(civil_affairs(), "reject", s.case_arg(c, R"(,"reason":"incomplete")")));
  s.ok(s.tx(mother(), "rate", s.case_arg(b, R"(,"score":5)")));
  s.ok(s.tx(mother(), "rate", s.case_arg(c, R"(,"score":2)")));

  auto day0 = s.get("stats/residence/000000000");
  CHECK(day0["opened"].GetInt64() == 3);
  CHECK(day0["accepted"].GetInt64() == 3);
  CHECK(day0["decided"].GetInt64() == 2);
  CHECK(day0["approved"].GetInt64() == 1);
  CHECK(day0["rejected"].GetInt64() == 1);
  CHECK(day0["overdue"].GetInt64() == 0);
  CHECK(day0["accept_hist"].Size() == 17);
  CHECK(day0["accept_hist"][0].GetInt64() == 2);
  CHECK(day0["accept_hist"][1].GetInt64() == 1);
  CHECK(day0["accept_ms_sum"].GetInt64() >= 120000);
  CHECK(day0["ratings"].GetInt64() == 2);
  CHECK(day0["rating_sum"].GetInt64() == 7);
  CHECK(day0["satisfied"].GetInt64() == 1);
  auto civil = s.get("stats_dept/residence/" + civil_affairs().did() + "/000000000");
  CHECK(civil["opened"].GetInt64() == 3);
  CHECK(civil["decided"].GetInt64() == 1);  // C; B was decided by housing
  CHECK(civil["rejected"].GetInt64() == 1);
  CHECK(civil["rating_sum"].GetInt64() == 2);
  auto housing_day = s.get("stats_dept/residence/" + housing().did() + "/000000000");
  CHECK(housing_day["approved"].GetInt64() == 1);
  CHECK(housing_day["rating_sum"].GetInt64() == 5);

  // A falls overdue on day 10.
  const int64_t due = s.get("case/" + a)["due"].GetInt64();
  s.c.block_at(static_cast<uint64_t>(due), {});
  const int64_t overdue_day = due / static_cast<int64_t>(kDayMs);
  CHECK(s.get("stats/residence/" + std::string(9 - std::to_string(overdue_day).size(), '0') +
              std::to_string(overdue_day))["overdue"]
            .GetInt64() == 1);

  const std::string to = std::to_string(overdue_day);
  auto all = s.query("stats", {{"matter", "residence"}, {"from", "0"}, {"to", to}});
  REQUIRE(all.keys.size() == 2);
  CHECK(all.keys[0] == "stats/residence/000000000");
  auto sum = summary_of(all);
  CHECK(sum["opened"].GetInt64() == 3);
  CHECK(sum["accepted"].GetInt64() == 3);
  CHECK(sum["decided"].GetInt64() == 2);
  CHECK(sum["approved"].GetInt64() == 1);
  CHECK(sum["rejected"].GetInt64() == 1);
  CHECK(sum["overdue"].GetInt64() == 1);
  // Accept durations {0, 0, ~120 s}: the median in the first bucket, p90 in the second.
  CHECK(sum["accept_ms"]["median"].GetInt64() == 60000);
  CHECK(sum["accept_ms"]["p90"].GetInt64() == 300000);
  CHECK(sum["decide_ms"]["median"].GetInt64() == 60000);
  CHECK(sum["rating_mean_milli"].GetInt64() == 3500);
  CHECK(sum["satisfied_permille"].GetInt64() == 500);

  // Paging keeps the summary of the whole range.
  auto p1 = s.query("stats", {{"matter", "residence"}, {"from", "0"}, {"to", to}}, "", 1);
  CHECK(p1.keys.size() == 1);
  REQUIRE_FALSE(p1.next.empty());
  auto p2 = s.query("stats", {{"matter", "residence"}, {"from", "0"}, {"to", to}}, p1.next, 1);
  CHECK(p2.keys == std::vector<std::string>{all.keys[1]});
  CHECK(p2.next.empty());
  CHECK(p1.summary == all.summary);
  CHECK(p2.summary == all.summary);

  // One day; one department.
  auto first = summary_of(s.query("stats", {{"matter", "residence"}, {"from", "0"}, {"to", "0"}}));
  CHECK(first["overdue"].GetInt64() == 0);
  auto dept = s.query(
      "stats",
      {{"matter", "residence"}, {"department", housing().did()}, {"from", "0"}, {"to", to}});
  auto ds = summary_of(dept);
  CHECK(ds["approved"].GetInt64() == 1);
  CHECK(ds["opened"].GetInt64() == 0);
  CHECK(ds["rating_mean_milli"].GetInt64() == 5000);
  CHECK(ds["satisfied_permille"].GetInt64() == 1000);

  // Nothing counted: null figures.
  auto none = summary_of(s.query("stats", {{"matter", "nothing"}, {"from", "0"}, {"to", "1"}}));
  CHECK(none["opened"].GetInt64() == 0);
  CHECK(none["accept_ms"]["median"].IsNull());
  CHECK(none["rating_mean_milli"].IsNull());

  auto app = s.c.exec().app("approval");
  auto bad = [&](ledger::QueryParams p) {
    return app->query("stats", p, "", 10, s.c.index()).status().code();
  };
  CHECK(bad({{"matter", "residence"}, {"from", "5"}, {"to", "4"}}) == "query.bad_param");
  CHECK(bad({{"matter", "residence"}, {"from", "0"}, {"to", "366"}}) == "query.bad_param");
  CHECK(bad({{"matter", "residence"}, {"from", "01"}, {"to", "3"}}) == "query.bad_param");
  CHECK(bad({{"matter", "residence"}, {"to", "3"}}) == "query.bad_param");
  CHECK(bad({{"from", "0"}, {"to", "3"}}) == "query.bad_param");
  CHECK(bad({{"matter", "residence"}, {"department", "x"}, {"from", "0"}, {"to", "3"}}) ==
        "query.bad_param");
  CHECK(app->query("stats", {{"matter", "residence"}, {"from", "0"}, {"to", "365"}}, "", 10,
                   s.c.index())
            .is_ok());
}

TEST_CASE("approval: a duration past the last bound falls in the open-ended bucket") {
  ApprovalChain s;
  std::string slow = matter_args("slow", "[" + q(civil_affairs().did()) + "]");
  s.ok(s.tx(catalogue(), "define_matter", slow));
  auto id = s.open_at_window("slow");
  s.c.block_at(s.c.time() + 100 * kDayMs, {});
  s.ok(s.tx(civil_affairs(), "reject", s.case_arg(id, R"(,"reason":"ineligible")")));
  const std::string day = std::to_string(s.c.time() / kDayMs);
  auto rec = s.get("stats/slow/" + std::string(9 - day.size(), '0') + day);
  CHECK(rec["decide_hist"][16].GetInt64() == 1);
  auto sum = summary_of(s.query("stats", {{"matter", "slow"}, {"from", "0"}, {"to", day}}));
  CHECK(sum["decide_ms"]["median"].IsNull());
  CHECK(sum["decide_ms"]["p90"].IsNull());
  CHECK(sum["accept_ms"]["median"].GetInt64() == 60000);
  CHECK(sum["overdue"].GetInt64() == 1);  // the 10-day limit passed on the way
}

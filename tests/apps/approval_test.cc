#include "apps/approval.h"

#include <doctest/doctest.h>

#include "tests/apps/approval_fixture.h"

using namespace imi;
using namespace imi::apps;
using namespace imi::apps::testing;

TEST_CASE("approval: the catalogue defines matters in versions; a case keeps its version") {
  ApprovalChain s;
  auto head = s.get("matter/residence");
  CHECK(head["version"].GetInt64() == 1);
  auto v1 = s.get("matter/residence/v/1");
  CHECK(std::string(v1["by"].GetString()) == catalogue().did());
  CHECK(v1["time_limit_ms"].GetInt64() == static_cast<int64_t>(kLimitMs));

  auto old_case = s.open_at_window();
  // Version 2 has one department and a shorter limit.
  std::string v2 = matter_args("residence", "[" + q(housing().did()) + "]");
  v2.replace(v2.find(std::to_string(kLimitMs)), std::to_string(kLimitMs).size(),
             std::to_string(kDayMs));
  auto r = s.run(s.tx(catalogue(), "define_matter", v2));
  REQUIRE(r.code() == 0);
  CHECK((*event(r, "matter_defined"))["version"].GetInt64() == 2);
  CHECK(s.get("matter/residence")["version"].GetInt64() == 2);
  CHECK(s.has("matter/residence/v/1"));

  auto new_case = s.open_at_window();
  auto oc = s.get("case/" + old_case);
  auto nc = s.get("case/" + new_case);
  CHECK(oc["version"].GetInt64() == 1);
  CHECK(nc["version"].GetInt64() == 2);
  CHECK(std::string(oc["department"].GetString()) == civil_affairs().did());
  CHECK(std::string(nc["department"].GetString()) == housing().did());
  CHECK(oc["due"].GetInt64() - oc["accepted_at"].GetInt64() == static_cast<int64_t>(kLimitMs));
  CHECK(nc["due"].GetInt64() - nc["accepted_at"].GetInt64() == static_cast<int64_t>(kDayMs));

  auto matters = s.query("matters", {});
  CHECK(matters.keys == std::vector<std::string>{"matter/residence/v/2"});
}

TEST_CASE("approval: define_matter names every bad field and checks roles and limits") {
  ApprovalChain s(R"({"departments_max":2,"name_bytes_max":20,"questions_max":1})");
  auto def = [&](std::string args) { return s.tx(catalogue(), "define_matter", args); };
  auto with = [&](std::string_view member, std::string value) {
    std::string a = matter_args("m2");
    size_t at = a.find("\"" + std::string(member) + "\":");
    REQUIRE(at != std::string::npos);
    size_t start = at + member.size() + 3;
    // Replace the member's value up to the next top-level member.
    int depth = 0;
    size_t end = start;
    for (; end < a.size(); ++end) {
      char ch = a[end];
      if (ch == '[' || ch == '{') ++depth;
      if (ch == ']' || ch == '}') {
        if (depth == 0) break;
        --depth;
      }
      if (ch == ',' && depth == 0) break;
    }
    return a.substr(0, start) + value + a.substr(end);
  };
  check_bad(s, def(with("matter", q("a:b"))), "matter");
  check_bad(s, def(with("kind", q("permit"))), "kind");
  check_bad(s, def(with("departments", "[]")), "departments");
  check_bad(s, def(with("departments", "[\"nobody\"]")), "departments");
  check_bad(s, def(with("materials", R"([{"id":"x","kind":"document"}])")),
            "materials[0].doc_type");
  check_bad(s, def(with("materials", R"([{"id":"x","kind":"photo"}])")), "materials[0].kind");
  check_bad(s,
            def(with("materials", R"([{"id":"x","kind":"document","doc_type":"a"},)"
                                  R"({"id":"x","kind":"document","doc_type":"b"}])")),
            "materials[1].id");
  check_bad(
      s, def(with("materials", R"([{"id":"x","kind":"document","doc_type":"a","claims":["n"]}])")),
      "materials[0].claims");
  check_bad(s, def(with("questions", R"([{"id":"q"}])")), "questions[0]");
  check_bad(
      s,
      def(with("questions", R"([{"id":")" + std::string(32, 'q') + R"(","text":"t","authority":)" +
                                q(police().did()) + R"(,"within_ms":1,"valid_for_ms":1}])")),
      "questions[0].id");
  check_bad(s, def(with("reasons", R"(["a","a"])")), "reasons");
  check_bad(s, def(with("time_limit_ms", "0")), "time_limit_ms");
  check_bad(s, def(with("supervisor", q("x"))), "supervisor");
  check_bad(s, def(with("statutes", "[1]")), "statutes");
  check_bad(s, def(matter_args("m2").substr(0, matter_args("m2").size() - 1) + R"(,"extra":1})"),
            "extra");

  // Genesis limits: 105 naming the field.
  check_bad(s, def(with("name", q(std::string(21, 'n')))), "name", kApprovalCodeLimit);
  check_bad(s,
            def(with("departments", "[" + q(civil_affairs().did()) + "," + q(housing().did()) +
                                        "," + q(key(52).did()) + "]")),
            "departments", kApprovalCodeLimit);
  check_bad(s, def(with("time_limit_ms", "31622400001")), "time_limit_ms", kApprovalCodeLimit);
  check_bad(s,
            def(with("questions", R"([{"id":"a","text":"t","authority":)" + q(police().did()) +
                                      R"(,"within_ms":1,"valid_for_ms":1},{"id":"b","text":"t",)"
                                      R"("authority":)" +
                                      q(police().did()) + R"(,"within_ms":1,"valid_for_ms":1}])")),
            "questions", kApprovalCodeLimit);

  // Roles: 4.
  CHECK(s.code(s.tx(window_clerk(), "define_matter", matter_args("m2"))) == ledger::kCodeForbidden);
  check_bad(s, def(with("departments", "[" + q(key(52).did()) + "]")), "departments",
            ledger::kCodeForbidden);
  check_bad(s,
            def(with("questions", R"([{"id":"a","text":"t","authority":)" + q(key(61).did()) +
                                      R"(,"within_ms":1,"valid_for_ms":1}])")),
            "questions[0].authority", ledger::kCodeForbidden);
  CHECK(s.code(s.tx(catalogue(), "no_such_op", "{}")) == ledger::kCodeUnknownOp);
  CHECK_FALSE(s.has("matter/m2"));
}

TEST_CASE("approval: opened by the applicant, accepted at a window, or opened at a window") {
  ApprovalChain s;
  auto r = s.run(s.tx(mother(), "open_case", R"({"matter":"residence"})"));
  REQUIRE(r.code() == 0);
  auto submitted = s.query("cases", {{"applicant", mother().did()}}).keys;
  REQUIRE(submitted.size() == 1);
  const std::string own = submitted[0].substr(5);
  CHECK(s.status(own) == "submitted");
  CHECK_FALSE(s.deadline_pending("case/" + own));
  CHECK(s.query("waiting", {{"department", civil_affairs().did()}}).keys.empty());

  CHECK(s.code(s.tx(mother(), "open_case", R"({"matter":"nothing"})")) == ledger::kCodeNotFound);
  check_bad(s, s.tx(mother(), "open_case", R"({"matter":"residence","window":"w"})"), "window");
  check_bad(s, s.tx(window_clerk(), "open_case", R"({"matter":"residence","applicant":"me"})"),
            "applicant");
  // Only a window clerk opens for someone else, and accepts.
  CHECK(s.code(s.tx(stranger(), "open_case",
                    R"({"matter":"residence","applicant":)" + q(mother().did()) + "}")) ==
        ledger::kCodeForbidden);
  CHECK(s.code(s.tx(mother(), "accept_case", s.case_arg(own))) == ledger::kCodeForbidden);
  check_bad(s, s.tx(window_clerk(), "accept_case", s.case_arg("xyz")), "case");
  CHECK(s.code(s.tx(window_clerk(), "accept_case", s.case_arg(std::string(32, 'a')))) ==
        ledger::kCodeNotFound);

  auto opened_at = s.get("case/" + own)["opened_at"].GetInt64();
  s.c.block_at(s.c.time() + 5000, {});
  auto acc = s.run(s.tx(window_clerk(), "accept_case", s.case_arg(own, R"(,"window":"north")")));
  REQUIRE(acc.code() == 0);
  auto rec = s.get("case/" + own);
  CHECK(std::string(rec["status"].GetString()) == "in_review");
  CHECK(std::string(rec["window"].GetString()) == "north");
  CHECK(rec["accepted_at"].GetInt64() - opened_at >= 5000);
  CHECK(rec["due"].GetInt64() == rec["accepted_at"].GetInt64() + static_cast<int64_t>(kLimitMs));
  CHECK(s.deadline_pending("case/" + own));
  CHECK((*event(acc, "case_accepted"))["due"].GetInt64() == rec["due"].GetInt64());
  CHECK(s.code(s.tx(window_clerk(), "accept_case", s.case_arg(own))) == ledger::kCodeConflict);

  auto at_window = s.open_at_window();
  auto w = s.get("case/" + at_window);
  CHECK(std::string(w["status"].GetString()) == "in_review");
  CHECK(std::string(w["opened_by"].GetString()) == window_clerk().did());
  CHECK(std::string(w["applicant"].GetString()) == mother().did());
  CHECK(w["accepted_at"].GetInt64() == w["opened_at"].GetInt64());
  auto waiting = s.query("waiting", {{"department", civil_affairs().did()}}).keys;
  CHECK(waiting.size() == 2);
  CHECK(s.query("open", {{"matter", "residence"}}).keys.size() == 2);
}

TEST_CASE("approval: materials are anchored documents or sealed credentials") {
  ApprovalChain s(R"({"sealed_bytes_max":200})");
  auto id = s.open_at_window();
  auto add = [&](std::string extra) {
    return s.tx(mother(), "add_material", s.case_arg(id, extra));
  };
  const std::string unanchored = to_hex(sha256(std::string_view("never anchored")));
  CHECK(s.code(add(R"(,"material":"lease","hash":)" + q(unanchored))) == ledger::kCodeNotFound);
  CHECK(s.code(add(R"(,"material":"photo","hash":)" + q(unanchored))) == ledger::kCodeNotFound);
  check_bad(s, add(R"(,"material":"lease","hash":"ABC")"), "hash");
  check_bad(s, add(R"(,"material":"lease","hash":)" + q(unanchored) + R"(,"sealed":"x")"),
            "sealed");
  check_bad(s, add(R"(,"material":"id_card","hash":)" + q(unanchored)), "hash");
  check_bad(s, add(R"(,"material":"id_card","sealed":"not base64!","commitment":)" + q(unanchored)),
            "sealed");
  check_bad(s,
            add(R"(,"material":"id_card","sealed":)" + q(std::string(300, 'A')) +
                R"(,"commitment":)" + q(unanchored)),
            "sealed", kApprovalCodeLimit);
  std::string cred = s.credential_args(civil_affairs());
  check_bad(s, add(R"(,"material":"id_card")" + cred.substr(0, cred.find(",\"commitment\""))),
            "commitment");
  const std::string lease = s.anchored("lease v1");
  CHECK(s.code(s.tx(stranger(), "add_material",
                    s.case_arg(id, R"(,"material":"lease","hash":)" + q(lease)))) ==
        ledger::kCodeForbidden);
  s.ok(add(R"(,"material":"lease","hash":)" + q(lease)));
  s.ok(add(R"(,"material":"id_card")" + cred));
  auto m = s.get("material/" + id + "/id_card");
  CHECK(m.HasMember("sealed"));
  CHECK(m.HasMember("commitment"));
  CHECK_FALSE(m.HasMember("hash"));

  // Verification by the current department only; an unknown material is 5.
  auto verify = [&](const identity::KeyPair& k, std::string material, bool ok) {
    return s.tx(
        k, "verify_material",
        s.case_arg(id, R"(,"material":)" + q(material) + R"(,"ok":)" + (ok ? "true" : "false")));
  };
  CHECK(s.code(verify(housing(), "lease", true)) == ledger::kCodeForbidden);
  CHECK(s.code(verify(civil_affairs(), "photo", true)) == ledger::kCodeNotFound);
  check_bad(
      s, s.tx(civil_affairs(), "verify_material", s.case_arg(id, R"(,"material":"lease","ok":1)")),
      "ok");
  s.ok(verify(civil_affairs(), "lease", false));
  CHECK_FALSE(s.get("material/" + id + "/lease")["verified"]["ok"].GetBool());
  s.ok(verify(civil_affairs(), "lease", true));
  CHECK(s.get("material/" + id + "/lease")["verified"]["ok"].GetBool());
  // A new submission replaces the material and its verification.
  s.ok(add(R"(,"material":"lease","hash":)" + q(s.anchored("lease v2"))));
  CHECK_FALSE(s.get("material/" + id + "/lease").HasMember("verified"));
}

TEST_CASE("approval: return_case pauses the clock and the missing materials resume it") {
  ApprovalChain s;
  auto id = s.open_at_window();
  const int64_t accepted = s.get("case/" + id)["accepted_at"].GetInt64();
  s.c.block_at(static_cast<uint64_t>(accepted) + 3 * kDayMs, {});

  check_bad(s, s.tx(civil_affairs(), "return_case", s.case_arg(id, R"(,"missing":[])")), "missing");
  check_bad(s, s.tx(civil_affairs(), "return_case", s.case_arg(id, R"(,"missing":["a","a"])")),
            "missing");
  CHECK(s.code(s.tx(civil_affairs(), "return_case", s.case_arg(id, R"(,"missing":["photo"])"))) ==
        ledger::kCodeNotFound);
  CHECK(s.code(s.tx(housing(), "return_case", s.case_arg(id, R"(,"missing":["lease"])"))) ==
        ledger::kCodeForbidden);
  auto r = s.run(
      s.tx(civil_affairs(), "return_case", s.case_arg(id, R"(,"missing":["lease","id_card"])")));
  REQUIRE(r.code() == 0);
  CHECK((*event(r, "case_returned"))["missing"].Size() == 2);
  auto rec = s.get("case/" + id);
  const int64_t used = rec["clock_used_ms"].GetInt64();
  CHECK(used == static_cast<int64_t>(s.c.time()) - accepted);
  CHECK(std::string(rec["status"].GetString()) == "returned");
  CHECK_FALSE(rec.HasMember("due"));
  CHECK_FALSE(s.deadline_pending("case/" + id));
  CHECK(s.code(s.tx(civil_affairs(), "return_case", s.case_arg(id, R"(,"missing":["lease"])"))) ==
        ledger::kCodeConflict);

  // Twenty paused days later the deadline has not fired.
  auto idle = s.c.block_at(s.c.time() + 20 * kDayMs, {});
  CHECK(fired(idle).empty());
  CHECK_FALSE(s.get("case/" + id)["overdue"].GetBool());

  s.ok(s.tx(mother(), "add_material",
            s.case_arg(id, R"(,"material":"lease","hash":)" + q(s.anchored("lease")))));
  CHECK(s.status(id) == "returned");
  CHECK(s.get("case/" + id)["missing"].Size() == 1);
  auto resumed =
      s.run(s.tx(mother(), "add_material",
                 s.case_arg(id, R"(,"material":"id_card")" + s.credential_args(civil_affairs()))));
  REQUIRE(resumed.code() == 0);
  rec = s.get("case/" + id);
  const int64_t now = static_cast<int64_t>(s.c.time());
  CHECK(std::string(rec["status"].GetString()) == "in_review");
  const int64_t due = now + static_cast<int64_t>(kLimitMs) - used;
  CHECK(rec["due"].GetInt64() == due);
  CHECK((*event(resumed, "case_resumed"))["due"].GetInt64() == due);
  CHECK(s.deadline_pending("case/" + id));

  // Not a millisecond early; then overdue, escalated to the supervisor.
  CHECK(fired(s.c.block_at(static_cast<uint64_t>(due) - 1, {})).empty());
  CHECK_FALSE(s.get("case/" + id)["overdue"].GetBool());
  auto b = s.c.block_at(static_cast<uint64_t>(due), {});
  auto f = fired(b);
  REQUIRE(f.size() == 1);
  CHECK(f[0].code() == 0);
  const auto* ev = event(f[0], "case_overdue");
  REQUIRE(ev);
  CHECK(std::string((*ev)["supervisor"].GetString()) == supervisor().did());
  CHECK(std::string((*ev)["department"].GetString()) == civil_affairs().did());
  CHECK(std::string((*ev)["matter"].GetString()) == "residence");
  CHECK((*ev)["due"].GetInt64() == due);
  rec = s.get("case/" + id);
  CHECK(rec["overdue"].GetBool());
  CHECK(std::string(rec["status"].GetString()) == "in_review");  // unchanged
}

TEST_CASE("approval: an unanswered question escalates at its deadline") {
  ApprovalChain s;
  auto id = s.open_at_window();
  CHECK(s.code(s.ask(id, housing())) == ledger::kCodeForbidden);
  CHECK(s.code(s.ask(id, civil_affairs(), "no_such")) == ledger::kCodeNotFound);
  check_bad(s, s.ask(id, civil_affairs(), "bad:id"), "question");
  auto r = s.run(s.ask(id, civil_affairs()));
  REQUIRE(r.code() == 0);
  const auto* asked = event(r, "question_asked");
  REQUIRE(asked);
  CHECK(std::string((*asked)["authority"].GetString()) == police().did());
  const int64_t due = (*asked)["due"].GetInt64();
  CHECK(due == static_cast<int64_t>(s.c.time() + kWithinMs));
  CHECK(s.code(s.ask(id, civil_affairs())) == ledger::kCodeConflict);  // pending
  // Recording an answer that is not on chain is 5.
  CHECK(s.code(s.record(id, civil_affairs(), std::string(64, 'c'))) == ledger::kCodeNotFound);

  CHECK(fired(s.c.block_at(static_cast<uint64_t>(due) - 1, {})).empty());
  auto b = s.c.block_at(static_cast<uint64_t>(due) + 5, {});
  auto f = fired(b);
  REQUIRE(f.size() == 1);
  const auto* ev = event(f[0], "question_overdue");
  REQUIRE(ev);
  CHECK(std::string((*ev)["question"].GetString()) == "no_record");
  CHECK(std::string((*ev)["authority"].GetString()) == police().did());
  CHECK(std::string(s.get("question/" + id + "/no_record")["status"].GetString()) == "overdue");

  // Asked again, answered late: the answer is recorded and the deadline cancelled.
  s.ok(s.ask(id, civil_affairs()));
  CHECK(s.deadline_pending("q/" + id + "/no_record"));
  auto commitment = s.answer(id, civil_affairs());
  // An answer addressed to another department does not count here.
  CHECK(s.code(s.record(id, civil_affairs(), s.answer(id, housing(), false))) ==
        ledger::kCodeNotFound);
  s.ok(s.record(id, civil_affairs(), commitment));
  auto qr = s.get("question/" + id + "/no_record");
  CHECK(std::string(qr["status"].GetString()) == "answered");
  CHECK(qr["valid_until"].GetInt64() ==
        qr["answered_at"].GetInt64() + static_cast<int64_t>(kValidMs));
  CHECK_FALSE(s.deadline_pending("q/" + id + "/no_record"));
  CHECK(s.code(s.record(id, civil_affairs(), commitment)) == ledger::kCodeConflict);
  CHECK(s.code(s.ask(id, civil_affairs())) == ledger::kCodeConflict);
}

TEST_CASE("approval: an answer is reused only with consent and while valid") {
  ApprovalChain s;
  auto first = s.open_at_window();
  s.answered(first, civil_affairs());
  auto second = s.open_at_window();
  auto reuse = [&](const identity::KeyPair& k) {
    return s.tx(k, "reuse_answer",
                s.case_arg(second, R"(,"question":"no_record","from_case":)" + q(first)));
  };
  auto consent = [&](const identity::KeyPair& k, std::string_view c, std::string_view from) {
    return s.tx(k, "consent_reuse",
                s.case_arg(c, R"(,"question":"no_record","from_case":)" + q(from)));
  };
  CHECK(s.code(reuse(civil_affairs())) == kApprovalCodeNoConsent);
  CHECK(s.code(consent(civil_affairs(), second, first)) == ledger::kCodeForbidden);
  CHECK(s.code(consent(mother(), second, std::string(32, 'e'))) == ledger::kCodeNotFound);
  // Another applicant's case cannot be the source.
  auto strangers = s.ok(s.tx(window_clerk(), "open_case",
                             R"({"matter":"residence","applicant":)" + q(stranger().did()) + "}"));
  CHECK(s.code(consent(mother(), second, strangers)) == ledger::kCodeForbidden);
  // A consent names its source: another case's consent does not cover this one.
  auto third = s.open_at_window();
  s.ok(consent(mother(), second, third));
  CHECK(s.code(reuse(civil_affairs())) == kApprovalCodeNoConsent);
  s.ok(consent(mother(), second, first));
  CHECK(s.code(reuse(housing())) == ledger::kCodeForbidden);
  auto r = s.run(reuse(civil_affairs()));
  REQUIRE(r.code() == 0);
  CHECK(event(r, "answer_reused"));
  auto qr = s.get("question/" + second + "/no_record");
  CHECK(std::string(qr["status"].GetString()) == "answered");
  CHECK(std::string(qr["reused_from"].GetString()) == first);
  CHECK(std::string(qr["commitment"].GetString()) ==
        s.get("question/" + first + "/no_record")["commitment"].GetString());
  CHECK(s.code(reuse(civil_affairs())) == ledger::kCodeConflict);

  // A source never answered is 5; an expired answer is 102.
  auto fourth = s.open_at_window();
  s.ok(consent(mother(), fourth, third));
  CHECK(s.code(s.tx(civil_affairs(), "reuse_answer",
                    s.case_arg(fourth, R"(,"question":"no_record","from_case":)" + q(third)))) ==
        ledger::kCodeNotFound);
  s.ok(consent(mother(), third, second));
  s.c.block_at(static_cast<uint64_t>(qr["valid_until"].GetInt64()), {});
  CHECK(s.code(s.tx(civil_affairs(), "reuse_answer",
                    s.case_arg(third, R"(,"question":"no_record","from_case":)" + q(second)))) ==
        kApprovalCodeAnswerExpired);
}

TEST_CASE("approval: a daughter acts for her mother within the grant's matters") {
  ApprovalChain s;
  const std::string open = R"({"matter":"residence"})";
  // No grant: the executor refuses with 4.
  CHECK(s.code(s.tx_for(daughter(), mother(), "open_case", open)) == ledger::kCodeForbidden);
  auto grant = [&](std::string matters) {
    return s.c.tx(mother(), "delegation", "grant",
                  R"({"delegate":)" + q(daughter().did()) + R"(,"scope":["approval"],"expires":)" +
                      std::to_string(s.c.time() + 30 * kDayMs) + matters + "}");
  };
  s.ok(grant(R"(,"matters":["pension"])"));
  CHECK(s.code(s.tx_for(daughter(), mother(), "open_case", open)) == kApprovalCodeNotInScope);
  // The mother's own case is out of that grant's reach too.
  auto own = s.ok(s.tx(mother(), "open_case", open));
  CHECK(s.code(s.tx_for(daughter(), mother(), "withdraw", s.case_arg(own))) ==
        kApprovalCodeNotInScope);

  s.ok(grant(R"(,"matters":["residence"])"));
  auto id = s.ok(s.tx_for(daughter(), mother(), "open_case", open));
  auto rec = s.get("case/" + id);
  CHECK(std::string(rec["applicant"].GetString()) == mother().did());
  CHECK(std::string(rec["sender"].GetString()) == daughter().did());
  CHECK(std::string(rec["status"].GetString()) == "submitted");
  s.ok(s.tx(window_clerk(), "accept_case", s.case_arg(id)));
  s.ok(s.tx_for(daughter(), mother(), "add_material",
                s.case_arg(id, R"(,"material":"lease","hash":)" + q(s.anchored("lease d")))));
  CHECK(std::string(s.get("material/" + id + "/lease")["sender"].GetString()) == daughter().did());
  // Acting for herself, the daughter is not the applicant.
  CHECK(s.code(s.tx(daughter(), "withdraw", s.case_arg(id))) == ledger::kCodeForbidden);
  s.ok(grant(""));  // every matter
  s.ok(s.tx_for(daughter(), mother(), "withdraw", s.case_arg(id)));
  CHECK(s.status(id) == "withdrawn");
  CHECK_FALSE(s.deadline_pending("case/" + id));
  CHECK(s.code(s.tx(mother(), "withdraw", s.case_arg(id))) == ledger::kCodeConflict);
}

TEST_CASE(
    "approval: a complete case routes through two departments to approval and a certificate") {
  ApprovalChain s;
  auto id = s.open_at_window();
  CHECK(s.code(s.tx(civil_affairs(), "approve", s.case_arg(id))) == kApprovalCodeIncomplete);
  s.give_materials(id);
  s.verify_all(id, civil_affairs());
  CHECK(s.code(s.tx(civil_affairs(), "approve", s.case_arg(id))) == kApprovalCodeIncomplete);
  s.answered(id, civil_affairs());
  CHECK(s.code(s.tx(housing(), "approve", s.case_arg(id))) == ledger::kCodeForbidden);
  auto r = s.run(s.tx(civil_affairs(), "approve", s.case_arg(id)));
  REQUIRE(r.code() == 0);
  CHECK(std::string((*event(r, "case_routed"))["department"].GetString()) == housing().did());
  auto rec = s.get("case/" + id);
  CHECK(std::string(rec["department"].GetString()) == housing().did());
  CHECK(rec["department_index"].GetInt64() == 1);
  CHECK(s.query("waiting", {{"department", civil_affairs().did()}}).keys.empty());
  CHECK(s.query("waiting", {{"department", housing().did()}}).keys ==
        std::vector<std::string>{"case/" + id});
  CHECK(s.code(s.tx(civil_affairs(), "approve", s.case_arg(id))) == ledger::kCodeForbidden);

  auto d = s.run(s.tx(housing(), "approve", s.case_arg(id)));
  REQUIRE(d.code() == 0);
  CHECK(std::string((*event(d, "case_decided"))["decision"].GetString()) == "approved");
  rec = s.get("case/" + id);
  CHECK(std::string(rec["status"].GetString()) == "decided");
  CHECK(std::string(rec["decided_by"].GetString()) == housing().did());
  CHECK_FALSE(s.deadline_pending("case/" + id));
  CHECK(s.query("open", {{"matter", "residence"}}).keys.empty());
  CHECK(s.query("waiting", {{"department", housing().did()}}).keys.empty());
  CHECK(s.code(s.tx(housing(), "approve", s.case_arg(id))) == ledger::kCodeConflict);
  CHECK(s.code(s.tx(mother(), "withdraw", s.case_arg(id))) == ledger::kCodeConflict);

  const std::string cert_hash = to_hex(sha256(std::string_view("eyJ...sd-jwt-vc")));
  auto issue = [&](const identity::KeyPair& k, std::string extra = "") {
    return s.tx(k, "issue_certificate",
                s.case_arg(id, R"(,"hash":)" + q(cert_hash) +
                                   R"(,"status_list":"https://status.example/1","index":)" +
                                   (extra.empty() ? "42" : extra)));
  };
  check_bad(s, issue(housing(), "-1"), "index");
  check_bad(s,
            s.tx(housing(), "issue_certificate",
                 s.case_arg(id, R"(,"hash":"x","status_list":"u","index":1)")),
            "hash");
  check_bad(s,
            s.tx(housing(), "issue_certificate",
                 s.case_arg(
                     id, R"(,"hash":)" + q(cert_hash) + R"(,"status_list":"has space","index":1)")),
            "status_list");
  CHECK(s.code(issue(civil_affairs())) == ledger::kCodeForbidden);
  auto c = s.run(issue(housing()));
  REQUIRE(c.code() == 0);
  CHECK(std::string((*event(c, "certificate_issued"))["hash"].GetString()) == cert_hash);
  auto decided = s.get("case/" + id);  // kept: the object below points into it
  auto cert = decided["certificate"].GetObject();
  CHECK(std::string(cert["hash"].GetString()) == cert_hash);
  CHECK(cert["index"].GetInt64() == 42);
  CHECK(s.code(issue(housing())) == ledger::kCodeConflict);

  // Rated once by the applicant.
  auto rate = [&](const identity::KeyPair& k, std::string_view score) {
    return s.tx(k, "rate", s.case_arg(id, R"(,"score":)" + std::string(score)));
  };
  check_bad(s, rate(mother(), "6"), "score");
  CHECK(s.code(rate(stranger(), "5")) == ledger::kCodeForbidden);
  auto rr = s.run(rate(mother(), "5"));
  REQUIRE(rr.code() == 0);
  CHECK(s.get("case/" + id)["rating"].GetInt64() == 5);
  CHECK(s.code(rate(mother(), "4")) == kApprovalCodeAlreadyRated);
}

TEST_CASE("approval: reject with a reason from the matter; a service matter gets no certificate") {
  ApprovalChain s;
  std::string service = matter_args("library_card", "[" + q(civil_affairs().did()) + "]");
  service.replace(service.find(R"("kind":"approval")"), 17, R"("kind":"service")");
  s.ok(s.tx(catalogue(), "define_matter", service));
  auto id = s.open_at_window("library_card");
  CHECK(s.code(s.tx(mother(), "rate", s.case_arg(id, R"(,"score":3)"))) == ledger::kCodeConflict);
  check_bad(s, s.tx(civil_affairs(), "reject", s.case_arg(id, R"(,"reason":"bored")")), "reason");
  check_bad(s, s.tx(civil_affairs(), "reject", s.case_arg(id)), "reason");
  auto r = s.run(s.tx(civil_affairs(), "reject", s.case_arg(id, R"(,"reason":"ineligible")")));
  REQUIRE(r.code() == 0);
  const auto* ev = event(r, "case_decided");
  CHECK(std::string((*ev)["decision"].GetString()) == "rejected");
  CHECK(std::string((*ev)["reason"].GetString()) == "ineligible");
  auto rec = s.get("case/" + id);
  CHECK(std::string(rec["decision"].GetString()) == "rejected");
  CHECK(std::string(rec["reason"].GetString()) == "ineligible");
  CHECK(s.code(s.tx(civil_affairs(), "issue_certificate",
                    s.case_arg(id, R"(,"hash":)" + q(std::string(64, 'a')) +
                                       R"(,"status_list":"https://s/1","index":1)"))) ==
        ledger::kCodeConflict);

  auto svc = s.open_at_window("library_card");
  s.complete(svc);
  s.ok(s.tx(civil_affairs(), "approve", s.case_arg(svc)));
  CHECK(s.status(svc) == "decided");
  CHECK(s.code(s.tx(civil_affairs(), "issue_certificate",
                    s.case_arg(svc, R"(,"hash":)" + q(std::string(64, 'a')) +
                                        R"(,"status_list":"https://s/1","index":1)"))) ==
        ledger::kCodeConflict);
}

TEST_CASE("approval: queries by applicant, department and matter; events are strict JSON") {
  ApprovalChain s;
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(s.open_at_window());
  std::sort(ids.begin(), ids.end());
  auto p1 = s.query("cases", {{"applicant", mother().did()}}, "", 2);
  REQUIRE(p1.keys.size() == 2);
  CHECK(p1.keys[0] == "case/" + ids[0]);
  auto p2 = s.query("cases", {{"applicant", mother().did()}}, p1.next, 2);
  CHECK(p2.keys == std::vector<std::string>{"case/" + ids[2]});
  CHECK(s.query("cases", {{"applicant", stranger().did()}}).keys.empty());
  auto app = s.c.exec().app("approval");
  CHECK(app->query("cases", {}, "", 10, s.c.index()).status().code() == "query.bad_param");
  CHECK(app->query("open", {{"matter", "a/b"}}, "", 10, s.c.index()).status().code() ==
        "query.bad_param");
  CHECK(app->query("everything", {}, "", 10, s.c.index()).status().code() == "query.unknown");

  auto b = s.c.block({s.ask(ids[0], civil_affairs())});
  for (const auto& r : b.results) CHECK(ledger::parse_strict(ledger::jcs(r.events())).is_ok());
}

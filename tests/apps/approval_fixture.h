// A chain with the approval, answers and delegation apps for the approval
// tests: the public actors hold their roles from genesis, a matter with two
// departments, two materials and one question is defined, and helpers drive
// a case through its ops.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "apps/answers.h"
#include "apps/approval.h"
#include "base/sha256.h"
#include "identity/base64url.h"
#include "identity/sealed.h"
#include "ledger/delegation.h"
#include "ledger/genesis.h"
#include "tests/apps/chain_fixture.h"

namespace imi::apps::testing {

inline identity::KeyPair mother() { return key(10); }
inline identity::KeyPair daughter() { return key(11); }  // a delegate
inline identity::KeyPair stranger() { return key(12); }
inline identity::KeyPair catalogue() { return key(40); }
inline identity::KeyPair window_clerk() { return key(41); }
inline identity::KeyPair civil_affairs() { return key(50); }  // department 1
inline identity::KeyPair housing() { return key(51); }        // department 2
inline identity::KeyPair police() { return key(60); }         // an answering authority
inline identity::KeyPair supervisor() { return key(70); }

inline constexpr uint64_t kDayMs = 86400000;
inline constexpr uint64_t kLimitMs = 10 * kDayMs;  // the matter's statutory limit
inline constexpr uint64_t kWithinMs = 2 * kDayMs;  // the question's deadline
inline constexpr uint64_t kValidMs = 30 * kDayMs;  // how long an answer stays valid

inline std::string q(std::string_view s) { return "\"" + std::string(s) + "\""; }

inline std::string approval_genesis(std::string params) {
  std::string roles = R"(,"roles":[)";
  auto role = [](std::string_view r, const identity::KeyPair& k) {
    return R"({"role":)" + q(r) + R"(,"did":)" + q(k.did()) + "}";
  };
  roles += role("catalogue", catalogue()) + "," + role("window", window_clerk()) + "," +
           role("department", civil_affairs()) + "," + role("department", housing()) + "," +
           role("authority", police()) + "]";
  if (!params.empty()) roles += R"(,"apps":{"approval":)" + params + "}";
  return roles;
}

inline std::vector<std::unique_ptr<ledger::App>> approval_apps() {
  std::vector<std::unique_ptr<ledger::App>> apps;
  apps.push_back(std::make_unique<ApprovalApp>());
  apps.push_back(std::make_unique<AnswersApp>());
  apps.push_back(std::make_unique<ledger::DelegationApp>());
  return apps;
}

// The args of the standard matter "residence" (kind approval) with optional
// overrides appended as raw members (they must not repeat a member).
inline std::string matter_args(std::string_view id = "residence", std::string_view departments = "",
                               std::string_view questions = "") {
  std::string deps = departments.empty()
                         ? "[" + q(civil_affairs().did()) + "," + q(housing().did()) + "]"
                         : std::string(departments);
  std::string qs = questions.empty()
                       ? R"([{"id":"no_record","text":"Has the applicant no criminal record?",)"
                         R"("authority":)" +
                             q(police().did()) + R"(,"within_ms":)" + std::to_string(kWithinMs) +
                             R"(,"valid_for_ms":)" + std::to_string(kValidMs) + "}]"
                       : std::string(questions);
  return R"({"matter":)" + q(id) +
         R"(,"name":"Residence permit","kind":"approval","departments":)" + deps +
         R"(,"materials":[{"id":"lease","kind":"document","doc_type":"lease_contract"},)"
         R"({"id":"id_card","kind":"credential","credential_type":"ResidentId",)"
         R"("claims":["name"],"predicates":["age_over_18"]}],"questions":)" +
         qs + R"(,"reasons":["incomplete","ineligible"],"time_limit_ms":)" +
         std::to_string(kLimitMs) + R"(,"supervisor":)" + q(supervisor().did()) +
         R"(,"statutes":["residence-act-12"]})";
}

struct ApprovalChain {
  Chain c;
  explicit ApprovalChain(std::string params = "")
      : c(1, approval_genesis(std::move(params)), approval_apps(), true) {
    // The authority's account exists before it signs answers.
    c.block({c.tx(police(), "anchor", "anchor", R"({"hash":")" + std::string(64, '0') + "\"}")});
    ok(tx(catalogue(), "define_matter", matter_args()));
  }

  ledger::Transaction tx(const identity::KeyPair& k, std::string_view op, std::string_view args) {
    return c.tx(k, "approval", op, args);
  }
  ledger::Transaction tx_for(const identity::KeyPair& k, const identity::KeyPair& principal,
                             std::string_view op, std::string_view args) {
    return c.tx_for(k, principal.did(), "approval", op, args);
  }
  ledger::TxResult run(ledger::Transaction t) { return c.run_one(std::move(t)); }
  int64_t code(ledger::Transaction t) { return run(std::move(t)).code(); }
  std::string ok(ledger::Transaction t) { return c.ok_id(std::move(t)); }
  rapidjson::Document get(std::string_view key) { return c.get_doc("approval", key); }
  bool has(std::string_view key) { return get(key).IsObject(); }
  std::string status(std::string_view case_id) {
    auto d = get("case/" + std::string(case_id));
    return d.IsObject() ? d["status"].GetString() : "";
  }
  bool deadline_pending(std::string_view key) {
    auto d = c.state()->get("deadline", "by/approval/" + std::string(key));
    return d.is_ok() && d->has_value();
  }
  ledger::QueryPage query(std::string_view name, ledger::QueryParams p, std::string cursor = "",
                          size_t limit = 100) {
    auto r = c.exec().app("approval")->query(name, p, cursor, limit, c.index());
    INFO(r.status().to_string());
    REQUIRE(r.is_ok());
    return std::move(r).value();
  }

  // A case the window opens for the mother: in_review at once.
  std::string open_at_window(std::string_view matter = "residence") {
    return ok(tx(window_clerk(), "open_case",
                 R"({"matter":)" + q(matter) + R"(,"applicant":)" + q(mother().did()) +
                     R"(,"window":"east-gate"})"));
  }
  std::string case_arg(std::string_view id, std::string extra = "") {
    return R"({"case":)" + q(id) + extra + "}";
  }
  // Anchors a document and returns its hash hex.
  std::string anchored(std::string_view text) {
    std::string h = to_hex(sha256(text));
    ok(c.tx(mother(), "anchor", "anchor", R"({"hash":)" + q(h) + "}"));
    return h;
  }
  // The credential material's args: a box sealed to `dept` and its commitment.
  std::string credential_args(const identity::KeyPair& dept) {
    rapidjson::Document opening(rapidjson::kObjectType);
    opening.AddMember("presentation", "eyJhbGciOiJFZERTQSJ9.e30.sig~", opening.GetAllocator());
    const std::string salt(64, 'b');
    opening.AddMember("salt", rapidjson::StringRef(salt.c_str()), opening.GetAllocator());
    std::string commitment = to_hex(sha256(ledger::jcs(opening)));
    auto box = identity::seal(dept.public_key(), as_bytes(ledger::jcs(opening))).value();
    return R"(,"sealed":)" + q(identity::base64url_encode(ByteView(box.data(), box.size()))) +
           R"(,"commitment":)" + q(commitment);
  }
  // The mother gives both materials (the lease anchored as `lease_text`).
  void give_materials(std::string_view id, std::string_view lease_text = "lease v1") {
    ok(tx(mother(), "add_material",
          case_arg(id, R"(,"material":"lease","hash":)" + q(anchored(lease_text)))));
    ok(tx(mother(), "add_material",
          case_arg(id, R"(,"material":"id_card")" + credential_args(civil_affairs()))));
  }
  void verify_all(std::string_view id, const identity::KeyPair& dept) {
    for (std::string_view m : {"lease", "id_card"})
      ok(tx(dept, "verify_material", case_arg(id, R"(,"material":)" + q(m) + R"(,"ok":true)")));
  }
  ledger::Transaction ask(std::string_view id, const identity::KeyPair& dept,
                          std::string_view question = "no_record") {
    return tx(dept, "ask", case_arg(id, R"(,"question":)" + q(question)));
  }
  // The police answer "<case>:<question>" to `dept`; the commitment hex.
  std::string answer(std::string_view id, const identity::KeyPair& dept, bool yes = true,
                     std::string_view question = "no_record") {
    AnswerOpening o{std::string(id) + ":" + std::string(question), std::string(question), yes, {}};
    o.salt[0] = 7;
    auto args = make_answer_args(police(), o, dept.did(), dept.public_key());
    REQUIRE(args.is_ok());
    auto r = c.block({c.tx(police(), "answers", "answer", ledger::jcs(*args))}).results.front();
    INFO(r.message());
    REQUIRE(r.code() == 0);
    return (*args)["answer"]["commitment"].GetString();
  }
  ledger::Transaction record(std::string_view id, const identity::KeyPair& dept,
                             std::string_view commitment, std::string_view question = "no_record") {
    return tx(dept, "record_answer",
              case_arg(id, R"(,"question":)" + q(question) + R"(,"commitment":)" + q(commitment)));
  }
  // Asks and records a yes answer by `dept`.
  void answered(std::string_view id, const identity::KeyPair& dept) {
    ok(ask(id, dept));
    ok(record(id, dept, answer(id, dept)));
  }
  // Everything the first department needs before approving.
  void complete(std::string_view id) {
    give_materials(id);
    verify_all(id, civil_affairs());
    answered(id, civil_affairs());
  }
  // Approved through both departments.
  void approved(std::string_view id) {
    complete(id);
    ok(tx(civil_affairs(), "approve", case_arg(id)));
    ok(tx(housing(), "approve", case_arg(id)));
  }
};

// The first event of `type` in `r`, or null.
inline const rapidjson::Value* event(const ledger::TxResult& r, std::string_view type) {
  for (const auto& e : r.events().GetArray())
    if (e.HasMember("type") && std::string_view(e["type"].GetString()) == type) return &e;
  return nullptr;
}

// The fired deadline results of a block.
inline std::vector<ledger::TxResult> fired(const ledger::ExecutedBlock& b) {
  std::vector<ledger::TxResult> out;
  for (const auto& r : b.results)
    if (r.deadline()) out.push_back(r);
  return out;
}

inline void check_bad(ApprovalChain& s, ledger::Transaction t, std::string_view field,
                      int64_t code = ledger::kCodeBadArgs) {
  auto r = s.run(std::move(t));
  INFO(r.message());
  CHECK(r.code() == code);
  CHECK(r.message().find(field) != std::string::npos);
}

}  // namespace imi::apps::testing

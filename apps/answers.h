// Yes/no answers (DESIGN "Ask the question, not the data"): a department
// asks an authority a question about a resident in a case; the authority
// answers from its own data. On chain only a salted commitment to the
// answer, the authority's `answer` signature over it and a sealed box that
// only the department can open; the department (and an auditor it shows the
// opening to) checks the opening against the chain.
//
// Opening (off chain, sealed to the department's key):
//   {"answer":bool,"case":id,"question":text,"salt":hex64}
// commitment = SHA-256(JCS(opening)).
// Op (app "answers"), sent by anyone (usually the authority):
//   answer {"answer": S, "sealed": base64url}
//     S = {"authority":did,"authority_key":hex64,"case":id,"commitment":hex64,
//          "department":did,"sig":hex128}, signed over Domain::kAnswer by
//     authority_key, a current account key of an authority (kAnswerRoles);
//     department holds the role "department"; case is 1..64 of
//     [A-Za-z0-9._:-]; sealed at most kAnswerSealedBytesMax bytes decoded.
// State "answer/<case>/<commitment>" {"authority","department","height","time"};
// event {"type":"answered","case"}.
// Codes: 2, 3, 4 (authority or department lacks its role), 6 (the same
// commitment already answered), kAnswerCodeBadSignature (100).
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "identity/keys.h"
#include "ledger/app.h"

namespace imi::apps {

constexpr std::string_view kAnswersApp = "answers";
constexpr int64_t kAnswerCodeBadSignature = 100;
constexpr size_t kAnswerSealedBytesMax = 1024;
constexpr std::string_view kAnswerRoles[] = {"authority", "registrar", "credit_issuer",
                                             "party_organisation"};

class AnswersApp : public ledger::App {
 public:
  std::string_view name() const override { return kAnswersApp; }
  Result<ledger::TxOutcome> check(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                  const ledger::StateReader& state) const override;
  Result<ledger::TxOutcome> apply(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                  ledger::AppState& state) const override;
};

struct AnswerOpening {
  std::string case_id;
  std::string question;
  bool answer = false;
  Hash32 salt{};
};

// True for 1..64 of [A-Za-z0-9._:-].
bool is_valid_case_id(std::string_view id);
Hash32 answer_commitment(const AnswerOpening& opening);

// The args of an "answer" transaction: the opening (salt fresh from the OS if
// zero) committed, signed by `authority` and sealed to `department_key`.
// answers.bad_request for a bad case id or question over 512 bytes;
// sealed.bad_key for an invalid department key.
Result<rapidjson::Document> make_answer_args(const identity::KeyPair& authority,
                                             AnswerOpening opening, std::string_view department_did,
                                             const identity::PublicKey& department_key);

// Opens the sealed box of an answer with the department's key.
// sealed.cannot_open, or answers.bad_opening if the contents are malformed.
Result<AnswerOpening> open_answer(const identity::KeyPair& department, std::string_view sealed_b64);

// Whether the chain holds an answer committing to `opening` for its case,
// and by which authority to which department (nullopt if none).
struct AnswerRecord {
  std::string authority, department;
  uint64_t height = 0;
};
Result<std::optional<AnswerRecord>> find_answer(const ledger::StateReader& state,
                                                const AnswerOpening& opening);

}  // namespace imi::apps

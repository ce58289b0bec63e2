// Consent and the access log (DESIGN "Consent"): a department reads a
// resident's data only under a consent the resident signed; every read is
// logged on chain as a salted commitment whose opening is sealed to the
// resident and to an auditor, so an auditor can check that each read had a
// consent while the chain says nothing of what was read. The resident
// appears only under the (per-department) DID that signed the consent.
//
// Consent object, signed by the resident over Domain::kConsent:
//   {"attributes":[name...],"department":did,"key":hex64,"purpose":text,
//    "resident":did,"until":ms,"sig":hex128}
// with key a current account key of resident, 1..16 attribute names of
// [a-z0-9_] up to 32 chars, purpose at most 256 bytes. Its id is
// hex SHA-256(JCS(consent with sig)).
// Ops (app "consent"):
//   grant  {"consent": C}   by the resident or the department; until must be
//                           after the block time
//   revoke {"consent": id}  by the resident
//   read   {"consent": id, "attributes":[...], "commitment":hex64,
//           "sealed":{"resident":b64url,"auditor"?:b64url}} by the department
// Reads are refused (kConsentCodeNoConsent) without a consent of that id, or
// when it is revoked or its `until` has passed at block time, and
// (kConsentCodeNotCovered) for attributes the consent does not name.
// State "consent/<id>" {"attributes","department","purpose","resident","until",
//   "revoked"?}; "read/<id>/<tx id>" {"commitment","height","time"}.
// Events {"type":"consented"|"consent_revoked","consent":id},
//        {"type":"read","consent":id}.
// Codes: 2, 3, 4 (sender is not the party the op needs, or the department
// lacks the role "department"), 6 (consent exists), kConsentCodeNoConsent
// (100), kConsentCodeNotCovered (101), kConsentCodeBadSignature (102).
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "identity/keys.h"
#include "ledger/app.h"

namespace imi::apps {

constexpr std::string_view kConsentApp = "consent";
constexpr int64_t kConsentCodeNoConsent = 100;
constexpr int64_t kConsentCodeNotCovered = 101;
constexpr int64_t kConsentCodeBadSignature = 102;

class ConsentApp : public ledger::App {
 public:
  std::string_view name() const override { return kConsentApp; }
  Result<ledger::TxOutcome> check(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                  const ledger::StateReader& state) const override;
  Result<ledger::TxOutcome> apply(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                  ledger::AppState& state) const override;
};

struct ConsentTerms {
  std::string department;
  std::vector<std::string> attributes;
  std::string purpose;
  uint64_t until_ms = 0;
};

// The signed consent object of `resident` (its did() and public key).
rapidjson::Document make_consent(const identity::KeyPair& resident, const ConsentTerms& terms);
// hex SHA-256(JCS(consent)).
std::string consent_id(const rapidjson::Value& consent);

// What a logged read commits to; sealed to the resident and the auditor.
struct ReadOpening {
  std::string consent;                  // id
  std::vector<std::string> attributes;  // what was read
  std::string case_id;                  // the department's own reference
  Hash32 salt{};
};
Hash32 read_commitment(const ReadOpening& opening);
// The args of a "read": commitment plus the opening sealed to the resident
// (and to the auditor when given). A zero salt is replaced by a fresh one.
Result<rapidjson::Document> make_read_args(ReadOpening opening,
                                           const identity::PublicKey& resident_key,
                                           const identity::PublicKey* auditor_key);
// Opens a sealed read opening (resident or auditor).
Result<ReadOpening> open_read(const identity::KeyPair& recipient, std::string_view sealed_b64);

}  // namespace imi::apps

// Consent and the access log (DESIGN "Consent"): a department reads a
// resident's data only under a consent the resident signed, or under a
// lawful basis that the access record names and flags for auditors. Every
// read is logged on chain as a salted commitment whose opening is sealed to
// the resident and to an auditor, so an auditor can check that each read had
// a consent or a basis while the chain says nothing of what was read. The
// resident appears only under the (per-department) DID that signed the
// consent or that a lawful read names.
//
// The rules depend on the chain's genesis "rules_version" (DESIGN
// "upgrades": old blocks replay under their own rules). init_genesis writes
// "consent"/"rules" {"version":n} when n >= 2; its absence means version 1,
// so a version-1 chain's genesis state root is what it always was.
// docs/consent.md, "Migration: consent format (rules version 2)".
//
// == Rules version 2 (the format of new chains) ==
// Nothing about the terms is on chain in clear. Each attribute name has its
// own salt; its commitment is
//   attribute commitment = hex SHA-256(JCS({"name":name,"salt":hex64}))
// and the terms (attribute openings plus purpose) are committed as
//   terms = hex SHA-256(JCS({"attributes":[{"name","salt"}...],
//                             "purpose":text,"salt":hex64}))
// the "terms opening", sealed (identity/sealed.h) to the department and
// optionally to an auditor. The resident keeps it in their wallet.
// Consent object, signed by the resident over Domain::kConsent (unchanged):
//   {"attribute_commitments":[hex64...],  1..16, strictly ascending
//    "department":did,"key":hex64,"resident":did,
//    "sealed":{"department":b64url,"auditor"?:b64url},   the terms opening
//    "terms":hex64,"until":ms,"v":2,"sig":hex128}
// Its id is hex SHA-256(JCS(consent with sig)), as in version 1.
// Read opening (what a read commits to, sealed to the resident and auditor):
//   {"attributes":[{"name","salt"}...],   the read attributes' openings
//    "consent":id | "basis":statute,      exactly one
//    "case":text,"salt":hex64}
//   commitment = hex SHA-256(JCS(read opening)).
// Ops (app "consent"):
//   grant  {"consent": C}   by the resident or the department (which holds the
//                           role "department"); until after the block time
//   revoke {"consent": id}  by the resident
//   read   {"consent": id, "attribute_commitments":[hex64...], "commitment":hex64,
//           "sealed":{"resident":b64url,"auditor"?:b64url}}   by the department;
//          every named commitment must be one of the consent's, so the chain
//          enforces coverage without learning a name
//   read_lawful {"basis": statute, "resident": did,
//           "attribute_commitments":[hex64...], "commitment":hex64,
//           "sealed":{"resident":b64url,"auditor":b64url}}   by a DID holding
//          the role "department", without a consent; statute ids are 1..64 of
//          [A-Za-z0-9._-]; the auditor's box is required
// Sealed boxes are base64url of at most 4096 characters.
// State:
//   "rules"                 {"version":2}
//   "consent/<id>"          {"attribute_commitments","department","resident",
//                            "terms","until","v":2,"revoked"?:height}
//   "access/<resident>/<height, 16 digits>/<tx id>"
//                           {"attribute_commitments","commitment",
//                            "consent":id | "basis":statute,"flagged":true,
//                            "department","height","sealed","time"}
//   "flagged/<department>/<height, 16 digits>/<tx id>" {"access": state key}
// Events {"type":"consented"|"consent_revoked"|"read","consent":id},
//        {"type":"read_lawful","basis":statute,"department":did}.
// Queries (indexed): "flagged" ?department=did (optional): every lawful-basis
// access (the access records' keys), ordered by department DID, then oldest
// first;
// "accesses" ?resident=did: every access record addressed to that DID, oldest
// first, holding the boxes sealed to the resident.
//
// == Rules version 1 (chains whose genesis has no "rules_version" or 1) ==
// Kept byte for byte for replay; new chains do not use it.
//   consent {"attributes":[name...],"department","key","purpose","resident",
//            "until","sig"}; names 1..16 of [a-z0-9_]{1,32}, purpose <= 256 bytes
//   read {"consent": id, "attributes":[name...], "commitment":hex64,
//         "sealed":{"resident","auditor"?}} (boxes <= 2048 characters), opening
//   {"attributes":[name...],"case","consent","salt"}
//   State "consent/<id>" {"attributes","department","purpose","resident",
//   "until","revoked"?}; "read/<id>/<tx id>" {"commitment","height","time"}.
//   read_lawful does not exist (code 2). Each format is refused under the
//   other version's rules (code 3).
//
// Codes: 2, 3, 4 (sender is not the party the op needs, or the department
// lacks the role "department"), 5 (revoke: no such consent), 6 (consent
// exists, already revoked), kConsentCodeNoConsent (100: none, revoked or
// expired), kConsentCodeNotCovered (101), kConsentCodeBadSignature (102).
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
// The first genesis rules_version with committed consent terms.
constexpr uint64_t kConsentRulesCommitted = 2;

class ConsentApp : public ledger::App {
 public:
  std::string_view name() const override { return kConsentApp; }
  Status init_genesis(const ledger::Genesis& genesis, ledger::AppState& state) const override;
  Result<ledger::TxOutcome> check(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                  const ledger::StateReader& state) const override;
  Result<ledger::TxOutcome> apply(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                  ledger::AppState& state) const override;
  bool indexed() const override { return true; }
  Result<ledger::QueryPage> query(std::string_view name, const ledger::QueryParams& params,
                                  std::string_view cursor, size_t limit,
                                  const ledger::IndexReader& index) const override;
  std::vector<std::string> query_names() const override { return {"accesses", "flagged"}; }
};

// The consent rules in force: "consent"/"rules" version, 1 when absent.
Result<uint64_t> consent_rules_version(const ledger::StateReader& state);

// What a resident agrees to (both versions).
struct ConsentTerms {
  std::string department;
  std::vector<std::string> attributes;
  std::string purpose;
  uint64_t until_ms = 0;
};

// ---- Rules version 2 ----

struct AttributeOpening {
  std::string name;
  Hash32 salt{};
};
// SHA-256(JCS({"name","salt"})).
Hash32 attribute_commitment(const AttributeOpening& a);

struct TermsOpening {
  std::vector<AttributeOpening> attributes;
  std::string purpose;
  Hash32 salt{};
};
// SHA-256(JCS(terms opening)).
Hash32 terms_commitment(const TermsOpening& t);

// A signed version-2 consent and the opening of its terms (kept by the
// resident's wallet). Every salt is fresh.
struct SignedConsent {
  rapidjson::Document consent;
  TermsOpening terms;
  std::string id;  // consent_id(consent)
};
// The terms are sealed to `department_key` (the department's DID key) and,
// when given, to `auditor_key`. consent.bad_terms for names, purpose or
// sizes the chain would refuse; sealed.bad_key for a bad recipient key.
Result<SignedConsent> make_consent(const identity::KeyPair& resident, const ConsentTerms& terms,
                                   const identity::PublicKey& department_key,
                                   const identity::PublicKey* auditor_key);
// Opens a consent's sealed terms (department or auditor) and checks them
// against the consent's commitments: consent.bad_opening when they differ.
Result<TermsOpening> open_terms(const identity::KeyPair& recipient, const rapidjson::Value& consent,
                                std::string_view sealed_b64);
// Whether `t` opens the consent object or its state record ("terms" and the
// attribute commitments, as a set).
bool terms_match(const TermsOpening& t, const rapidjson::Value& consent);

// What a logged read commits to; sealed to the resident and the auditor.
// Exactly one of consent (a consent read) and basis (a lawful read).
struct ReadOpening {
  std::string consent;  // id
  std::string basis;    // statute id
  std::vector<AttributeOpening> attributes;
  std::string case_id;  // the department's own reference
  Hash32 salt{};
};
Hash32 read_commitment(const ReadOpening& opening);
// A consent read of `names`, their openings taken from the consent's terms:
// consent.not_in_terms for a name the terms do not hold.
Result<ReadOpening> consent_read(const TermsOpening& terms, std::string consent_id,
                                 const std::vector<std::string>& names, std::string case_id);
// A lawful read of `names` under `basis` (fresh attribute salts).
ReadOpening lawful_read(std::string basis, const std::vector<std::string>& names,
                        std::string case_id);
// The args of a "read" (opening.consent set) or "read_lawful" (opening.basis
// set; `resident` and `auditor_key` required): attribute commitments,
// commitment, and the opening sealed to the resident and the auditor. A zero
// salt is replaced by a fresh one. consent.bad_read for an opening the chain
// would refuse.
Result<rapidjson::Document> make_read_args(ReadOpening opening, std::string_view resident,
                                           const identity::PublicKey& resident_key,
                                           const identity::PublicKey* auditor_key);
// Opens a sealed read opening (resident or auditor).
Result<ReadOpening> open_read(const identity::KeyPair& recipient, std::string_view sealed_b64);
// Whether `o` opens the access record `access` (state "access/..."): its
// commitment, attribute commitments and consent or basis.
bool read_matches(const ReadOpening& o, const rapidjson::Value& access);

// ---- Rules version 1 (old chains; kept for replay and their clients) ----

// The signed version-1 consent object (terms in clear).
rapidjson::Document make_consent_v1(const identity::KeyPair& resident, const ConsentTerms& terms);
// hex SHA-256(JCS(consent)), either version.
std::string consent_id(const rapidjson::Value& consent);

struct ReadOpeningV1 {
  std::string consent;                  // id
  std::vector<std::string> attributes;  // what was read
  std::string case_id;
  Hash32 salt{};
};
Hash32 read_commitment_v1(const ReadOpeningV1& opening);
Result<rapidjson::Document> make_read_args_v1(ReadOpeningV1 opening,
                                              const identity::PublicKey& resident_key,
                                              const identity::PublicKey* auditor_key);
Result<ReadOpeningV1> open_read_v1(const identity::KeyPair& recipient, std::string_view sealed_b64);

}  // namespace imi::apps

// The identity app (DESIGN "Applications"): the registry of did:imi
// identities, their keys and status, and the issuers' status lists.
// Nothing personal is stored: a DID is a hash of a key, guardians are salted
// commitments, and a credential appears only as a status-list entry at an
// index only its holder's credential names.
//
// Ops (app "identity"):
//   register   {"attestation": A}
//     A = {"type":"register","did":D,"key":hex64,"guardians":[hex64...],
//          "registrar":R,"registrar_key":hex64,"sig":hex128}, signed by R
//     (role "registrar", registrar_key one of R's current account keys) over
//     Domain::kAttestation. The sender must be D signing with `key` (possession);
//     guardians are guardian_commitment(G, salt) of at most kGuardiansMax DIDs.
//   rotate     {"add"?: hex64, "remove"?: [n...]}  by D with a current key;
//              a key once used by D can never be added again
//   freeze     {"did": D}   by a registrar: at once, D's account has no current
//              key (its transactions are refused) until it recovers
//   recover    {"did": D, "key": hex64, "approvals"?: [P...]}
//     P = {"type":"recover","did":D,"key":hex64,"recovery":k,"by":A,
//          "signer":hex64,"guardian_salt"?:hex64,"sig"} signed by A (signer one
//     of A's current account keys) over Domain::kAttestation; k is D's number
//     of past recoveries, so an approval is never replayed. A sender holding
//     the registrar role counts as an approval itself. Approvals accumulate
//     across transactions (state "recovery/<D>"); when two distinct approvers
//     include a registrar (two registrars, or a registrar and a guardian named
//     at registration) every old key is revoked, `key` becomes D's only key
//     (in the account record the executor's sender rule reads) and D is active.
//   deactivate {"did"?: D}  by D itself or by a registrar: final
//   status_list_create {"list": id, "size": n}  by an active registered DID
//              holding an issuer role (kIssuerRoles); id is [a-z0-9_-]{1,32}
//   status_list_update {"list": id, "updates": [[idx, status]...]} by its owner;
//              status 0 valid, 1 invalid (final), 2 suspended
// State: "did/<D>"  {"status","keys":[{"n","key","added","revoked"?}],
//                    "guardians":[hex64],"registrar","registered","recoveries"}
//        "recovery/<D>" {"key","recovery","approvals":[{"by","as"}]}
//        "list/<issuer>/<id>" (apps/identity_registry_status.h)
// Events: {"type":"registered"|"rotated"|"frozen"|"recovered"|
//          "recovery_approved"|"deactivated","did"}.
//
// Result codes: 2, 3, 4 (sender lacks the role or is not D), 5 (no such DID
// or list), 6 (already registered / list exists), and
//   kIdCodeNotActive 100       D is frozen or deactivated (or not active for
//                              the op), or the issuer is not active
//   kIdCodeBadAttestation 101  attestation or approval signature/signer invalid
//   kIdCodeKeyUsed 102         the key is or was a key of D
//   kIdCodeFinalStatus 103     a revoked (invalid) credential cannot change
//   kIdCodeOutOfRange 104      a status index beyond the list
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "identity/keys.h"
#include "identity/sdjwt_verify.h"
#include "ledger/app.h"

namespace imi::apps {

constexpr std::string_view kIdentityApp = "identity";
constexpr int64_t kIdCodeNotActive = 100;
constexpr int64_t kIdCodeBadAttestation = 101;
constexpr int64_t kIdCodeKeyUsed = 102;
constexpr int64_t kIdCodeFinalStatus = 103;
constexpr int64_t kIdCodeOutOfRange = 104;
constexpr size_t kGuardiansMax = 4;
constexpr size_t kDidKeysMax = 16;  // current keys (the account limit)
constexpr size_t kKeyHistoryMax = 64;
constexpr std::string_view kRegistrarRole = "registrar";
// Roles that may keep status lists and issue credentials.
constexpr std::string_view kIssuerRoles[] = {"registrar", "credential_issuer", "party_organisation",
                                             "credit_issuer", "authority"};

struct DidKeyRecord {
  uint64_t n = 0;  // kid "<did>#key-<n>"
  identity::PublicKey key{};
  uint64_t added = 0;               // height
  std::optional<uint64_t> revoked;  // height
};

struct DidRecord {
  identity::sdjwt::DidStatus status = identity::sdjwt::DidStatus::kActive;
  std::vector<DidKeyRecord> keys;  // history, by n
  std::vector<Hash32> guardians;
  std::string registrar;
  uint64_t registered = 0;
  uint64_t recoveries = 0;
  std::vector<std::pair<uint64_t, identity::PublicKey>> current() const;
};

class IdentityRegistryApp : public ledger::App {
 public:
  std::string_view name() const override { return kIdentityApp; }
  Result<ledger::TxOutcome> check(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                  const ledger::StateReader& state) const override;
  Result<ledger::TxOutcome> apply(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                  ledger::AppState& state) const override;
};

// SHA-256(JCS({"did":guardian,"salt":salt hex})): how a guardian is named.
Hash32 guardian_commitment(std::string_view guardian_did, const Hash32& salt);

// The record of `did`, nullopt if never registered; state.corrupt_value if malformed.
Result<std::optional<DidRecord>> read_did(const ledger::StateReader& state, std::string_view did);

// The W3C DID Core document of `did` with its status and key history
// (compact JSON), nullopt if never registered:
//   {"@context":[...],"id","controller","verificationMethod":[current keys as
//    JsonWebKey2020 with publicKeyJwk],"authentication":[kids],
//    "assertionMethod":[kids],"status":"active"|"frozen"|"deactivated",
//    "keyHistory":[{"id","publicKeyJwk","added","revoked"?}],"registered","registrar"}
// (plus "deactivated": true when deactivated).
Result<std::optional<std::string>> did_document(const ledger::StateReader& state,
                                                std::string_view did);

// Whether `did` holds any of kIssuerRoles.
Result<bool> is_issuer(const ledger::StateReader& state, std::string_view did);

}  // namespace imi::apps

// Verification of SD-JWT VC presentations (RFC 9901 §7, SD-JWT VC), with the
// on-chain facts supplied through a Resolver so the verifier runs with or
// without a chain (apps/identity_registry_resolver.h reads them from state).
//
// verify() always answers with every check's outcome, in this order:
//   format             the compact form, JWS headers and payload parse; typ is
//                      dc+sd-jwt or vc+sd-jwt, alg EdDSA, _sd_alg sha-256
//   issuer_signature   the JWS kid is iss#key-N, a current key of an active
//                      issuer DID, and the signature verifies under it
//   disclosures        every disclosure is a well-formed [salt,name,value]
//                      (or [salt,value] in an array) whose digest appears
//                      exactly once in the payload, none names a reserved or
//                      existing claim
//   duplicate_digests  no digest appears twice (in _sd arrays, array
//                      elements or among the disclosures)
//   key_binding        a KB-JWT with typ kb+jwt, alg EdDSA, signed by the cnf key
//   sd_hash            KB-JWT sd_hash = base64url(SHA-256(the SD-JWT up to its last '~'))
//   audience           KB-JWT aud equals the expected audience
//   nonce              KB-JWT nonce equals the expected nonce
//   freshness          KB-JWT iat within [now - max_age, now + skew]
//   validity_period    nbf <= now + skew and now < exp + skew (when present)
//   holder_key         cnf (kid, or jwk with a kid) names a key of the holder's
//                      DID that is current now (a recovered DID's old key fails)
//   did_status         the holder's DID is registered and active (not frozen
//                      or deactivated)
//   credential_status  the status list entry is valid (not invalid/suspended)
// A check that could not run because an earlier one failed reports ok=false
// with detail "not checked". Verification::ok is true only if all pass.
// Thread-safe if the resolver is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "identity/keys.h"
#include "identity/sdjwt.h"
#include "identity/status_list.h"

namespace imi::identity::sdjwt {

enum class DidStatus { kUnknown, kActive, kFrozen, kDeactivated };
std::string_view did_status_name(DidStatus s);  // "unknown", "active", ...

// A DID's status and its current keys, by key number N (kid "#key-N").
struct DidKeys {
  DidStatus status = DidStatus::kUnknown;
  std::vector<std::pair<uint64_t, PublicKey>> current;
  std::optional<PublicKey> key(uint64_t n) const;
};

// The facts a verifier needs from the chain. Errors mean the source failed
// (storage), not that the answer is negative.
class Resolver {
 public:
  virtual ~Resolver() = default;
  // Status and current keys of `did` (kUnknown, no keys, if never registered).
  virtual Result<DidKeys> did_keys(std::string_view did) const = 0;
  // The entry `ref` names; nullopt if no such list or index out of range.
  virtual Result<std::optional<CredentialStatus>> credential_status(const StatusRef& ref) const = 0;
};

struct Expectations {
  std::string aud;
  std::string nonce;
  int64_t now = 0;                  // seconds since the Unix epoch
  int64_t max_age_s = 300;          // oldest acceptable KB-JWT
  int64_t clock_skew_s = 60;        // tolerance for clocks running ahead
  bool require_key_binding = true;  // false: a holder checking its own credential
};

struct CheckResult {
  std::string name;
  bool ok = false;
  std::string detail;
};

struct Verification {
  bool ok = false;
  std::vector<CheckResult> checks;
  std::string issuer;
  std::string vct;
  std::string holder_kid;
  std::string holder_did;
  std::optional<StatusRef> status;
  std::vector<std::string> disclosed;  // names of the claims disclosed, in order
  std::string claims_json;             // the payload with disclosures applied, no _sd/_sd_alg
  const CheckResult* check(std::string_view name) const;
  // {"ok":bool,"checks":[{"name","ok","detail"}...],"claims":{...}}
  std::string to_json() const;
};

// Verifies a presentation (or, with require_key_binding false, an issued
// SD-JWT). Returns an error only if the resolver failed.
Result<Verification> verify(std::string_view presentation, const Expectations& expect,
                            const Resolver& resolver);

}  // namespace imi::identity::sdjwt

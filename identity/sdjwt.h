// SD-JWT VCs (RFC 9901 "Selective Disclosure for JWTs" and
// draft-ietf-oauth-sd-jwt-vc): issuance and presentation. Verification is in
// identity/sdjwt_verify.h.
//
// Issued form (compact):  <issuer-signed JWT>~<disclosure>~...~<disclosure>~
// Presented form:         <issuer-signed JWT>~<chosen disclosures>~<KB-JWT>
//
// The issuer-signed JWT: header {"alg":"EdDSA","typ":"dc+sd-jwt"|"vc+sd-jwt",
// "kid": issuer DID + "#key-N"}, payload {"iss": issuer DID, "vct", "iat",
// "nbf"?, "exp"?, "cnf", "status"?, "_sd_alg":"sha-256", "_sd":[digests],
// plain claims...}, signed with Ed25519 (KeyPair::sign_raw over the JWS
// signing input). Every selectively disclosable claim is a disclosure
// base64url(JSON [salt, name, value]) with a fresh 128-bit random salt; its
// digest is base64url(SHA-256(ASCII disclosure)). _sd is sorted and padded
// with decoy digests so its length says nothing about the claims.
// cnf names one of the holder's DID keys: {"kid":"did:imi:...#key-N"}, or
// {"jwk":{"kty":"OKP","crv":"Ed25519","x":...,"kid":"did:imi:...#key-N"}}.
// status (Token Status List): {"status_list":{"idx":n,"uri":...}}.
//
// Times are seconds since the Unix epoch (JWT NumericDate). Thread-safe: all
// functions are pure apart from the random source.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "identity/keys.h"

namespace imi::identity::sdjwt {

constexpr std::string_view kTypDc = "dc+sd-jwt";
constexpr std::string_view kTypVc = "vc+sd-jwt";
constexpr std::string_view kTypKb = "kb+jwt";
constexpr size_t kSaltBytes = 16;  // 128 bits, fresh per claim
// Upper bounds on what this module accepts (bytes / counts).
constexpr size_t kSdJwtBytesMax = 64 * 1024;
constexpr size_t kDisclosuresMax = 256;

// A claim: its name and its value as compact JSON text ("\"Li Wei\"", "true").
struct Claim {
  std::string name;
  std::string value_json;
};
Claim string_claim(std::string name, std::string_view value);
Claim bool_claim(std::string name, bool value);

struct StatusRef {
  std::string uri;
  uint64_t idx = 0;
};

// Fills a buffer with random bytes; default is libsodium's randombytes_buf.
// Tests and vectors pass a deterministic one.
using RandomSource = std::function<void(uint8_t* out, size_t n)>;

struct IssueRequest {
  std::string typ = std::string(kTypDc);
  std::string vct;         // credential type, e.g. "imi:resident"
  std::string issuer;      // iss: the issuer's DID
  std::string issuer_kid;  // JWS kid: issuer DID + "#key-N"
  int64_t iat = 0;
  std::optional<int64_t> nbf;
  std::optional<int64_t> exp;
  std::string holder_kid;               // did:imi:...#key-N of the holder
  std::optional<PublicKey> holder_jwk;  // if set, cnf carries a jwk with holder_kid as its kid
  std::optional<StatusRef> status;
  std::vector<Claim> disclosable;  // each becomes a disclosure
  std::vector<Claim> plain;        // always visible (e.g. none for residents)
  size_t decoys = 3;               // decoy digests added to _sd
  RandomSource random;             // empty: OS randomness
};

// Issues an SD-JWT VC signed by `issuer_key`. sdjwt.bad_request if a claim
// value is not JSON, a name is reserved (iss, vct, iat, nbf, exp, cnf,
// status, _sd, _sd_alg, "...") or repeated, or a kid is not "did:imi:<hex>#key-N".
Result<std::string> issue(const KeyPair& issuer_key, const IssueRequest& request);

// Predicate claims an issuer computes from its own records ("ask the
// question, not the data"): age_over_18 and age_over_60 from a birth date
// "YYYY-MM-DD" as of `as_of` (Unix seconds, UTC), and resident_of = district.
// sdjwt.bad_request if the date is not a valid calendar date.
Result<std::vector<Claim>> predicate_claims(std::string_view birth_date, int64_t as_of,
                                            std::string_view district);

struct PresentRequest {
  std::vector<std::string> disclose;  // claim names to reveal; others stay hidden
  std::string aud;                    // the verifier
  std::string nonce;                  // the verifier's challenge
  int64_t iat = 0;                    // when the holder presents
};

// Builds a presentation: the issuer JWT, the disclosures whose claim names are
// in request.disclose, and a KB-JWT signed by `holder_key` over
// {"iat","aud","nonce","sd_hash"}. sdjwt.malformed if `sd_jwt` is not an
// issued SD-JWT; sdjwt.bad_request if a requested claim is not disclosable.
Result<std::string> present(std::string_view sd_jwt, const KeyPair& holder_key,
                            const PresentRequest& request);

// The parts of a compact SD-JWT.
struct Parts {
  std::string jwt;
  std::vector<std::string> disclosures;
  std::optional<std::string> kb_jwt;
  std::string sd_jwt_for_hash;  // everything up to and including the last '~'
};
// Splits `text`; sdjwt.malformed if it has no '~' or an empty disclosure.
Result<Parts> split(std::string_view text);

// base64url(SHA-256(ASCII(disclosure))): a disclosure's digest.
std::string disclosure_digest(std::string_view disclosure);

// "did:imi:<40 hex>#key-<N>" -> (did, N); nullopt otherwise.
struct Kid {
  std::string did;
  uint64_t n = 0;
};
std::optional<Kid> parse_kid(std::string_view kid);
std::string make_kid(std::string_view did, uint64_t n);

}  // namespace imi::identity::sdjwt

#include "identity/keys.h"

#include <sodium.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "base/sha256.h"

namespace imi::identity {
namespace {

static_assert(crypto_sign_PUBLICKEYBYTES == 32);
static_assert(crypto_sign_SECRETKEYBYTES == 64);
static_assert(crypto_sign_SEEDBYTES == 32);
static_assert(crypto_sign_BYTES == 64);

// libsodium must be initialised once before use (it picks implementations and
// seeds its random source). Failure means the process cannot do cryptography
// at all, which no caller can recover from.
void ensure_sodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) std::abort();
  });
}

constexpr std::string_view kDidPrefix = "did:imi:";
constexpr size_t kDidHashBytes = 20;

}  // namespace

std::string_view domain_tag(Domain d) {
  switch (d) {
    case Domain::kTx:
      return "IMI/tx/v1";
    case Domain::kProposal:
      return "IMI/proposal/v1";
    case Domain::kVote:
      return "IMI/vote/v1";
    case Domain::kCheckpoint:
      return "IMI/checkpoint/v1";
    case Domain::kViewChange:
      return "IMI/viewchange/v1";
    case Domain::kNewView:
      return "IMI/newview/v1";
    case Domain::kHandshake:
      return "IMI/handshake/v1";
    case Domain::kApproval:
      return "IMI/approval/v1";
    case Domain::kAttestation:
      return "IMI/attestation/v1";
    case Domain::kConsent:
      return "IMI/consent/v1";
    case Domain::kAnswer:
      return "IMI/answer/v1";
  }
  std::abort();  // not a Domain value: a programming error, never input
}

std::string signed_bytes(Domain d, std::string_view canonical_json) {
  std::string_view tag = domain_tag(d);
  std::string out;
  out.reserve(tag.size() + 1 + canonical_json.size());
  out.append(tag);
  out.push_back('\n');
  out.append(canonical_json);
  return out;
}

KeyPair KeyPair::generate() {
  ensure_sodium();
  Seed seed;
  randombytes_buf(seed.data(), seed.size());
  KeyPair k = from_seed(seed);
  sodium_memzero(seed.data(), seed.size());
  return k;
}

KeyPair KeyPair::from_seed(const Seed& seed) {
  ensure_sodium();
  KeyPair k;
  k.seed_ = seed;
  crypto_sign_seed_keypair(k.public_key_.data(), k.secret_key_.data(), seed.data());
  return k;
}

KeyPair::~KeyPair() {
  sodium_memzero(seed_.data(), seed_.size());
  sodium_memzero(secret_key_.data(), secret_key_.size());
}

std::string KeyPair::did() const { return did_from_key(public_key_); }

Signature KeyPair::sign(Domain d, std::string_view canonical_json) const {
  return sign_raw(as_bytes(signed_bytes(d, canonical_json)));
}

Signature KeyPair::sign_raw(ByteView message) const {
  Signature sig;
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), secret_key_.data());
  return sig;
}

bool verify(Domain d, const PublicKey& key, std::string_view canonical_json, const Signature& sig) {
  return verify_raw(key, as_bytes(signed_bytes(d, canonical_json)), sig);
}

bool verify_raw(const PublicKey& key, ByteView message, const Signature& sig) {
  ensure_sodium();
  // crypto_sign_verify_detached already rejects non-canonical S, small-order R
  // and small-order or non-canonical keys; is_valid_public_key additionally
  // rejects keys with a torsion component, so one key has one meaning.
  if (!is_valid_public_key(key)) return false;
  return crypto_sign_verify_detached(sig.data(), message.data(), message.size(), key.data()) == 0;
}

bool is_valid_public_key(const PublicKey& key) {
  // The main-subgroup check inside crypto_core_ed25519_is_valid_point costs
  // more than a signature verification, and the same keys (validators,
  // active senders) are checked again and again. So each thread remembers
  // keys that passed, in a 4-way set-associative table of 16,384 keys
  // (~540 KiB a thread), each set evicting its least recently used key: a
  // district's active senders fit, where a direct-mapped table of 1,024 keys
  // measured ~60% misses with 1,000 senders. Only successes are stored and
  // the check is a pure function, so the cache cannot change an answer.
  constexpr size_t kWays = 4;
  constexpr size_t kSets = 4096;
  struct Set {
    std::array<PublicKey, kWays> keys{};
    std::array<uint8_t, kWays> used{};  // 0: empty; else recency, kWays = newest
  };
  thread_local std::vector<Set> cache(kSets);
  uint32_t index;
  std::memcpy(&index, key.data(), sizeof index);  // keys are uniformly distributed
  Set& set = cache[index % kSets];
  auto touch = [&set](size_t way) {
    for (size_t w = 0; w < kWays; ++w) {
      if (set.used[w] > set.used[way]) --set.used[w];
    }
    set.used[way] = kWays;
  };
  for (size_t w = 0; w < kWays; ++w) {
    if (set.used[w] != 0 && set.keys[w] == key) {
      touch(w);
      return true;
    }
  }
  ensure_sodium();
  if (crypto_core_ed25519_is_valid_point(key.data()) != 1) return false;
  size_t victim = 0;
  for (size_t w = 1; w < kWays; ++w) {
    if (set.used[w] < set.used[victim]) victim = w;
  }
  set.keys[victim] = key;
  if (set.used[victim] == 0) set.used[victim] = 1;  // enters as oldest, then touched
  touch(victim);
  return true;
}

std::string did_from_key(const PublicKey& key) {
  Hash32 h = sha256(ByteView(key.data(), key.size()));
  std::string did(kDidPrefix);
  did += to_hex(ByteView(h.data(), kDidHashBytes));
  return did;
}

bool is_valid_did(std::string_view did) {
  return did.size() == kDidPrefix.size() + 2 * kDidHashBytes && did.starts_with(kDidPrefix) &&
         is_lower_hex(did.substr(kDidPrefix.size()), 2 * kDidHashBytes);
}

}  // namespace imi::identity

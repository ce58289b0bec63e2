#include "identity/keys.h"

#include <doctest/doctest.h>
#include <sodium.h>

#include <set>
#include <string>
#include <vector>

#include "base/bytes.h"

namespace imi::identity {
namespace {

template <size_t N>
std::array<uint8_t, N> hex(std::string_view h) {
  auto v = from_hex_fixed<N>(h);
  REQUIRE(v.has_value());
  return *v;
}

// The group order L, little-endian.
constexpr std::array<uint8_t, 32> kOrderL = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};

// The same signature with S replaced by S + L (same value mod L, non-canonical).
Signature add_order_to_s(const Signature& sig) {
  Signature out = sig;
  unsigned carry = 0;
  for (size_t i = 0; i < 32; ++i) {
    unsigned sum = out[32 + i] + kOrderL[i] + carry;
    out[32 + i] = static_cast<uint8_t>(sum);
    carry = sum >> 8;
  }
  REQUIRE(carry == 0);  // S < L < 2^253, so S + L still fits in 32 bytes
  return out;
}

struct Rfc8032Vector {
  const char* seed;
  const char* public_key;
  const char* message;
  const char* signature;
};

// RFC 8032 section 7.1, TEST 1 and TEST 2.
constexpr Rfc8032Vector kRfc8032[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9"
     "b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f1"
     "1d8c387b2eaeb4302aeeb00d291612bb0c00"},
};

constexpr Domain kAllDomains[] = {
    Domain::kTx,          Domain::kProposal, Domain::kVote,      Domain::kCheckpoint,
    Domain::kViewChange,  Domain::kNewView,  Domain::kHandshake, Domain::kApproval,
    Domain::kAttestation, Domain::kConsent,  Domain::kAnswer,
};

TEST_CASE("sign_raw reproduces RFC 8032 test vectors 1 and 2") {
  for (const auto& v : kRfc8032) {
    CAPTURE(v.seed);
    KeyPair k = KeyPair::from_seed(hex<32>(v.seed));
    CHECK(to_hex(k.public_key()) == v.public_key);
    auto msg = from_hex(v.message);
    REQUIRE(msg.has_value());
    Signature sig = k.sign_raw(*msg);
    CHECK(to_hex(sig) == v.signature);
    CHECK(verify_raw(k.public_key(), *msg, sig));
    CHECK(verify_raw(hex<32>(v.public_key), *msg, hex<64>(v.signature)));
  }
}

TEST_CASE("domain tags are exactly IMI/<kind>/v1 and all distinct") {
  CHECK(domain_tag(Domain::kTx) == "IMI/tx/v1");
  CHECK(domain_tag(Domain::kProposal) == "IMI/proposal/v1");
  CHECK(domain_tag(Domain::kVote) == "IMI/vote/v1");
  CHECK(domain_tag(Domain::kCheckpoint) == "IMI/checkpoint/v1");
  CHECK(domain_tag(Domain::kViewChange) == "IMI/viewchange/v1");
  CHECK(domain_tag(Domain::kNewView) == "IMI/newview/v1");
  CHECK(domain_tag(Domain::kHandshake) == "IMI/handshake/v1");
  CHECK(domain_tag(Domain::kApproval) == "IMI/approval/v1");
  CHECK(domain_tag(Domain::kAttestation) == "IMI/attestation/v1");
  CHECK(domain_tag(Domain::kConsent) == "IMI/consent/v1");
  CHECK(domain_tag(Domain::kAnswer) == "IMI/answer/v1");
  std::set<std::string_view> tags;
  for (Domain d : kAllDomains) tags.insert(domain_tag(d));
  CHECK(tags.size() == std::size(kAllDomains));
}

TEST_CASE("signed_bytes is the tag, one newline, then the canonical JSON") {
  CHECK(signed_bytes(Domain::kTx, R"({"a":1})") == "IMI/tx/v1\n{\"a\":1}");
  CHECK(signed_bytes(Domain::kVote, "") == "IMI/vote/v1\n");
}

TEST_CASE("a domain signature matches one computed independently (PyNaCl)") {
  KeyPair k = KeyPair::from_seed(hex<32>(kRfc8032[0].seed));
  // /usr/bin/python3: SigningKey(seed).sign(b'IMI/tx/v1\n{"a":1}').signature.hex()
  Signature sig = k.sign(Domain::kTx, R"({"a":1})");
  CHECK(to_hex(sig) ==
        "94956218c53b98e909beff9d73488e4b55d09ff32c613832f648d1b6e96fe0de4d46d96e493c34b63bc4fcb8"
        "87fad7c45317f3896e6ab36872051c3d07584409");
  CHECK(verify(Domain::kTx, k.public_key(), R"({"a":1})", sig));
}

TEST_CASE("a signature for one domain verifies under no other") {
  KeyPair k = KeyPair::generate();
  const std::string msg = R"({"chain":"imi-test","height":7})";
  for (Domain signed_as : kAllDomains) {
    Signature sig = k.sign(signed_as, msg);
    for (Domain checked_as : kAllDomains) {
      CHECK(verify(checked_as, k.public_key(), msg, sig) == (signed_as == checked_as));
    }
  }
  Signature tx_sig = k.sign(Domain::kTx, msg);
  CHECK_FALSE(verify(Domain::kVote, k.public_key(), msg, tx_sig));
  // Nor as a raw signature over the bare JSON.
  CHECK_FALSE(verify_raw(k.public_key(), as_bytes(msg), tx_sig));
}

TEST_CASE("tampered messages, signatures and keys fail verification") {
  KeyPair k = KeyPair::generate();
  KeyPair other = KeyPair::generate();
  const std::string msg = R"({"amount":10,"to":"bob"})";
  Signature sig = k.sign(Domain::kTx, msg);
  REQUIRE(verify(Domain::kTx, k.public_key(), msg, sig));

  CHECK_FALSE(verify(Domain::kTx, k.public_key(), R"({"amount":11,"to":"bob"})", sig));
  CHECK_FALSE(verify(Domain::kTx, k.public_key(), msg + " ", sig));
  CHECK_FALSE(verify(Domain::kTx, other.public_key(), msg, sig));
  for (size_t i = 0; i < sig.size(); ++i) {
    Signature bad = sig;
    bad[i] ^= 0x01;
    CAPTURE(i);
    CHECK_FALSE(verify(Domain::kTx, k.public_key(), msg, bad));
  }
  CHECK_FALSE(verify(Domain::kTx, k.public_key(), msg, Signature{}));
}

TEST_CASE("a non-canonical S (S + L) is rejected") {
  KeyPair k = KeyPair::from_seed(hex<32>(kRfc8032[1].seed));
  auto msg = from_hex(kRfc8032[1].message);
  REQUIRE(msg.has_value());
  Signature sig = k.sign_raw(*msg);
  REQUIRE(verify_raw(k.public_key(), *msg, sig));
  CHECK_FALSE(verify_raw(k.public_key(), *msg, add_order_to_s(sig)));

  Signature dsig = k.sign(Domain::kVote, "{}");
  REQUIRE(verify(Domain::kVote, k.public_key(), "{}", dsig));
  CHECK_FALSE(verify(Domain::kVote, k.public_key(), "{}", add_order_to_s(dsig)));
}

TEST_CASE("small-order public keys are invalid and verify nothing") {
  const char* small_order[] = {
      "0000000000000000000000000000000000000000000000000000000000000000",  // y = 0 (order 4)
      "0100000000000000000000000000000000000000000000000000000000000000",  // identity
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // y = -1 (order 2)
      "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  // order 8
  };
  for (const char* h : small_order) {
    CAPTURE(h);
    PublicKey key = hex<32>(h);
    CHECK_FALSE(is_valid_public_key(key));
  }
  // With A = R = identity and S = 0, [S]B = R + [h]A holds for every message:
  // only the small-order check stops this "signature" from verifying.
  PublicKey identity = hex<32>(small_order[1]);
  Signature forged{};
  forged[0] = 0x01;
  CHECK_FALSE(verify_raw(identity, as_bytes(std::string_view("anything")), forged));
  CHECK_FALSE(verify(Domain::kTx, identity, "{}", forged));
}

TEST_CASE("non-canonical public key encodings (y >= p) are invalid") {
  // p = 2^255 - 19; encodings of y = p + k for k in [0, 18] name y = k twice.
  for (unsigned k = 0; k <= 18; ++k) {
    PublicKey key;
    key.fill(0xff);
    key[0] = static_cast<uint8_t>(0xed + k);
    key[31] = 0x7f;
    CAPTURE(k);
    CHECK_FALSE(is_valid_public_key(key));
  }
}

TEST_CASE("a key with a torsion component is rejected even where libsodium's verify accepts") {
  // A' = A + T (T of order 8) with A = aB. Signing with R = rB, S = r + h*a
  // satisfies [S]B = R + [h]A' whenever h = 0 (mod 8), so about one try in 8
  // yields a signature that crypto_sign_verify_detached alone accepts.
  Seed seed = hex<32>(kRfc8032[0].seed);
  std::array<uint8_t, 64> expanded;
  crypto_hash_sha512(expanded.data(), seed.data(), seed.size());
  expanded[0] &= 248;
  expanded[31] &= 127;
  expanded[31] |= 64;
  std::array<uint8_t, 32> a;
  std::array<uint8_t, 64> wide{};
  std::copy(expanded.begin(), expanded.begin() + 32, wide.begin());
  crypto_core_ed25519_scalar_reduce(a.data(), wide.data());
  PublicKey base_key;
  REQUIRE(crypto_scalarmult_ed25519_base_noclamp(base_key.data(), a.data()) == 0);
  REQUIRE(base_key == KeyPair::from_seed(seed).public_key());
  PublicKey order8 = hex<32>("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05");
  PublicKey mixed;
  REQUIRE(crypto_core_ed25519_add(mixed.data(), base_key.data(), order8.data()) == 0);
  CHECK_FALSE(is_valid_public_key(mixed));

  bool forged = false;
  for (int attempt = 0; attempt < 1000 && !forged; ++attempt) {
    std::string body = "{\"n\":" + std::to_string(attempt) + "}";
    std::string msg = signed_bytes(Domain::kTx, body);
    std::array<uint8_t, 32> r;
    crypto_core_ed25519_scalar_random(r.data());
    Signature sig;
    REQUIRE(crypto_scalarmult_ed25519_base_noclamp(sig.data(), r.data()) == 0);
    crypto_hash_sha512_state st;
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, sig.data(), 32);
    crypto_hash_sha512_update(&st, mixed.data(), mixed.size());
    crypto_hash_sha512_update(&st, reinterpret_cast<const uint8_t*>(msg.data()), msg.size());
    std::array<uint8_t, 64> h_wide;
    crypto_hash_sha512_final(&st, h_wide.data());
    std::array<uint8_t, 32> h, ha;
    crypto_core_ed25519_scalar_reduce(h.data(), h_wide.data());
    crypto_core_ed25519_scalar_mul(ha.data(), h.data(), a.data());
    crypto_core_ed25519_scalar_add(sig.data() + 32, r.data(), ha.data());
    if (crypto_sign_verify_detached(sig.data(), reinterpret_cast<const uint8_t*>(msg.data()),
                                    msg.size(), mixed.data()) == 0) {
      forged = true;
      CHECK_FALSE(verify(Domain::kTx, mixed, body, sig));
    }
  }
  CHECK(forged);
}

TEST_CASE("the per-thread cache of valid keys never changes an answer") {
  // Keys that share the cache set of a valid key (same first four bytes) but
  // are off the curve or outside the main subgroup must still be rejected.
  KeyPair k = KeyPair::generate();
  REQUIRE(is_valid_public_key(k.public_key()));
  int rejected = 0;
  for (unsigned i = 0; i < 256; ++i) {
    PublicKey variant = k.public_key();
    variant[10] = static_cast<uint8_t>(i);
    bool expected = crypto_core_ed25519_is_valid_point(variant.data()) == 1;
    CAPTURE(i);
    CHECK(is_valid_public_key(variant) == expected);
    CHECK(is_valid_public_key(k.public_key()));
    CHECK(is_valid_public_key(variant) == expected);
    rejected += expected ? 0 : 1;
  }
  CHECK(rejected > 0);
}

TEST_CASE("the valid-key cache evicts within a set and still answers right") {
  // Six valid keys that fall in one 4-way set of the cache (its index is the
  // low 12 bits of the key's first four bytes, little-endian) evict each
  // other; each stays valid and an invalid variant of each is still refused.
  auto set_of = [](const PublicKey& k) { return (k[0] | (k[1] << 8)) & 0x0fff; };
  std::vector<PublicKey> same_set;
  const PublicKey first = KeyPair::generate().public_key();
  same_set.push_back(first);
  for (int i = 0; i < 200000 && same_set.size() < 6; ++i) {
    PublicKey k = KeyPair::generate().public_key();
    if (set_of(k) == set_of(first)) same_set.push_back(k);
  }
  REQUIRE(same_set.size() == 6);
  for (int round = 0; round < 3; ++round) {
    for (const PublicKey& k : same_set) {
      CHECK(is_valid_public_key(k));
      PublicKey variant = k;
      variant[5] ^= 0x01;  // same set; on the curve or not, libsodium decides
      CHECK(is_valid_public_key(variant) ==
            (crypto_core_ed25519_is_valid_point(variant.data()) == 1));
    }
  }
}

TEST_CASE("generated keys are distinct, valid and sign") {
  KeyPair a = KeyPair::generate();
  KeyPair b = KeyPair::generate();
  CHECK(a.public_key() != b.public_key());
  CHECK(a.seed() != b.seed());
  CHECK(is_valid_public_key(a.public_key()));
  KeyPair again = KeyPair::from_seed(a.seed());
  CHECK(again.public_key() == a.public_key());
  CHECK(verify(Domain::kHandshake, a.public_key(), "x", again.sign(Domain::kHandshake, "x")));
  KeyPair copy = a;
  CHECK(copy.public_key() == a.public_key());
  CHECK(copy.sign(Domain::kTx, "{}") == a.sign(Domain::kTx, "{}"));
}

TEST_CASE("did_from_key matches an independent computation (hashlib + PyNaCl)") {
  // did:imi: + sha256(public_key)[:20].hex(), public key from nacl.signing.SigningKey(seed).
  CHECK(did_from_key(hex<32>(kRfc8032[0].public_key)) ==
        "did:imi:21fe31dfa154a261626bf854046fd2271b7bed4b");
  Seed counting;
  for (size_t i = 0; i < counting.size(); ++i) counting[i] = static_cast<uint8_t>(i);
  KeyPair k = KeyPair::from_seed(counting);
  CHECK(to_hex(k.public_key()) ==
        "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8");
  CHECK(k.did() == "did:imi:56475aa75463474c0285df5dbf2bcab73da65135");
  CHECK(is_valid_did(k.did()));
}

TEST_CASE("is_valid_did accepts only did:imi: plus 40 lowercase hex characters") {
  CHECK(is_valid_did("did:imi:21fe31dfa154a261626bf854046fd2271b7bed4b"));
  CHECK_FALSE(is_valid_did(""));
  CHECK_FALSE(is_valid_did("did:imi:"));
  CHECK_FALSE(is_valid_did("did:imi:21FE31dfa154a261626bf854046fd2271b7bed4b"));   // uppercase
  CHECK_FALSE(is_valid_did("did:imi:21fe31dfa154a261626bf854046fd2271b7bed4"));    // 39
  CHECK_FALSE(is_valid_did("did:imi:21fe31dfa154a261626bf854046fd2271b7bed4b0"));  // 41
  CHECK_FALSE(is_valid_did("did:IMI:21fe31dfa154a261626bf854046fd2271b7bed4b"));
  CHECK_FALSE(is_valid_did("did:web:21fe31dfa154a261626bf854046fd2271b7bed4b"));
  CHECK_FALSE(is_valid_did("did:imi:21fe31dfa154a261626bf854046fd2271b7bed4g"));
  CHECK_FALSE(is_valid_did(" did:imi:21fe31dfa154a261626bf854046fd2271b7bed4"));
  CHECK_FALSE(
      is_valid_did(std::string_view("did:imi:21fe31dfa154a261626bf854046fd2271b7bed4\0", 48)));
}

}  // namespace
}  // namespace imi::identity

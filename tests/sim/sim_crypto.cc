#include "tests/sim/sim_crypto.h"

#include <sodium.h>

#include <cstring>
#include <string>

#include "base/sha256.h"

namespace imi::sim {

namespace {

std::string tagged(SigKind kind, std::string_view canonical) {
  std::string s(consensus::sig_tag(kind));
  s += '\n';
  s += canonical;
  return s;
}

Signature fast_sig(const std::array<uint8_t, 32>& secret, SigKind kind,
                   std::string_view canonical) {
  std::string msg = tagged(kind, canonical);
  Hash32 a = sha256_concat({ByteView(secret.data(), secret.size()), as_bytes(msg)});
  Hash32 b = sha256_concat({as_bytes(msg), ByteView(secret.data(), secret.size())});
  Signature s{};
  std::memcpy(s.data(), a.data(), 32);
  std::memcpy(s.data() + 32, b.data(), 32);
  return s;
}

class FastSigner : public consensus::Signer {
 public:
  explicit FastSigner(std::array<uint8_t, 32> secret) : secret_(secret) {}
  Signature sign(SigKind kind, std::string_view canonical) override {
    return fast_sig(secret_, kind, canonical);
  }

 private:
  std::array<uint8_t, 32> secret_;
};

class EdSigner : public consensus::Signer {
 public:
  explicit EdSigner(std::array<uint8_t, 64> sk) : sk_(sk) {}
  Signature sign(SigKind kind, std::string_view canonical) override {
    std::string msg = tagged(kind, canonical);
    Signature s{};
    crypto_sign_ed25519_detached(s.data(), nullptr, reinterpret_cast<const uint8_t*>(msg.data()),
                                 msg.size(), sk_.data());
    return s;
  }

 private:
  std::array<uint8_t, 64> sk_;
};

class EdVerifier : public consensus::Verifier {
 public:
  bool verify(const consensus::Validator& v, SigKind kind, std::string_view canonical,
              const Signature& sig) const override {
    std::string msg = tagged(kind, canonical);
    return crypto_sign_ed25519_verify_detached(sig.data(),
                                               reinterpret_cast<const uint8_t*>(msg.data()),
                                               msg.size(), v.key.data()) == 0;
  }
};

}  // namespace

class FastVerifier : public consensus::Verifier {
 public:
  explicit FastVerifier(const KeyRing& ring) : ring_(ring) {}
  bool verify(const consensus::Validator& v, SigKind kind, std::string_view canonical,
              const Signature& sig) const override {
    auto it = ring_.secrets_.find(v.key);
    return it != ring_.secrets_.end() && fast_sig(it->second, kind, canonical) == sig;
  }

 private:
  const KeyRing& ring_;
};

void KeyRing::init_verifier() {
  if (verifier_) return;
  if (ed25519_) {
    verifier_ = std::make_unique<EdVerifier>();
  } else {
    verifier_ = std::make_unique<FastVerifier>(*this);
  }
}

SimKey KeyRing::make(uint64_t seed, uint64_t index) {
  init_verifier();
  SimKey k;
  std::string label = "imi-sim-key/" + std::to_string(seed) + "/" + std::to_string(index);
  Hash32 s = sha256(label);
  if (ed25519_) {
    if (sodium_init() < 0) std::abort();
    crypto_sign_ed25519_seed_keypair(k.public_key.data(), k.ed_secret.data(), s.data());
  } else {
    k.secret = s;
    k.public_key = sha256(ByteView(s.data(), s.size()));
    secrets_[k.public_key] = k.secret;
  }
  Hash32 d = sha256(ByteView(k.public_key.data(), k.public_key.size()));
  k.did = "did:imi:" + to_hex(ByteView(d.data(), 20));
  return k;
}

std::unique_ptr<consensus::Signer> KeyRing::signer(const SimKey& key) const {
  if (ed25519_) return std::make_unique<EdSigner>(key.ed_secret);
  return std::make_unique<FastSigner>(key.secret);
}

}  // namespace imi::sim

// Helpers for consensus unit tests: deterministic validators with a keyed
// SHA-256 stand-in signature that only this verifier accepts.
#pragma once

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "consensus/engine.h"

namespace imi::consensus::testing {

inline Signature stand_in_sig(const Hash32& secret, SigKind kind, std::string_view canonical) {
  std::string msg = std::string(sig_tag(kind)) + "\n" + std::string(canonical);
  Hash32 a = sha256_concat({ByteView(secret.data(), 32), as_bytes(msg)});
  Hash32 b = sha256_concat({as_bytes(msg), ByteView(secret.data(), 32)});
  Signature s{};
  std::memcpy(s.data(), a.data(), 32);
  std::memcpy(s.data() + 32, b.data(), 32);
  return s;
}

class TestSigner : public Signer {
 public:
  explicit TestSigner(Hash32 secret) : secret_(secret) {}
  Signature sign(SigKind kind, std::string_view canonical) override {
    ++count_;
    return stand_in_sig(secret_, kind, canonical);
  }
  int count_ = 0;

 private:
  Hash32 secret_;
};

class TestVerifier : public Verifier {
 public:
  bool verify(const Validator& v, SigKind kind, std::string_view canonical,
              const Signature& sig) const override {
    auto it = secrets_.find(v.key);
    return it != secrets_.end() && stand_in_sig(it->second, kind, canonical) == sig;
  }
  std::map<PublicKey, Hash32> secrets_;
};

struct TestValidator {
  ValidatorId id;
  Hash32 secret{};
  PublicKey key{};
  std::unique_ptr<TestSigner> signer;
};

// n validators sorted by id, so index i is the primary of view i (mod n).
class Committee {
 public:
  explicit Committee(size_t n, const std::string& label = "v") {
    for (size_t i = 0; i < n; ++i) {
      TestValidator v;
      v.secret = sha256(label + std::to_string(i));
      v.key = sha256(ByteView(v.secret.data(), 32));
      Hash32 d = sha256(ByteView(v.key.data(), 32));
      v.id = "did:imi:" + to_hex(ByteView(d.data(), 20));
      v.signer = std::make_unique<TestSigner>(v.secret);
      verifier.secrets_[v.key] = v.secret;
      members.push_back(std::move(v));
    }
    std::sort(members.begin(), members.end(),
              [](const TestValidator& a, const TestValidator& b) { return a.id < b.id; });
    std::vector<Validator> vs;
    for (const auto& m : members) vs.push_back({m.id, m.key});
    set = ValidatorSet::create(vs).value();
  }
  Vote vote(size_t i, uint64_t height, uint64_t view, const Hash32& block, Phase phase) const {
    Vote v{height, view, block, phase, members[i].id, {}};
    v.sig =
        members[i].signer->sign(SigKind::kVote, vote_canonical(chain, height, view, block, phase));
    return v;
  }
  Proposal proposal(size_t i, uint64_t height, uint64_t view, const Bytes& payload) const {
    Proposal p{height, view, sha256(payload), payload, members[i].id, {}};
    p.sig = members[i].signer->sign(
        SigKind::kProposal, proposal_canonical(chain, height, view, p.block, sha256(payload)));
    return p;
  }
  CommitCertificate cert(const std::vector<size_t>& who, uint64_t height, uint64_t view,
                         const Hash32& block) const {
    CommitCertificate c{height, view, block, {}};
    for (size_t i : who) {
      Vote v = vote(i, height, view, block, Phase::kCommit);
      c.sigs.push_back({v.validator, v.sig});
    }
    std::sort(c.sigs.begin(), c.sigs.end(),
              [](const SigEntry& a, const SigEntry& b) { return a.validator < b.validator; });
    return c;
  }
  PreparedCert prepared(const std::vector<size_t>& who, uint64_t height, uint64_t view,
                        const Bytes& payload) const {
    Proposal p = proposal(view % members.size(), height, view, payload);
    PreparedCert pc{view, p.block, payload, p.sig, {}};
    for (size_t i : who) {
      Vote v = vote(i, height, view, p.block, Phase::kPrepare);
      pc.prepares.push_back({v.validator, v.sig});
    }
    std::sort(pc.prepares.begin(), pc.prepares.end(),
              [](const SigEntry& a, const SigEntry& b) { return a.validator < b.validator; });
    return pc;
  }
  ViewChange view_change(size_t i, uint64_t height, uint64_t view,
                         std::optional<PreparedCert> prepared) const {
    ViewChange vc{height, view, members[i].id, std::move(prepared), {}};
    std::optional<PreparedRef> ref;
    if (vc.prepared) ref = PreparedRef{vc.prepared->view, vc.prepared->block};
    vc.sig = members[i].signer->sign(SigKind::kViewChange,
                                     view_change_canonical(chain, height, view, ref));
    return vc;
  }

  std::string chain = "imi-test";
  std::vector<TestValidator> members;
  ValidatorSet set;
  TestVerifier verifier;
};

}  // namespace imi::consensus::testing

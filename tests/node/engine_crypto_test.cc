#include "node/engine_crypto.h"

#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "tests/vectors/vector_common.h"

namespace imi::node {
namespace {

identity::KeyPair key(int n) { return identity::KeyPair::from_seed(vectors::seed(n)); }

consensus::Validator validator(const identity::KeyPair& k) {
  return consensus::Validator{k.did(), k.public_key()};
}

}  // namespace

TEST_CASE("the verifier remembers successes only, and never confuses kind, key or text") {
  const identity::KeyPair k = key(1), other = key(2);
  Ed25519Verifier v;
  Ed25519Signer signer(k);
  const std::string text = R"({"block":"ab","height":3})";
  const consensus::Signature sig = signer.sign(consensus::SigKind::kVote, text);

  CHECK(v.verify(validator(k), consensus::SigKind::kVote, text, sig));
  CHECK(v.remembered_hits() == 0);
  CHECK(v.verify(validator(k), consensus::SigKind::kVote, text, sig));
  CHECK(v.remembered_hits() == 1);

  // Each differs from the remembered success in one input: checked, and false.
  CHECK_FALSE(v.verify(validator(k), consensus::SigKind::kProposal, text, sig));
  CHECK_FALSE(v.verify(validator(other), consensus::SigKind::kVote, text, sig));
  CHECK_FALSE(v.verify(validator(k), consensus::SigKind::kVote, text + " ", sig));
  consensus::Signature bad = sig;
  bad[5] ^= 1;
  CHECK_FALSE(v.verify(validator(k), consensus::SigKind::kVote, text, bad));
  // A failure is not remembered: it fails again, and hits stay as they were.
  CHECK_FALSE(v.verify(validator(k), consensus::SigKind::kVote, text, bad));
  CHECK(v.remembered_hits() == 1);
}

TEST_CASE("the verifier forgets its oldest success beyond its bound") {
  const identity::KeyPair k = key(3);
  Ed25519Signer signer(k);
  Ed25519Verifier v(4);
  std::vector<std::string> texts;
  for (int i = 0; i < 5; ++i) texts.push_back("{\"n\":" + std::to_string(i) + "}");
  for (const auto& t : texts)
    REQUIRE(v.verify(validator(k), consensus::SigKind::kVote, t,
                     signer.sign(consensus::SigKind::kVote, t)));
  CHECK(v.remembered_hits() == 0);
  // 1..4 remembered; 0 was forgotten and is checked again (still true).
  CHECK(v.verify(validator(k), consensus::SigKind::kVote, texts[4],
                 signer.sign(consensus::SigKind::kVote, texts[4])));
  CHECK(v.remembered_hits() == 1);
  CHECK(v.verify(validator(k), consensus::SigKind::kVote, texts[0],
                 signer.sign(consensus::SigKind::kVote, texts[0])));
  CHECK(v.remembered_hits() == 1);
}

TEST_CASE("the verifier answers the same from several threads at once") {
  const identity::KeyPair k = key(4);
  Ed25519Signer signer(k);
  Ed25519Verifier v(64);
  std::vector<std::string> texts;
  std::vector<consensus::Signature> sigs;
  for (int i = 0; i < 32; ++i) {
    texts.push_back("{\"i\":" + std::to_string(i) + "}");
    sigs.push_back(signer.sign(consensus::SigKind::kVote, texts.back()));
  }
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round)
        for (size_t i = 0; i < texts.size(); ++i) {
          consensus::Signature s = sigs[i];
          const bool forge = (i + static_cast<size_t>(t)) % 5 == 0;
          if (forge) s[0] ^= 0x80;
          if (v.verify(validator(k), consensus::SigKind::kVote, texts[i], s) == forge) ++wrong;
        }
    });
  for (auto& th : threads) th.join();
  CHECK(wrong == 0);
  CHECK(v.remembered_hits() > 0);
}

}  // namespace imi::node

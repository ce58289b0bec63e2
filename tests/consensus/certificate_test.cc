#include <doctest/doctest.h>

#include "consensus/messages.h"
#include "tests/consensus/test_util.h"

using namespace imi;
using namespace imi::consensus;
using testing::Committee;

TEST_CASE("a commit certificate verifies with q distinct sorted member signatures") {
  for (size_t n : {1, 4, 5, 7, 10}) {
    CAPTURE(n);
    Committee c(n);
    Hash32 block = sha256(std::string_view("block"));
    std::vector<size_t> who;
    for (size_t i = 0; i < quorum(n); ++i) who.push_back(i);
    CommitCertificate cert = c.cert(who, 8, 2, block);
    CHECK(verify_commit_certificate(cert, c.chain, c.set, c.verifier).is_ok());
    if (who.size() > 1) {
      who.pop_back();
      CHECK(
          verify_commit_certificate(c.cert(who, 8, 2, block), c.chain, c.set, c.verifier).code() ==
          "consensus.no_quorum");
    }
  }
}

TEST_CASE("certificate errors: duplicates, order, outsiders, wrong fields") {
  Committee c(4);
  Hash32 block = sha256(std::string_view("b"));
  CommitCertificate good = c.cert({0, 1, 2}, 8, 2, block);
  REQUIRE(verify_commit_certificate(good, c.chain, c.set, c.verifier).is_ok());

  CommitCertificate dup = good;
  dup.sigs[2] = dup.sigs[1];
  CHECK_FALSE(verify_commit_certificate(dup, c.chain, c.set, c.verifier).is_ok());

  CommitCertificate unsorted = good;
  std::swap(unsorted.sigs[0], unsorted.sigs[2]);
  CHECK(verify_commit_certificate(unsorted, c.chain, c.set, c.verifier).code() ==
        "consensus.malformed");

  Committee outsiders(1, "x");
  CommitCertificate foreign = c.cert({0, 1}, 8, 2, block);
  foreign.sigs.push_back(outsiders.cert({0}, 8, 2, block).sigs[0]);
  std::sort(foreign.sigs.begin(), foreign.sigs.end(),
            [](const SigEntry& a, const SigEntry& b) { return a.validator < b.validator; });
  CHECK(verify_commit_certificate(foreign, c.chain, c.set, c.verifier).code() ==
        "consensus.not_validator");

  for (auto change : {0, 1, 2, 3}) {
    CommitCertificate t = good;
    if (change == 0) t.height = 9;
    if (change == 1) t.view = 3;
    if (change == 2) t.block[0] ^= 1;
    if (change == 3) t.sigs[1].sig[5] ^= 1;
    CHECK(verify_commit_certificate(t, c.chain, c.set, c.verifier).code() ==
          "consensus.bad_signature");
  }
  CHECK_FALSE(verify_commit_certificate(good, "another-chain", c.set, c.verifier).is_ok());

  // Prepare votes are not commit votes.
  CommitCertificate prepares = good;
  for (size_t i = 0; i < 3; ++i) {
    Vote v = c.vote(i, 8, 2, block, Phase::kPrepare);
    for (auto& s : prepares.sigs)
      if (s.validator == v.validator) s.sig = v.sig;
  }
  CHECK(verify_commit_certificate(prepares, c.chain, c.set, c.verifier).code() ==
        "consensus.bad_signature");
  // A certificate is checked against the set in force at its height.
  Committee other(4, "other");
  CHECK(verify_commit_certificate(good, c.chain, other.set, other.verifier).code() ==
        "consensus.not_validator");
}

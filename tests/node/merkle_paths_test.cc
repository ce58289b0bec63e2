#include "node/merkle_paths.h"

#include <doctest/doctest.h>

#include "base/sha256.h"
#include "ledger/merkle.h"

namespace imi::node {
namespace {

TEST_CASE("every audit path matches ledger/merkle.h's RFC 6962 proof, and verifies") {
  for (size_t n = 0; n <= 70; ++n) {
    std::vector<Hash32> leaves;
    for (size_t i = 0; i < n; ++i) leaves.push_back(sha256("leaf " + std::to_string(i)));
    MerklePaths paths(leaves);
    CHECK(paths.size() == n);
    CHECK(paths.root() == ledger::merkle_root(std::span<const Hash32>(leaves)));
    for (size_t i = 0; i < n; ++i) {
      auto expected = ledger::inclusion_proof(std::span<const Hash32>(leaves), i);
      REQUIRE(expected);
      CHECK(paths.path(i) == *expected);
      CHECK(ledger::verify_leaf_inclusion(leaves[i], i, n, paths.path(i), paths.root()));
    }
  }
}

}  // namespace
}  // namespace imi::node

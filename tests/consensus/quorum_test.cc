#include <doctest/doctest.h>

#include "consensus/types.h"
#include "tests/consensus/test_util.h"

using namespace imi;
using namespace imi::consensus;

TEST_CASE("quorum and fault bound for n = 1..10 follow DESIGN") {
  // n:        1  2  3  4  5  6  7  8  9  10
  const uint64_t q[] = {1, 2, 3, 3, 4, 5, 5, 6, 7, 7};
  const uint64_t f[] = {0, 0, 0, 1, 1, 1, 2, 2, 2, 3};
  for (uint64_t n = 1; n <= 10; ++n) {
    CAPTURE(n);
    CHECK(quorum(n) == q[n - 1]);
    CHECK(max_faulty(n) == f[n - 1]);
    // Two quorums intersect in more than f members: at least one honest.
    CHECK(2 * quorum(n) - n >= max_faulty(n) + 1);
    // The honest members alone form a quorum (liveness).
    CHECK(n - max_faulty(n) >= quorum(n));
  }
}

TEST_CASE("validator sets are sorted by id, distinct, and rotate the primary") {
  testing::Committee c(4);
  const auto& vs = c.set.validators();
  for (size_t i = 1; i < vs.size(); ++i) CHECK(vs[i - 1].id < vs[i].id);
  CHECK(c.set.primary(0) == vs[0].id);
  CHECK(c.set.primary(5) == vs[1].id);
  CHECK(c.set.quorum() == 3);
  CHECK(c.set.contains(vs[2].id));
  CHECK_FALSE(c.set.contains("did:imi:0000000000000000000000000000000000000000"));

  auto dup = ValidatorSet::create({vs[0], vs[0]});
  CHECK(dup.status().code() == "consensus.bad_validator_set");
  CHECK(ValidatorSet::create({}).status().code() == "consensus.bad_validator_set");
  CHECK(ValidatorSet::create({{"did:web:x", {}}}).status().code() == "consensus.bad_validator_set");
  // Input order does not matter.
  auto reversed = ValidatorSet::create({vs[3], vs[2], vs[1], vs[0]});
  CHECK(reversed.value() == c.set);
}

TEST_CASE("the schedule returns the set in force at each height") {
  testing::Committee a(4, "a"), b(5, "b");
  ValidatorSchedule s(a.set);
  s.add(7, b.set);
  CHECK(*s.at(1) == a.set);
  CHECK(*s.at(6) == a.set);
  CHECK(*s.at(7) == b.set);
  CHECK(*s.at(100) == b.set);
  s.prune_below(8);
  CHECK(*s.at(8) == b.set);
  CHECK(s.entries().size() == 1);
}

TEST_CASE("ids and chain ids are validated") {
  CHECK(is_valid_validator_id("did:imi:0123456789abcdef0123456789abcdef01234567"));
  CHECK_FALSE(is_valid_validator_id("did:imi:0123456789ABCDEF0123456789abcdef01234567"));
  CHECK_FALSE(is_valid_validator_id("did:imi:0123"));
  CHECK(is_valid_chain_id("imi-main-1"));
  CHECK_FALSE(is_valid_chain_id("IMI"));
  CHECK_FALSE(is_valid_chain_id("a\"b"));
  CHECK_FALSE(is_valid_chain_id(""));
  // Same rule as ledger/transaction.h, so any chain a transaction may name
  // can run consensus.
  CHECK(is_valid_chain_id("imi.district_7"));
  CHECK_FALSE(is_valid_chain_id(".imi"));
  CHECK_FALSE(is_valid_chain_id("-imi"));
  CHECK_FALSE(is_valid_chain_id(std::string(65, 'a')));
}

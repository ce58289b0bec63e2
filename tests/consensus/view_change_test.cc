// The view-change safety rule, in isolation: which block a new view must
// carry, and which NewView messages replicas must reject.
#include <doctest/doctest.h>

#include "consensus/messages.h"
#include "tests/consensus/test_util.h"

using namespace imi;
using namespace imi::consensus;
using testing::Committee;

namespace {

NewView make_new_view(const Committee& c, uint64_t height, uint64_t view,
                      std::vector<ViewChange> vcs, const Bytes& payload) {
  std::sort(vcs.begin(), vcs.end(),
            [](const ViewChange& a, const ViewChange& b) { return a.validator < b.validator; });
  return NewView{height, view, std::move(vcs),
                 c.proposal(view % c.members.size(), height, view, payload)};
}

}  // namespace

TEST_CASE("highest_prepared picks the prepared certificate of the highest view") {
  Committee c(4);
  PreparedCert a = c.prepared({0, 1, 2}, 5, 0, Bytes{'a'});
  PreparedCert b = c.prepared({1, 2, 3}, 5, 2, Bytes{'b'});
  std::vector<ViewChange> vcs = {c.view_change(0, 5, 3, a), c.view_change(1, 5, 3, std::nullopt),
                                 c.view_change(2, 5, 3, b)};
  REQUIRE(highest_prepared(vcs) != nullptr);
  CHECK(highest_prepared(vcs)->view == 2);
  CHECK(highest_prepared(vcs)->payload == Bytes{'b'});
  CHECK(highest_prepared({c.view_change(1, 5, 3, std::nullopt)}) == nullptr);
}

TEST_CASE("a new view must re-propose the highest prepared block with its original bytes") {
  Committee c(4);
  Bytes original{'o', 'r', 'i', 'g'};
  PreparedCert pc = c.prepared({0, 1, 2}, 7, 0, original);
  std::vector<ViewChange> vcs = {c.view_change(0, 7, 1, pc), c.view_change(2, 7, 1, std::nullopt),
                                 c.view_change(3, 7, 1, std::nullopt)};
  NewView good = make_new_view(c, 7, 1, vcs, original);
  CHECK(verify_new_view(good, c.chain, c.set, c.verifier).is_ok());

  NewView other_block = make_new_view(c, 7, 1, vcs, Bytes{'n', 'e', 'w'});
  CHECK(verify_new_view(other_block, c.chain, c.set, c.verifier).code() ==
        "consensus.bad_new_view");

  // Nothing prepared: the new primary may propose a fresh block.
  std::vector<ViewChange> empty = {c.view_change(0, 7, 1, std::nullopt),
                                   c.view_change(2, 7, 1, std::nullopt),
                                   c.view_change(3, 7, 1, std::nullopt)};
  CHECK(verify_new_view(make_new_view(c, 7, 1, empty, Bytes{'n'}), c.chain, c.set, c.verifier)
            .is_ok());
}

TEST_CASE("new views without q valid view changes, or from the wrong primary, are rejected") {
  Committee c(4);
  std::vector<ViewChange> two = {c.view_change(0, 7, 1, std::nullopt),
                                 c.view_change(2, 7, 1, std::nullopt)};
  CHECK(verify_new_view(make_new_view(c, 7, 1, two, Bytes{1}), c.chain, c.set, c.verifier).code() ==
        "consensus.no_quorum");

  std::vector<ViewChange> repeated = {c.view_change(0, 7, 1, std::nullopt),
                                      c.view_change(0, 7, 1, std::nullopt),
                                      c.view_change(2, 7, 1, std::nullopt)};
  NewView rep{7, 1, repeated, c.proposal(1, 7, 1, Bytes{1})};
  CHECK(verify_new_view(rep, c.chain, c.set, c.verifier).code() == "consensus.bad_new_view");

  std::vector<ViewChange> three = {c.view_change(0, 7, 1, std::nullopt),
                                   c.view_change(2, 7, 1, std::nullopt),
                                   c.view_change(3, 7, 1, std::nullopt)};
  NewView wrong_primary{7, 1, three, c.proposal(2, 7, 1, Bytes{1})};
  std::sort(wrong_primary.view_changes.begin(), wrong_primary.view_changes.end(),
            [](const ViewChange& a, const ViewChange& b) { return a.validator < b.validator; });
  CHECK(verify_new_view(wrong_primary, c.chain, c.set, c.verifier).code() ==
        "consensus.wrong_primary");

  // A view change whose prepared certificate lacks a quorum of prepares.
  PreparedCert weak = c.prepared({0, 1}, 7, 0, Bytes{'w'});
  std::vector<ViewChange> with_weak = {c.view_change(0, 7, 1, weak),
                                       c.view_change(2, 7, 1, std::nullopt),
                                       c.view_change(3, 7, 1, std::nullopt)};
  CHECK(verify_new_view(make_new_view(c, 7, 1, with_weak, Bytes{'w'}), c.chain, c.set, c.verifier)
            .code() == "consensus.no_quorum");

  // A prepared certificate whose bytes were swapped after the fact.
  PreparedCert swapped = c.prepared({0, 1, 2}, 7, 0, Bytes{'a'});
  swapped.payload = Bytes{'z'};
  CHECK(verify_view_change(c.view_change(0, 7, 1, swapped), c.chain, c.set, c.verifier).code() ==
        "consensus.bad_signature");
}

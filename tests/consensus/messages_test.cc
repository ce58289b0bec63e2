#include <doctest/doctest.h>

#include "consensus/durable.h"
#include "consensus/messages.h"
#include "tests/consensus/test_util.h"

using namespace imi;
using namespace imi::consensus;
using testing::Committee;

namespace {

Hash32 h32(uint8_t b) {
  Hash32 h{};
  h.fill(b);
  return h;
}

std::vector<Message> samples(const Committee& c) {
  Bytes payload{'b', 'l', 'k'};
  Proposal p = c.proposal(0, 5, 0, payload);
  PreparedCert pc = c.prepared({0, 1, 2}, 5, 0, payload);
  ViewChange vc = c.view_change(1, 5, 1, pc);
  ViewChange vc_empty = c.view_change(2, 5, 1, std::nullopt);
  NewView nv{5, 1, {}, c.proposal(1, 5, 1, payload)};
  for (size_t i : {0, 1, 2}) nv.view_changes.push_back(c.view_change(i, 5, 1, pc));
  std::sort(nv.view_changes.begin(), nv.view_changes.end(),
            [](const ViewChange& a, const ViewChange& b) { return a.validator < b.validator; });
  Checkpoint cp{10, h32(7), c.members[3].id, {}};
  cp.sig =
      c.members[3].signer->sign(SigKind::kCheckpoint, checkpoint_canonical(c.chain, 10, h32(7)));
  return {p,  c.vote(2, 5, 0, p.block, Phase::kCommit), vc, vc_empty, nv,
          cp, Decided{c.cert({0, 1, 3}, 5, 0, p.block)}};
}

}  // namespace

TEST_CASE("the commit vote's signed object is the DESIGN Contract, in JCS") {
  Hash32 b = h32(0xab);
  CHECK(vote_canonical("imi-main", 12, 3, b, Phase::kCommit) ==
        "{\"block\":\"" + to_hex(b) +
            "\",\"chain\":\"imi-main\",\"height\":12,\"phase\":\"commit\",\"view\":3}");
  CHECK(vote_canonical("imi-main", 1, 0, b, Phase::kPrepare).find("\"phase\":\"prepare\"") !=
        std::string::npos);
  CHECK(proposal_canonical("c", 1, 2, b, h32(1)) ==
        "{\"block\":\"" + to_hex(b) + "\",\"chain\":\"c\",\"height\":1,\"payload\":\"" +
            to_hex(h32(1)) + "\",\"view\":2}");
  CHECK(checkpoint_canonical("c", 100, b) ==
        "{\"block\":\"" + to_hex(b) + "\",\"chain\":\"c\",\"height\":100}");
  CHECK(view_change_canonical("c", 4, 2, std::nullopt) ==
        "{\"chain\":\"c\",\"height\":4,\"prepared\":null,\"view\":2}");
  CHECK(view_change_canonical("c", 4, 2, PreparedRef{1, b}) ==
        "{\"chain\":\"c\",\"height\":4,\"prepared\":{\"block\":\"" + to_hex(b) +
            "\",\"view\":1},\"view\":2}");
  CHECK(sig_tag(SigKind::kVote) == "IMI/vote/v1");
}

TEST_CASE("every message survives encode and decode") {
  Committee c(4);
  for (const Message& m : samples(c)) {
    Bytes wire = encode(m);
    auto back = decode(wire);
    REQUIRE(back.is_ok());
    CHECK(*back == m);
  }
  CommitCertificate cert = c.cert({0, 1, 2}, 9, 1, h32(3));
  CHECK(decode_certificate(encode_certificate(cert)).value() == cert);
}

TEST_CASE("every truncation and any trailing byte is rejected") {
  Committee c(4);
  for (const Message& m : samples(c)) {
    Bytes wire = encode(m);
    for (size_t len = 0; len < wire.size(); ++len) {
      auto r = decode(ByteView(wire.data(), len));
      CHECK_FALSE(r.is_ok());
      CHECK(r.status().code() == "consensus.malformed");
    }
    wire.push_back(0);
    CHECK(decode(wire).status().message().find("trailing") != std::string::npos);
  }
}

TEST_CASE("field validation: version, type, phase, ranges, ids, order, limits") {
  Committee c(4);
  Vote v = c.vote(0, 5, 0, h32(1), Phase::kPrepare);
  Bytes good = encode(v);
  auto mutate = [&](size_t offset, uint8_t value) {
    Bytes b = good;
    b[offset] = value;
    return decode(b);
  };
  CHECK_FALSE(mutate(0, 2).is_ok());  // version
  CHECK_FALSE(mutate(1, 9).is_ok());  // type
  CHECK_FALSE(mutate(1, 0).is_ok());  // type
  // layout: ver, type, height(8), view(8), block(32), phase, did...
  CHECK_FALSE(mutate(50, 3).is_ok());    // phase
  CHECK_FALSE(mutate(50, 0).is_ok());    // phase
  CHECK_FALSE(mutate(51, 47).is_ok());   // did length
  CHECK_FALSE(mutate(52, 'D').is_ok());  // did prefix
  CHECK_FALSE(mutate(60, 'G').is_ok());  // did hex

  Vote zero = v;
  zero.height = 0;
  CHECK(decode(encode(zero)).status().message().find("vote.height") != std::string::npos);
  Vote huge = v;
  huge.height = kMaxSafeInteger + 1;
  CHECK_FALSE(decode(encode(huge)).is_ok());
  huge.height = kMaxSafeInteger;
  CHECK(decode(encode(huge)).is_ok());
  Vote big_view = v;
  big_view.view = kMaxSafeInteger + 1;
  CHECK_FALSE(decode(encode(big_view)).is_ok());

  // Certificates: unsorted or repeated signers.
  CommitCertificate cert = c.cert({0, 1, 2}, 5, 0, h32(1));
  std::swap(cert.sigs[0], cert.sigs[1]);
  CHECK_FALSE(decode(encode(Decided{cert})).is_ok());
  cert = c.cert({0, 1, 2}, 5, 0, h32(1));
  cert.sigs[1] = cert.sigs[0];
  CHECK_FALSE(decode(encode(Decided{cert})).is_ok());

  // Payload size limit.
  Proposal p = c.proposal(0, 5, 0, Bytes(100, 'x'));
  Limits small;
  small.payload_bytes_max = 99;
  CHECK(decode(encode(p), small).status().message().find("payload") != std::string::npos);
  CHECK(decode(encode(p)).is_ok());

  // View changes: prepared view must be below the new view; view >= 1.
  ViewChange vc = c.view_change(0, 5, 1, c.prepared({0, 1, 2}, 5, 1, Bytes{1}));
  CHECK_FALSE(decode(encode(vc)).is_ok());
  ViewChange vc0 = c.view_change(0, 5, 0, std::nullopt);
  CHECK_FALSE(decode(encode(vc0)).is_ok());
  Bytes has_prepared = encode(c.view_change(0, 5, 1, std::nullopt));
  has_prepared[2 + 8 + 8 + 1 + 48] = 2;
  CHECK_FALSE(decode(has_prepared).is_ok());

  // New view: its parts must be for its own height and view.
  NewView nv{5, 1, {c.view_change(0, 5, 1, std::nullopt)}, c.proposal(1, 5, 2, Bytes{1})};
  CHECK_FALSE(decode(encode(nv)).is_ok());
  nv.proposal = c.proposal(1, 5, 1, Bytes{1});
  nv.view_changes[0] = c.view_change(0, 6, 1, std::nullopt);
  CHECK_FALSE(decode(encode(nv)).is_ok());

  // Random bytes never crash the decoder.
  uint64_t x = 42;
  for (int i = 0; i < 2000; ++i) {
    Bytes junk(i % 300);
    for (auto& b : junk) b = static_cast<uint8_t>((x = x * 6364136223846793005ull + 1) >> 56);
    if (!junk.empty()) junk[0] = 1;
    (void)decode(junk);
  }
}

TEST_CASE("signature checks: member, primary, chain, signature") {
  Committee c(4);
  Bytes payload{1, 2, 3};
  Proposal p = c.proposal(0, 3, 0, payload);
  CHECK(verify_proposal(p, c.chain, c.set, c.verifier).is_ok());
  CHECK(verify_proposal(p, "other-chain", c.set, c.verifier).code() == "consensus.bad_signature");
  Proposal wrong_primary = c.proposal(1, 3, 0, payload);
  CHECK(verify_proposal(wrong_primary, c.chain, c.set, c.verifier).code() ==
        "consensus.wrong_primary");
  Proposal tampered = p;
  tampered.payload.push_back(4);
  CHECK(verify_proposal(tampered, c.chain, c.set, c.verifier).code() == "consensus.bad_signature");

  Vote v = c.vote(2, 3, 0, p.block, Phase::kPrepare);
  CHECK(verify_vote(v, c.chain, c.set, c.verifier).is_ok());
  Vote as_commit = v;
  as_commit.phase = Phase::kCommit;
  CHECK(verify_vote(as_commit, c.chain, c.set, c.verifier).code() == "consensus.bad_signature");
  Committee outsiders(1, "outsider");
  Vote stranger = outsiders.vote(0, 3, 0, p.block, Phase::kPrepare);
  CHECK(verify_vote(stranger, c.chain, c.set, c.verifier).code() == "consensus.not_validator");
  Vote forged = v;
  forged.validator = c.members[3].id;
  CHECK(verify_vote(forged, c.chain, c.set, c.verifier).code() == "consensus.bad_signature");

  Checkpoint cp{10, h32(7), c.members[3].id, {}};
  cp.sig =
      c.members[3].signer->sign(SigKind::kCheckpoint, checkpoint_canonical(c.chain, 10, h32(7)));
  CHECK(verify_checkpoint(cp, c.chain, c.set, c.verifier).is_ok());
  cp.height = 20;
  CHECK_FALSE(verify_checkpoint(cp, c.chain, c.set, c.verifier).is_ok());
}

TEST_CASE("durable state survives encode and decode and rejects corruption") {
  Committee c(4);
  DurableState d;
  d.height = 5;
  d.view = 2;
  d.start_view = 1;
  d.view_changing = true;
  d.stable_height = 3;
  d.stable_block = h32(9);
  d.spoken = samples(c);
  d.prepared = c.prepared({0, 1, 2}, 5, 1, Bytes{7});
  Bytes b = encode_durable(d);
  CHECK(decode_durable(b).value() == d);
  for (size_t len = 0; len < b.size(); len += 7)
    CHECK(decode_durable(ByteView(b.data(), len)).status().code() == "consensus.bad_durable_state");
  DurableState bad = d;
  bad.start_view = 3;
  CHECK_FALSE(decode_durable(encode_durable(bad)).is_ok());
}

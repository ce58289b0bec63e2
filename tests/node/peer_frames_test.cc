#include "node/peer_frames.h"

#include <doctest/doctest.h>

namespace imi::node {
namespace {

TEST_CASE("every frame kind round-trips") {
  Bytes wire{1, 2, 3};
  auto c = decode_frame(encode_consensus_frame(wire));
  REQUIRE(c);
  CHECK(std::get<ConsensusFrame>(*c).wire == wire);

  auto t = decode_frame(encode_txs_frame({"{\"a\":1}", "", "{\"b\":2}"}));
  REQUIRE(t);
  CHECK(std::get<TxsFrame>(*t).txs == std::vector<std::string>{"{\"a\":1}", "", "{\"b\":2}"});

  auto tip = decode_frame(encode_tip_frame(0x0102030405060708ull));
  REQUIRE(tip);
  CHECK(std::get<TipFrame>(*tip).height == 0x0102030405060708ull);

  auto get = decode_frame(encode_get_blocks_frame(42, 64));
  REQUIRE(get);
  CHECK(std::get<GetBlocksFrame>(*get).from == 42);
  CHECK(std::get<GetBlocksFrame>(*get).count == 64);

  auto blocks =
      decode_frame(encode_blocks_frame(7, {SyncedBlock{"b7", "c7"}, SyncedBlock{"b8", "c8"}}));
  REQUIRE(blocks);
  const auto& bf = std::get<BlocksFrame>(*blocks);
  CHECK(bf.from == 7);
  REQUIRE(bf.blocks.size() == 2);
  CHECK(bf.blocks[1].block_json == "b8");
  CHECK(bf.blocks[1].cert_json == "c8");
  auto none = decode_frame(encode_blocks_frame(9, {}));
  REQUIRE(none);
  CHECK(std::get<BlocksFrame>(*none).blocks.empty());
}

TEST_CASE("bad frames are clear errors, never trusted") {
  CHECK(decode_frame(Bytes{}).status().code() == "frame.malformed");
  CHECK(decode_frame(Bytes{99}).status().code() == "frame.unknown_kind");
  // Truncated tip and get-blocks, trailing bytes.
  Bytes tip = encode_tip_frame(5);
  tip.pop_back();
  CHECK(decode_frame(tip).status().code() == "frame.malformed");
  Bytes tip_long = encode_tip_frame(5);
  tip_long.push_back(0);
  CHECK(decode_frame(tip_long).status().code() == "frame.malformed");
  // A count the frame cannot hold (no allocation of 4 billion entries).
  Bytes lie{static_cast<uint8_t>(FrameKind::kTxs), 0, 0, 0x4e, 0x20};  // 20000 txs, no bytes
  CHECK(decode_frame(lie).status().code() == "frame.malformed");
  Bytes too_many{static_cast<uint8_t>(FrameKind::kTxs), 0xff, 0xff, 0xff, 0xff};
  CHECK(decode_frame(too_many).status().code() == "frame.limit");
  // A length beyond the frame.
  Bytes t = encode_txs_frame({"abcdef"});
  t.resize(t.size() - 2);
  CHECK(decode_frame(t).status().code() == "frame.malformed");
  // Block requests: zero and more than the cap.
  CHECK(decode_frame(encode_get_blocks_frame(1, 0)).status().code() == "frame.limit");
  CHECK(decode_frame(encode_get_blocks_frame(1, kBlocksPerRequestMax + 1)).status().code() ==
        "frame.limit");
  Bytes b = encode_blocks_frame(1, {SyncedBlock{"x", "y"}});
  b.pop_back();
  CHECK(decode_frame(b).status().code() == "frame.malformed");
}

}  // namespace
}  // namespace imi::node

// The node-to-node protocol carried in P2P frames (node/p2p moves opaque,
// authenticated frames; this gives them meaning). First byte: the kind.
//
//   kConsensus  1 | engine wire bytes (consensus/messages.h)
//   kTxs        2 | u32 count | count x (u32 len | canonical transaction JSON)
//   kTip        3 | u64 committed height of the sender
//   kGetBlocks  4 | u64 first height | u32 count
//   kBlocks     5 | u64 first height | u32 count | count x (u32 len | block JSON |
//                                                          u32 len | certificate JSON)
//
// Integers are big-endian. A kBlocks answer may hold fewer blocks than asked
// (the sender has fewer, or hit kBlocksFrameBytesMax), even none.
// decode_frame checks every length against the frame and the limits below
// and never trusts a count: bad frames are an error (the caller drops them
// and counts the peer's fault), never a crash.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace imi::node {

enum class FrameKind : uint8_t {
  kConsensus = 1,
  kTxs = 2,
  kTip = 3,
  kGetBlocks = 4,
  kBlocks = 5,
};

inline constexpr uint32_t kTxsPerFrameMax = 20000;
inline constexpr uint32_t kBlocksPerRequestMax = 1024;
// Soft cap on one kBlocks answer (the transport's frame cap is 16 MiB by default).
inline constexpr size_t kBlocksFrameBytesMax = 8 * 1024 * 1024;

struct ConsensusFrame {
  Bytes wire;
};
struct TxsFrame {
  std::vector<std::string> txs;
};
struct TipFrame {
  uint64_t height = 0;
};
struct GetBlocksFrame {
  uint64_t from = 0;
  uint32_t count = 0;
};
struct SyncedBlock {
  std::string block_json;
  std::string cert_json;
};
struct BlocksFrame {
  uint64_t from = 0;
  std::vector<SyncedBlock> blocks;
};

using PeerFrame = std::variant<ConsensusFrame, TxsFrame, TipFrame, GetBlocksFrame, BlocksFrame>;

Bytes encode_consensus_frame(ByteView wire);
Bytes encode_txs_frame(const std::vector<std::string>& txs);
Bytes encode_tip_frame(uint64_t height);
Bytes encode_get_blocks_frame(uint64_t from, uint32_t count);
Bytes encode_blocks_frame(uint64_t from, const std::vector<SyncedBlock>& blocks);

// Errors: frame.malformed (truncated, trailing bytes, a length beyond the
// frame), frame.unknown_kind, frame.limit (a count over the limits above).
Result<PeerFrame> decode_frame(ByteView frame);

}  // namespace imi::node

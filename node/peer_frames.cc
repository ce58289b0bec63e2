#include "node/peer_frames.h"

namespace imi::node {
namespace {

void put_u32(Bytes& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put_u64(Bytes& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put_text(Bytes& out, std::string_view s) {
  put_u32(out, static_cast<uint32_t>(s.size()));
  out.insert(out.end(), s.begin(), s.end());
}

class Reader {
 public:
  explicit Reader(ByteView in) : in_(in) {}
  bool u32(uint32_t& v) {
    if (in_.size() - pos_ < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | in_[pos_++];
    return true;
  }
  bool u64(uint64_t& v) {
    if (in_.size() - pos_ < 8) return false;
    v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | in_[pos_++];
    return true;
  }
  bool text(std::string& s) {
    uint32_t n = 0;
    if (!u32(n) || in_.size() - pos_ < n) return false;
    s.assign(reinterpret_cast<const char*>(in_.data() + pos_), n);
    pos_ += n;
    return true;
  }
  bool done() const { return pos_ == in_.size(); }
  size_t left() const { return in_.size() - pos_; }

 private:
  ByteView in_;
  size_t pos_ = 0;
};

Status malformed(std::string_view what) {
  return Status::error("frame.malformed", std::string(what));
}

}  // namespace

Bytes encode_consensus_frame(ByteView wire) {
  Bytes out;
  out.reserve(1 + wire.size());
  out.push_back(static_cast<uint8_t>(FrameKind::kConsensus));
  out.insert(out.end(), wire.begin(), wire.end());
  return out;
}

Bytes encode_txs_frame(const std::vector<std::string>& txs) {
  size_t bytes = 5;
  for (const auto& t : txs) bytes += 4 + t.size();
  Bytes out;
  out.reserve(bytes);
  out.push_back(static_cast<uint8_t>(FrameKind::kTxs));
  put_u32(out, static_cast<uint32_t>(txs.size()));
  for (const auto& t : txs) put_text(out, t);
  return out;
}

Bytes encode_tip_frame(uint64_t height) {
  Bytes out{static_cast<uint8_t>(FrameKind::kTip)};
  put_u64(out, height);
  return out;
}

Bytes encode_get_blocks_frame(uint64_t from, uint32_t count) {
  Bytes out{static_cast<uint8_t>(FrameKind::kGetBlocks)};
  put_u64(out, from);
  put_u32(out, count);
  return out;
}

Bytes encode_blocks_frame(uint64_t from, const std::vector<SyncedBlock>& blocks) {
  size_t bytes = 13;
  for (const auto& b : blocks) bytes += 8 + b.block_json.size() + b.cert_json.size();
  Bytes out;
  out.reserve(bytes);
  out.push_back(static_cast<uint8_t>(FrameKind::kBlocks));
  put_u64(out, from);
  put_u32(out, static_cast<uint32_t>(blocks.size()));
  for (const auto& b : blocks) {
    put_text(out, b.block_json);
    put_text(out, b.cert_json);
  }
  return out;
}

Result<PeerFrame> decode_frame(ByteView frame) {
  if (frame.empty()) return malformed("empty frame");
  Reader r(frame.subspan(1));
  switch (static_cast<FrameKind>(frame[0])) {
    case FrameKind::kConsensus:
      return PeerFrame{ConsensusFrame{Bytes(frame.begin() + 1, frame.end())}};
    case FrameKind::kTxs: {
      uint32_t n = 0;
      if (!r.u32(n)) return malformed("txs frame without a count");
      if (n > kTxsPerFrameMax)
        return Status::error("frame.limit", "txs frame of " + std::to_string(n) + " transactions");
      // Each entry takes at least its 4-byte length: a count the frame cannot hold is a lie.
      if (static_cast<size_t>(n) * 4 > r.left())
        return malformed("txs frame count beyond the frame");
      TxsFrame f;
      f.txs.resize(n);
      for (auto& t : f.txs)
        if (!r.text(t)) return malformed("txs frame truncated");
      if (!r.done()) return malformed("trailing bytes after a txs frame");
      return PeerFrame{std::move(f)};
    }
    case FrameKind::kTip: {
      TipFrame f;
      if (!r.u64(f.height) || !r.done()) return malformed("tip frame is not 8 bytes");
      return PeerFrame{f};
    }
    case FrameKind::kGetBlocks: {
      GetBlocksFrame f;
      if (!r.u64(f.from) || !r.u32(f.count) || !r.done())
        return malformed("get-blocks frame is not 12 bytes");
      if (f.count == 0 || f.count > kBlocksPerRequestMax)
        return Status::error("frame.limit", "get-blocks for " + std::to_string(f.count) +
                                                " blocks (1.." +
                                                std::to_string(kBlocksPerRequestMax) + ")");
      return PeerFrame{f};
    }
    case FrameKind::kBlocks: {
      BlocksFrame f;
      uint32_t n = 0;
      if (!r.u64(f.from) || !r.u32(n)) return malformed("blocks frame header truncated");
      if (n > kBlocksPerRequestMax)
        return Status::error("frame.limit", "blocks frame of " + std::to_string(n) + " blocks");
      if (static_cast<size_t>(n) * 8 > r.left())
        return malformed("blocks frame count beyond the frame");
      f.blocks.resize(n);
      for (auto& b : f.blocks)
        if (!r.text(b.block_json) || !r.text(b.cert_json))
          return malformed("blocks frame truncated");
      if (!r.done()) return malformed("trailing bytes after a blocks frame");
      return PeerFrame{std::move(f)};
    }
  }
  return Status::error("frame.unknown_kind", "frame kind " + std::to_string(frame[0]));
}

}  // namespace imi::node

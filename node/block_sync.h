// Block sync scheduling (DESIGN "Consensus: catch-up"): which certified
// blocks to ask of which peers, so a node that is behind -- restarted, cut
// off, new, or with a wiped data directory -- fetches from several peers at
// once, in bounded windows, and drops a peer that serves a bad block.
//
// Pure bookkeeping: no I/O, no clock (times are passed in), not thread-safe
// (the node's loop owns it). The node verifies and applies what take()
// hands out, strictly in height order, and reports bad blocks with punish().
//
//   sync.on_tip(peer, h, now);                     // from peers' tip frames
//   for (auto& r : sync.poll(committed, now)) send GetBlocks(r.from, r.count) to r.peer;
//   sync.on_blocks(peer, from, blocks, now);       // an answer
//   while (auto b = sync.take(committed + 1)) { verify, apply, or punish(b->peer) }
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "identity/keys.h"
#include "node/peer_frames.h"

namespace imi::node {

using identity::PublicKey;

struct BlockSyncOptions {
  uint32_t blocks_per_request = 64;    // blocks asked of one peer at once
  size_t requests_per_peer = 2;        // requests in flight to one peer
  uint64_t request_timeout_ms = 5000;  // unanswered: ask another peer
  uint64_t ban_ms = 30000;             // a peer that served a bad block is ignored this long
  uint64_t window_blocks = 4096;       // blocks buffered or requested beyond the tip
  uint64_t lag_grace_ms = 300;  // one block behind for this long (not caught up by consensus)
};

class BlockSync {
 public:
  struct Request {
    PublicKey peer{};
    uint64_t from = 0;
    uint32_t count = 0;
  };
  struct Item {
    PublicKey peer{};
    SyncedBlock block;
  };

  explicit BlockSync(BlockSyncOptions options) : opts_(options) {}

  void on_tip(const PublicKey& peer, uint64_t height, uint64_t now_ms);
  // The peer's requests are forgotten (asked elsewhere); its buffered blocks stay.
  void on_disconnect(const PublicKey& peer);

  // Whether the node should fetch blocks: a peer is 2+ blocks ahead, or 1 block
  // ahead for longer than lag_grace_ms (`eager`: any peer ahead, e.g. an observer).
  bool wants_sync(uint64_t committed, uint64_t now_ms, bool eager);
  // Requests to send now, given the node's committed height.
  std::vector<Request> poll(uint64_t committed, uint64_t now_ms);
  // A peer's answer to a request that started at `from`. Blocks nobody asked
  // this peer for are ignored; a short answer frees the rest of the range.
  void on_blocks(const PublicKey& peer, uint64_t from, std::vector<SyncedBlock> blocks,
                 uint64_t now_ms);
  // The buffered block for `height`, removed from the buffer.
  std::optional<Item> take(uint64_t height);
  // `peer` served a bad block: it is ignored for ban_ms and what it served is dropped.
  void punish(const PublicKey& peer, uint64_t now_ms);
  // Forgets everything at or below `committed` (blocks applied another way).
  void prune(uint64_t committed);

  uint64_t best_tip() const;
  size_t buffered() const { return buffer_.size(); }
  size_t in_flight() const { return requests_.size(); }
  bool banned(const PublicKey& peer, uint64_t now_ms) const;

 private:
  struct Peer {
    uint64_t tip = 0;
    size_t in_flight = 0;
    uint64_t banned_until_ms = 0;
    uint64_t served = 0;  // blocks delivered (prefer peers that answer)
  };
  struct InFlight {
    PublicKey peer{};
    uint32_t count = 0;
    uint64_t sent_ms = 0;
  };
  bool covered(uint64_t height) const;
  void drop_request(std::map<uint64_t, InFlight>::iterator it);

  BlockSyncOptions opts_;
  std::map<PublicKey, Peer> peers_;
  std::map<uint64_t, InFlight> requests_;  // first height -> request
  std::map<uint64_t, Item> buffer_;        // height -> block received, not yet taken
  std::optional<uint64_t> lagging_since_ms_;
  size_t round_robin_ = 0;
};

}  // namespace imi::node

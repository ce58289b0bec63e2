#include "node/block_sync.h"

#include <algorithm>

namespace imi::node {

void BlockSync::on_tip(const PublicKey& peer, uint64_t height, uint64_t) {
  Peer& p = peers_[peer];
  p.tip = std::max(p.tip, height);
}

void BlockSync::on_disconnect(const PublicKey& peer) {
  for (auto it = requests_.begin(); it != requests_.end();) {
    auto next = std::next(it);
    if (it->second.peer == peer) drop_request(it);
    it = next;
  }
  auto p = peers_.find(peer);
  if (p != peers_.end()) p->second.tip = 0;  // learned again from its next tip frame
}

void BlockSync::drop_request(std::map<uint64_t, InFlight>::iterator it) {
  auto p = peers_.find(it->second.peer);
  if (p != peers_.end() && p->second.in_flight > 0) --p->second.in_flight;
  requests_.erase(it);
}

uint64_t BlockSync::best_tip() const {
  uint64_t best = 0;
  for (const auto& [key, p] : peers_) best = std::max(best, p.tip);
  return best;
}

bool BlockSync::banned(const PublicKey& peer, uint64_t now_ms) const {
  auto p = peers_.find(peer);
  return p != peers_.end() && p->second.banned_until_ms > now_ms;
}

bool BlockSync::wants_sync(uint64_t committed, uint64_t now_ms, bool eager) {
  uint64_t best = 0;
  for (const auto& [key, p] : peers_)
    if (p.banned_until_ms <= now_ms) best = std::max(best, p.tip);
  if (best <= committed) {
    lagging_since_ms_.reset();
    return false;
  }
  if (eager || best >= committed + 2 || !buffer_.empty() || !requests_.empty()) return true;
  if (!lagging_since_ms_) lagging_since_ms_ = now_ms;
  return now_ms - *lagging_since_ms_ >= opts_.lag_grace_ms;
}

bool BlockSync::covered(uint64_t height) const {
  if (buffer_.count(height)) return true;
  auto it = requests_.upper_bound(height);
  if (it == requests_.begin()) return false;
  --it;
  return height < it->first + it->second.count;
}

std::vector<BlockSync::Request> BlockSync::poll(uint64_t committed, uint64_t now_ms) {
  prune(committed);
  // Requests that went unanswered: ask someone else.
  for (auto it = requests_.begin(); it != requests_.end();) {
    auto next = std::next(it);
    if (now_ms - it->second.sent_ms >= opts_.request_timeout_ms) drop_request(it);
    it = next;
  }
  std::vector<Request> out;
  const uint64_t last = std::min(best_tip(), committed + opts_.window_blocks);
  uint64_t h = committed + 1;
  while (h <= last) {
    if (covered(h)) {
      ++h;
      continue;
    }
    // Candidates: not banned, ahead enough, with a free request slot; pick in
    // round-robin order so ranges spread over the peers.
    std::vector<std::map<PublicKey, Peer>::iterator> candidates;
    for (auto it = peers_.begin(); it != peers_.end(); ++it)
      if (it->second.banned_until_ms <= now_ms && it->second.tip >= h &&
          it->second.in_flight < opts_.requests_per_peer)
        candidates.push_back(it);
    if (candidates.empty()) break;
    auto chosen = candidates[round_robin_++ % candidates.size()];
    uint64_t end = std::min({h + opts_.blocks_per_request - 1, chosen->second.tip, last});
    // Stop at the next height already covered.
    uint64_t stop = h;
    while (stop < end && !covered(stop + 1)) ++stop;
    const uint32_t count = static_cast<uint32_t>(stop - h + 1);
    requests_[h] = InFlight{chosen->first, count, now_ms};
    ++chosen->second.in_flight;
    out.push_back(Request{chosen->first, h, count});
    h = stop + 1;
  }
  return out;
}

void BlockSync::on_blocks(const PublicKey& peer, uint64_t from, std::vector<SyncedBlock> blocks,
                          uint64_t) {
  auto it = requests_.find(from);
  if (it == requests_.end() || it->second.peer != peer) return;  // unsolicited or timed out
  const uint32_t asked = it->second.count;
  drop_request(it);
  Peer& p = peers_[peer];
  if (blocks.empty()) {
    // It no longer has what its tip promised (or never had it).
    p.tip = std::min(p.tip, from - 1);
    return;
  }
  const size_t n = std::min<size_t>(blocks.size(), asked);
  for (size_t i = 0; i < n; ++i) {
    buffer_.emplace(from + i, Item{peer, std::move(blocks[i])});
    ++p.served;
  }
}

std::optional<BlockSync::Item> BlockSync::take(uint64_t height) {
  auto it = buffer_.find(height);
  if (it == buffer_.end()) return std::nullopt;
  Item item = std::move(it->second);
  buffer_.erase(it);
  return item;
}

void BlockSync::punish(const PublicKey& peer, uint64_t now_ms) {
  Peer& p = peers_[peer];
  p.banned_until_ms = now_ms + opts_.ban_ms;
  for (auto it = buffer_.begin(); it != buffer_.end();)
    it = it->second.peer == peer ? buffer_.erase(it) : std::next(it);
  for (auto it = requests_.begin(); it != requests_.end();) {
    auto next = std::next(it);
    if (it->second.peer == peer) drop_request(it);
    it = next;
  }
}

void BlockSync::prune(uint64_t committed) {
  while (!buffer_.empty() && buffer_.begin()->first <= committed) buffer_.erase(buffer_.begin());
  for (auto it = requests_.begin(); it != requests_.end();) {
    auto next = std::next(it);
    if (it->first + it->second.count - 1 <= committed) drop_request(it);
    it = next;
  }
}

}  // namespace imi::node

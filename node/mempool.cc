#include "node/mempool.h"

#include <algorithm>

namespace imi::node {

Mempool::Mempool(MempoolOptions options) : opts_(options) {}

uint64_t Mempool::commit_epoch() const {
  std::lock_guard lock(mu_);
  return epoch_;
}

Result<AddResult> Mempool::add(const ledger::Transaction& tx, uint64_t committed_next_nonce,
                               uint64_t epoch, NonceOrder order) {
  std::lock_guard lock(mu_);
  if (by_id_.count(tx.id()) != 0) return AddResult::kDuplicate;
  if (tx.canonical().size() > opts_.tx_bytes_max) {
    return Status::error("tx.too_large", "transaction is " + std::to_string(tx.canonical().size()) +
                                             " bytes; this node admits at most " +
                                             std::to_string(opts_.tx_bytes_max));
  }
  auto it = senders_.find(tx.from());
  // A block committed since the caller read committed state: its reading of
  // the sender's nonce, and of its keys, may be stale (even for a sender the
  // pool tracks: the block may have rotated its keys).
  if (epoch != epoch_)
    return Status::error("mempool.stale", "a block committed meanwhile; read the state again");
  // A sender the pool let go is remembered with its committed next nonce,
  // which the caller's (possibly older) reading cannot lower.
  uint64_t base = committed_next_nonce;
  if (it != senders_.end()) {
    base = it->second.base;
  } else if (auto idle = idle_.find(tx.from()); idle != idle_.end()) {
    base = std::max(base, idle->second.base);
  }
  if (tx.nonce() < base) {
    return Status::error("tx.nonce_used", "nonce " + std::to_string(tx.nonce()) + " of " +
                                              tx.from() + " is already used; the next nonce is " +
                                              std::to_string(base));
  }
  if (tx.nonce() - base >= opts_.sender_txs_max) {
    return Status::error("tx.nonce_gap", "nonce " + std::to_string(tx.nonce()) + " of " +
                                             tx.from() + " is too far ahead of the next nonce " +
                                             std::to_string(base) +
                                             "; send the missing ones first");
  }
  if (order == NonceOrder::kNext) {
    uint64_t next = base;
    if (it != senders_.end() && !it->second.txs.empty())
      next = std::max(next, it->second.txs.rbegin()->first + 1);
    if (tx.nonce() > next) {
      return Status::error("tx.nonce_gap", "nonce " + std::to_string(tx.nonce()) + " of " +
                                               tx.from() + " skips ahead: the next nonce is " +
                                               std::to_string(next) +
                                               "; a sender's transactions are admitted in nonce "
                                               "order, send the missing ones first");
    }
  }
  if (it != senders_.end()) {
    auto same = it->second.txs.find(tx.nonce());
    if (same != it->second.txs.end()) {
      return Status::error("tx.nonce_used", "another transaction with nonce " +
                                                std::to_string(tx.nonce()) + " from " + tx.from() +
                                                " is pending (id " + same->second.tx.id_hex() +
                                                "); use the next nonce");
    }
    if (it->second.txs.size() >= opts_.sender_txs_max) {
      return Status::error("mempool.sender_full",
                           tx.from() + " has " + std::to_string(it->second.txs.size()) +
                               " transactions pending; wait for them to commit and retry");
    }
  }
  if (by_id_.size() >= opts_.txs_max || bytes_ + tx.canonical().size() > opts_.bytes_max) {
    return Status::error("mempool.full", "the mempool is full (" + std::to_string(by_id_.size()) +
                                             " transactions); retry in a moment");
  }
  if (it == senders_.end()) {
    idle_.erase(tx.from());
    it = senders_.emplace(tx.from(), Sender{}).first;
    it->second.base = base;
    it->second.cursor = base;
  }
  it->second.txs.emplace(tx.nonce(), Entry{tx});
  by_id_.emplace(tx.id(), tx.from());
  bytes_ += tx.canonical().size();
  queue_if_ready(it->first, it->second);
  return AddResult::kAdded;
}

void Mempool::queue_if_ready(const std::string& from, Sender& s) {
  if (s.queue_seq != 0 || s.txs.count(s.cursor) == 0) return;
  line_up(from, s, false);
}

void Mempool::line_up(const std::string& from, Sender& s, bool front) {
  s.queue_seq = ++ready_seq_;
  ++queued_;
  if (front) {
    ready_.emplace_front(from, s.queue_seq);
  } else {
    ready_.emplace_back(from, s.queue_seq);
  }
  if (ready_.size() > 2 * queued_ + 64) {
    std::deque<std::pair<std::string, uint64_t>> kept;
    for (auto& entry : ready_)
      if (live(entry) != nullptr) kept.push_back(std::move(entry));
    ready_ = std::move(kept);
  }
}

void Mempool::unqueue(Sender& s) {
  if (s.queue_seq == 0) return;
  s.queue_seq = 0;
  --queued_;
}

void Mempool::let_go(std::unordered_map<std::string, Sender>::iterator it) {
  unqueue(it->second);
  remember_idle(it->first, it->second.base);
  senders_.erase(it);
}

const Mempool::Sender* Mempool::live(const std::pair<std::string, uint64_t>& entry) const {
  auto it = senders_.find(entry.first);
  if (it == senders_.end() || it->second.queue_seq != entry.second) return nullptr;
  return &it->second;
}

bool Mempool::contains(const Hash32& id) const {
  std::lock_guard lock(mu_);
  return by_id_.count(id) != 0;
}

std::optional<uint64_t> Mempool::known_base(const std::string& from) const {
  std::lock_guard lock(mu_);
  auto it = senders_.find(from);
  if (it != senders_.end()) return it->second.base;
  auto idle = idle_.find(from);
  if (idle != idle_.end()) return idle->second.base;
  return std::nullopt;
}

void Mempool::remember_idle(const std::string& from, uint64_t base) {
  if (opts_.idle_senders_max == 0) return;
  const uint64_t seq = ++idle_seq_;
  idle_[from] = Idle{base, seq};
  idle_order_.emplace_back(from, seq);
  while (idle_.size() > opts_.idle_senders_max || idle_order_.size() > 2 * opts_.idle_senders_max) {
    auto& [old, old_seq] = idle_order_.front();
    auto e = idle_.find(old);
    if (e != idle_.end() && e->second.seq == old_seq) idle_.erase(e);
    idle_order_.pop_front();
  }
}

void Mempool::remove(const Hash32& id, Rejection reason) {
  std::lock_guard lock(mu_);
  remember_rejected(id, std::move(reason));
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  auto s = senders_.find(it->second);
  by_id_.erase(it);
  if (s == senders_.end()) return;
  for (auto e = s->second.txs.begin(); e != s->second.txs.end(); ++e) {
    if (e->second.tx.id() == id) {
      bytes_ -= e->second.tx.canonical().size();
      s->second.txs.erase(e);
      break;
    }
  }
  // Nothing left and nothing in flight: the sender leaves (a commit no
  // longer walks every sender to find such ones).
  const Sender& left = s->second;
  if (left.txs.empty() && left.cursor == left.base) let_go(s);
}

std::vector<Hash32> Mempool::drop_keys_not_in(const std::string& from,
                                              const std::vector<identity::PublicKey>& keys,
                                              const Rejection& reason) {
  std::vector<Hash32> dropped;
  {
    std::lock_guard lock(mu_);
    auto s = senders_.find(from);
    if (s == senders_.end()) return dropped;
    for (const auto& [nonce, e] : s->second.txs)
      if (!std::binary_search(keys.begin(), keys.end(), e.tx.key())) dropped.push_back(e.tx.id());
  }
  for (const Hash32& id : dropped) remove(id, reason);
  return dropped;
}

std::optional<ledger::Transaction> Mempool::get(const Hash32& id) const {
  std::lock_guard lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  const Sender& s = senders_.at(it->second);
  for (const auto& [nonce, e] : s.txs)
    if (e.tx.id() == id) return e.tx;
  return std::nullopt;
}

std::optional<ledger::Transaction> Mempool::find_known(const std::string& from,
                                                       uint64_t nonce) const {
  std::lock_guard lock(mu_);
  auto s = senders_.find(from);
  if (s == senders_.end()) return std::nullopt;
  auto e = s->second.txs.find(nonce);
  if (e == s->second.txs.end()) return std::nullopt;
  return e->second.tx;
}

bool Mempool::has_ready() const {
  std::lock_guard lock(mu_);
  for (const auto& entry : ready_) {
    const Sender* s = live(entry);
    if (s != nullptr && s->txs.count(s->cursor) != 0) return true;
  }
  return false;
}

std::vector<ledger::Transaction> Mempool::take_batch(size_t max_txs, size_t max_bytes) {
  std::lock_guard lock(mu_);
  std::vector<ledger::Transaction> out;
  size_t bytes = 0;
  while (!ready_.empty() && out.size() < max_txs) {
    auto [from, seq] = std::move(ready_.front());
    ready_.pop_front();
    auto it = senders_.find(from);
    if (it == senders_.end() || it->second.queue_seq != seq) continue;  // stale
    Sender& s = it->second;
    unqueue(s);
    if (s.txs.empty() && s.cursor == s.base) {
      let_go(it);
      continue;
    }
    bool full = false;
    const uint64_t cursor_before = s.cursor;
    for (auto e = s.txs.find(s.cursor); e != s.txs.end() && e->first == s.cursor; ++e) {
      const size_t size = e->second.tx.canonical().size();
      if (out.size() >= max_txs || bytes + size > max_bytes) {
        full = true;
        break;
      }
      out.push_back(e->second.tx);
      bytes += size;
      ++s.cursor;
      ++in_flight_;
    }
    if (s.cursor != cursor_before) in_flight_senders_.push_back(from);
    if (full) {
      // Keep this sender first in line for the next block.
      if (s.txs.count(s.cursor) != 0) line_up(from, s, true);
      break;
    }
  }
  return out;
}

void Mempool::release_in_flight() {
  std::lock_guard lock(mu_);
  for (const std::string& from : in_flight_senders_) {
    auto it = senders_.find(from);
    if (it == senders_.end()) continue;
    Sender& s = it->second;
    s.cursor = s.base;
    if (s.txs.empty()) {
      let_go(it);  // what it had in flight was removed meanwhile
      continue;
    }
    queue_if_ready(from, s);
  }
  in_flight_senders_.clear();
  in_flight_ = 0;
}

std::vector<Mempool::Evicted> Mempool::on_commit(std::span<const ledger::Transaction> txs) {
  std::lock_guard lock(mu_);
  ++epoch_;
  std::vector<Evicted> evicted;
  // Highest used nonce per sender in this block.
  std::unordered_map<std::string, uint64_t> next;
  for (const auto& tx : txs) {
    uint64_t& n = next[tx.from()];
    n = std::max(n, tx.nonce() + 1);
  }
  std::unordered_map<Hash32, bool, Hash32Hasher> in_block;
  for (const auto& tx : txs) in_block.emplace(tx.id(), true);
  for (const auto& [from, n] : next) {
    auto it = senders_.find(from);
    if (it == senders_.end()) {
      auto idle = idle_.find(from);
      if (idle != idle_.end()) idle->second.base = std::max(idle->second.base, n);
      continue;
    }
    Sender& s = it->second;
    s.base = std::max(s.base, n);
    while (!s.txs.empty() && s.txs.begin()->first < s.base) {
      const ledger::Transaction& tx = s.txs.begin()->second.tx;
      if (in_block.count(tx.id()) == 0) {
        Rejection r{"tx.nonce_used", "nonce " + std::to_string(tx.nonce()) + " of " + from +
                                         " was used by another committed transaction"};
        evicted.push_back(Evicted{tx.id(), r});
        remember_rejected(tx.id(), std::move(r));
      }
      bytes_ -= tx.canonical().size();
      by_id_.erase(tx.id());
      s.txs.erase(s.txs.begin());
    }
  }
  // The in-flight block is this one (one height at a time): every sender's
  // cursor restarts from its committed next nonce. Only the block's senders
  // and those with transactions in flight can have changed (walking every
  // sender here cost O(senders) per block).
  auto settle = [this](const std::string& from) {
    auto it = senders_.find(from);
    if (it == senders_.end()) return;
    Sender& s = it->second;
    s.cursor = s.base;
    if (s.txs.empty()) {
      let_go(it);
      return;
    }
    queue_if_ready(from, s);
  };
  for (const auto& [from, n] : next) settle(from);
  for (const std::string& from : in_flight_senders_) settle(from);
  in_flight_senders_.clear();
  in_flight_ = 0;
  return evicted;
}

void Mempool::record_rejected(const Hash32& id, Rejection reason) {
  std::lock_guard lock(mu_);
  remember_rejected(id, std::move(reason));
}

void Mempool::remember_rejected(const Hash32& id, Rejection reason) {
  if (opts_.rejected_kept_max == 0) return;
  auto [it, inserted] = rejected_.insert_or_assign(id, std::move(reason));
  (void)it;
  if (!inserted) return;
  rejected_order_.push_back(id);
  while (rejected_order_.size() > opts_.rejected_kept_max) {
    rejected_.erase(rejected_order_.front());
    rejected_order_.pop_front();
  }
}

std::optional<Rejection> Mempool::rejection(const Hash32& id) const {
  std::lock_guard lock(mu_);
  auto it = rejected_.find(id);
  if (it == rejected_.end()) return std::nullopt;
  return it->second;
}

size_t Mempool::size() const {
  std::lock_guard lock(mu_);
  return by_id_.size();
}

size_t Mempool::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

size_t Mempool::in_flight() const {
  std::lock_guard lock(mu_);
  return in_flight_;
}

size_t Mempool::senders() const {
  std::lock_guard lock(mu_);
  return senders_.size();
}

size_t Mempool::line_entries() const {
  std::lock_guard lock(mu_);
  return ready_.size();
}

std::vector<Hash32> Mempool::pending_heads(size_t max) const {
  // The oldest senders in line first: the ones an honest primary takes next.
  std::vector<Hash32> out;
  std::lock_guard lock(mu_);
  for (const auto& entry : ready_) {
    if (out.size() >= max) break;
    const Sender* s = live(entry);
    if (s == nullptr || s->cursor != s->base) continue;
    auto it = s->txs.find(s->base);
    if (it != s->txs.end()) out.push_back(it->second.tx.id());
  }
  return out;
}

}  // namespace imi::node

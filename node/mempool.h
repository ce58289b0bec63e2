// The mempool: transactions that passed admission and wait for a block.
//
// Admission is split so the expensive part runs off the consensus loop: the
// caller decodes the transaction and checks its chain and signature (on a
// worker pool), then calls add() with the sender's next nonce in committed
// state. add() enforces the rest:
//   - dedupe by id: the same transaction again is not an error (kDuplicate);
//   - one transaction per (sender, nonce) (DESIGN "sender rule"): another
//     transaction with a pending nonce is tx.nonce_used;
//   - nonce below the sender's next committed nonce: tx.nonce_used; more than
//     sender_txs_max ahead of it: tx.nonce_gap; with NonceOrder::kNext (what
//     the node admits with) also any nonce past the sender's next one, i.e.
//     past the committed one and those pending: tx.nonce_gap. Otherwise
//     anyone could park transactions that never become ready (nonces 1..n
//     of a fresh key) until the pool is full for everybody;
//   - caps: mempool.sender_full (sender_txs_max pending for one sender),
//     mempool.full (txs_max or bytes_max reached). Both say to retry later.
//
// Selection (take_batch) follows each sender's nonce order: a sender's
// transactions are taken consecutively from its next nonce, senders in the
// order they became ready. Taken transactions stay in the pool (GET says
// pending) but are "in flight" and not taken again until release_in_flight()
// (the block was abandoned) or on_commit() (it committed).
//
// After each committed block, on_commit() drops the block's transactions and
// evicts those that can no longer apply (their nonce was used by another
// transaction); evicted ones are remembered as rejected with the reason, in a
// bounded list (rejected_kept_max, oldest forgotten first) so GET /v1/txs/{id}
// can answer "rejected" with the reason.
//
// Thread-safe: one mutex guards everything (the API thread reads, the
// consensus loop writes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "ledger/block.h"
#include "ledger/smt_store.h"
#include "ledger/transaction.h"

namespace imi::node {

struct MempoolOptions {
  size_t txs_max = 100000;            // transactions pending in total
  size_t bytes_max = 256u << 20;      // canonical bytes pending in total
  size_t sender_txs_max = 1000;       // pending per sender; also how far a nonce may run ahead
  size_t tx_bytes_max = 64 * 1024;    // admission cap; only tightens genesis tx_bytes_max
  size_t rejected_kept_max = 100000;  // rejection reasons remembered
  // Next committed nonces remembered for senders with nothing pending, so
  // admitting their next transaction needs no state read (oldest forgotten).
  size_t idle_senders_max = 100000;
};

enum class AddResult { kAdded, kDuplicate };

// Which nonces add() takes ahead of a sender's next committed one.
enum class NonceOrder {
  kNext,    // only the sender's next: committed, or one past the last pending
  kWindow,  // any within sender_txs_max (gaps wait; tests of gap handling)
};

struct Rejection {
  std::string code;
  std::string message;
};

class Mempool : public ledger::KnownTxs {
 public:
  explicit Mempool(MempoolOptions options);

  // Adds a decoded transaction whose chain and signature were checked.
  // `committed_next_nonce` is the sender's next nonce in committed state
  // (used only when the pool holds nothing from that sender yet), read after
  // commit_epoch() returned `epoch`. If a block committed since, what the
  // caller read (that nonce, the sender's keys) may be stale, for any
  // sender: mempool.stale, read it again and retry.
  Result<AddResult> add(const ledger::Transaction& tx, uint64_t committed_next_nonce,
                        uint64_t epoch, NonceOrder order = NonceOrder::kWindow);
  // Same, for a caller that holds committed state still (tests).
  Result<AddResult> add(const ledger::Transaction& tx, uint64_t committed_next_nonce,
                        NonceOrder order = NonceOrder::kWindow) {
    return add(tx, committed_next_nonce, commit_epoch(), order);
  }
  // Counts on_commit() calls.
  uint64_t commit_epoch() const;

  bool contains(const Hash32& id) const;
  // The next committed nonce the pool tracks for `from`, nullopt if it knows
  // nothing of that sender (then the caller reads committed state). Besides
  // the senders with pending transactions, the pool remembers the next nonce
  // of up to idle_senders_max senders whose transactions all committed
  // (on_commit keeps it exact for every block it is given).
  std::optional<uint64_t> known_base(const std::string& from) const;
  // Drops the pending transaction `id` (a proposer left it out of a block)
  // and remembers `reason` for it. No-op if absent.
  void remove(const Hash32& id, Rejection reason);
  // The pending transaction with this id, if any.
  std::optional<ledger::Transaction> get(const Hash32& id) const;
  // A block changed the current keys of `from` to `keys` (sorted): drops its
  // pending transactions signed with any other key, remembering `reason`.
  std::vector<Hash32> drop_keys_not_in(const std::string& from,
                                       const std::vector<identity::PublicKey>& keys,
                                       const Rejection& reason);
  // The pending transaction of `from` with `nonce`, if any: a proposal's
  // transactions are taken from here instead of decoded again.
  std::optional<ledger::Transaction> find_known(const std::string& from,
                                                uint64_t nonce) const override;

  // Ids of up to `max` transactions that are next in line for their sender
  // (nonce == the sender's committed next nonce, none in flight), oldest
  // senders first: what an honest primary includes in its next block.
  // Consensus tracks them against censorship.
  std::vector<Hash32> pending_heads(size_t max) const;

  // True if take_batch would return at least one transaction.
  bool has_ready() const;
  // Up to `max_txs` transactions of at most `max_bytes` canonical bytes in
  // total, each sender's in nonce order, marked in flight.
  std::vector<ledger::Transaction> take_batch(size_t max_txs, size_t max_bytes);
  // Returns every in-flight transaction to the ready state.
  void release_in_flight();

  struct Evicted {
    Hash32 id{};
    Rejection reason;
  };
  // A block with `txs` committed: removes them, moves each sender's next nonce
  // past them and evicts transactions whose nonce is now used. Also clears the
  // in-flight marks (the block that was in flight is this one).
  std::vector<Evicted> on_commit(std::span<const ledger::Transaction> txs);

  // Remembers that `id` was rejected (bounded; the oldest is forgotten).
  void record_rejected(const Hash32& id, Rejection reason);
  std::optional<Rejection> rejection(const Hash32& id) const;

  size_t size() const;
  size_t bytes() const;
  size_t in_flight() const;
  // Entries in the line of ready senders, stale ones included (bounded by
  // twice the live ones plus 64; for tests).
  size_t line_entries() const;
  // Senders the pool tracks (with transactions pending or in flight; for tests).
  size_t senders() const;

 private:
  struct Entry {
    ledger::Transaction tx;
  };
  struct Sender {
    uint64_t base = 0;              // next nonce in committed state
    uint64_t cursor = 0;            // next nonce to select (base + in-flight count)
    uint64_t queue_seq = 0;         // its live entry in ready_, 0 if none
    std::map<uint64_t, Entry> txs;  // by nonce
  };

  void queue_if_ready(const std::string& from, Sender& s);
  // Puts `s` in line (at the front: first for the next block), compacting
  // the line when stale entries outnumber live ones.
  void line_up(const std::string& from, Sender& s, bool front);
  // Takes `s` out of line (its ready_ entry goes stale).
  void unqueue(Sender& s);
  // A sender with nothing pending and nothing in flight leaves senders_.
  void let_go(std::unordered_map<std::string, Sender>::iterator it);
  // The sender a ready_ entry stands for, nullptr if the entry is stale.
  const Sender* live(const std::pair<std::string, uint64_t>& entry) const;
  // A sender leaves senders_: remember its next nonce.
  void remember_idle(const std::string& from, uint64_t base);
  void remember_rejected(const Hash32& id, Rejection reason);

  const MempoolOptions opts_;

  mutable std::mutex mu_;
  // Guarded by mu_.
  std::unordered_map<std::string, Sender> senders_;
  std::unordered_map<Hash32, std::string, Hash32Hasher> by_id_;  // id -> sender
  // Senders whose cursor nonce is pending, oldest first, with the sequence
  // number of the entry. A sender that leaves senders_ while in line (on a
  // backup, whose line take_batch never drains, every sender that goes idle)
  // leaves a stale entry (its number no longer matches) that everything skips;
  // once stale entries outnumber live ones the line is compacted, so it stays
  // O(senders with pending transactions), not O(every sender ever seen).
  std::deque<std::pair<std::string, uint64_t>> ready_;
  uint64_t ready_seq_ = 0;
  size_t queued_ = 0;  // live entries in ready_
  size_t bytes_ = 0;
  size_t in_flight_ = 0;
  // Senders take_batch took from since the last commit or release: the only
  // ones, besides a committed block's, whose cursor or readiness can change,
  // so a commit touches those instead of every sender.
  std::vector<std::string> in_flight_senders_;
  uint64_t epoch_ = 0;
  std::unordered_map<Hash32, Rejection, Hash32Hasher> rejected_;
  std::deque<Hash32> rejected_order_;
  // Idle senders: next nonce and the sequence number of its idle_order_ entry
  // (an older entry of the same sender is skipped when it reaches the front).
  struct Idle {
    uint64_t base = 0;
    uint64_t seq = 0;
  };
  std::unordered_map<std::string, Idle> idle_;
  std::deque<std::pair<std::string, uint64_t>> idle_order_;
  uint64_t idle_seq_ = 0;
};

}  // namespace imi::node

// Node: transaction admission, on the verify pool. Everything here is
// thread-safe: the mempool and the signature cache lock internally, and
// committed state is read through read_tree_ under state_mu_.
#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>

#include "ledger/executor.h"
#include "ledger/executor_account.h"
#include "node/node.h"

namespace imi::node {
namespace {

namespace asio = boost::asio;

uint64_t wall_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// A state with nothing in it (see admit(): the app check of apps whose
// codes 2-3 never depend on state).
class EmptyState : public ledger::StateReader {
 public:
  Result<std::optional<std::string>> get(std::string_view, std::string_view) const override {
    return std::optional<std::string>();
  }
};

// Apps whose check() decides codes 2 (unknown op) and 3 (bad args) from the
// transaction alone, reading state only for other codes. Admission acts only
// on codes 2 and 3, so it checks these apps against EmptyState and saves a
// state-tree read per transaction (anchor: the duplicate-hash test, code 100,
// which the block decides anyway).
bool codes_2_3_stateless(const std::string& app) { return app == "anchor"; }

Status stopping_status() {
  return Status::error("node.stopping", "the node is shutting down; retry after it restarts");
}

}  // namespace

void Node::submit_tx(std::string body, SubmitDone done) {
  if (stopping_) return done(stopping_status());
  if (!started_) {
    done(Status::error("node.not_ready", "the node is starting; retry in a moment"));
    return;
  }
  asio::post(*verify_pool_, [this, body = std::move(body), done = std::move(done)]() mutable {
    verify_and_admit(std::move(body), std::move(done));
  });
}

void Node::reject(const Hash32& id, const Status& status) {
  metrics_.rejected(status.code());
  mempool_.record_rejected(id, Rejection{status.code(), status.message()});
}

void Node::request_cut() {
  if (cut_requested_.exchange(true)) return;
  asio::post(loop_, [this] {
    cut_requested_ = false;
    if (propose_request_) schedule_cut();
  });
}

bool Node::post_urgent(std::function<void()> work) {
  {
    std::lock_guard lock(urgent_mu_);
    if (urgent_.size() >= kUrgentQueuedMax) return false;
    urgent_.push_back(std::move(work));
  }
  asio::post(*verify_pool_, [this] { run_urgent(); });
  return true;
}

void Node::run_urgent() {
  for (;;) {
    std::function<void()> work;
    {
      std::lock_guard lock(urgent_mu_);
      if (urgent_.empty()) return;
      work = std::move(urgent_.front());
      urgent_.pop_front();
    }
    work();
  }
}

void Node::verify_and_admit(std::string body, SubmitDone done, bool from_peer) {
  run_urgent();
  if (stopping_) return done(stopping_status());
  auto tx = ledger::Transaction::decode(body, admit_limits_);
  if (!tx) {
    metrics_.rejected(tx.status().code());
    return done(tx.status());
  }
  const Hash32 id = tx->id();
  if (Status s = tx->check_chain(chain_); !s) {
    reject(id, s);
    return done(s);
  }
  // Pending or committed already: the same id, not an error. A nonce at or
  // above the sender's next one (as the pool knows it) is not committed yet,
  // which spares active senders a LevelDB read per transaction (a block
  // committing meanwhile is caught by admit()'s nonce check, which looks
  // again).
  if (mempool_.contains(id)) return done(api::TxAdmission{tx->id_hex()});
  const std::optional<uint64_t> base = mempool_.known_base(tx->from());
  if ((!base || tx->nonce() < *base) && store_->tx_location(id))
    return done(api::TxAdmission{tx->id_hex()});
  if (!sig_cache_.contains(id)) {
    if (Status s = tx->verify_signature(); !s) {
      reject(id, s);
      return done(s);
    }
    sig_cache_.insert(id);
  }
  // A block committing meanwhile can make the nonce read stale: read again.
  for (int attempt = 0; attempt < 8; ++attempt)
    if (admit(*tx, done, from_peer)) return;
  done(Status::error("node.not_ready", "blocks commit too fast to admit this transaction; retry"));
}

bool Node::admit(const ledger::Transaction& tx, SubmitDone& done, bool from_peer) {
  const Hash32 id = tx.id();
  auto fail_tx = [&](Status s) {
    reject(id, s);
    done(std::move(s));
    return true;
  };
  auto answer = [&](Result<api::TxAdmission> r) {
    done(std::move(r));
    return true;
  };
  const uint64_t epoch = mempool_.commit_epoch();
  const Head h = head();
  {
    std::lock_guard lock(state_mu_);
    if (!read_tree_) return answer(stopping_status());
    const ledger::RootReader state(*read_tree_, h.state_root);
    std::optional<uint64_t> base = mempool_.known_base(tx.from());
    const auto key_not_current = [&] {
      return fail_tx(Status::error("tx.key_not_current",
                                   "key " + to_hex(tx.key()) + " is not a current key of " +
                                       tx.from() + "; sign with one of its keys"));
    };
    // The stateful half of the sender rule against committed state, for every
    // transaction: a key rotated out or a frozen identity (keys cleared) must
    // not get in, even for a sender the pool tracks (it would wait on backups,
    // never proposed, and time out an honest primary). The account's keys
    // come from known_keys_ when a sender the pool tracks sends again; the
    // executor checks again when the block is built.
    std::optional<std::vector<identity::PublicKey>> known;
    if (base) {
      std::lock_guard keys_lock(keys_mu_);
      if (auto k = known_keys_.find(tx.from()); k != known_keys_.end()) known = k->second;
    }
    if (known) {
      if (!std::binary_search(known->begin(), known->end(), tx.key())) return key_not_current();
    } else {
      auto account = ledger::read_account(state, tx.from());
      if (!account) return answer(account.status());
      if (*account) {
        {
          std::lock_guard keys_lock(keys_mu_);
          // Only what was read at the current head: a block committed since
          // may have changed the keys (and erased the entry already).
          if (head().height == h.height) {
            if (known_keys_.size() >= kKnownKeysMax) known_keys_.clear();
            known_keys_[tx.from()] = (*account)->keys;
          }
        }
        if (!(*account)->has_key(tx.key())) return key_not_current();
        if (!base) base = (*account)->next_nonce;
      } else {
        if (Status s = tx.check_first_sender(); !s) return fail_tx(s);
        if (!base) base = 0;
      }
    }
    // The app exists and knows the op and its arguments (codes 1-3 mean the
    // same whatever the state; other codes may change before the block).
    const ledger::App* app = executor_app(tx.app());
    if (app == nullptr)
      return fail_tx(Status::error(
          "tx.unknown_app", "no app named \"" + tx.app() + "\" on this chain; see GET /v1/status"));
    ledger::BlockContext ctx{chain_, h.height + 1, std::max(wall_ms(), h.time_ms + 1), self_};
    static const EmptyState kEmpty;
    auto checked = app->check(
        tx, ctx,
        codes_2_3_stateless(tx.app()) ? static_cast<const ledger::StateReader&>(kEmpty) : state);
    if (!checked) return answer(checked.status());
    if (checked->code == ledger::kCodeUnknownOp)
      return fail_tx(Status::error("tx.unknown_op", checked->message));
    if (checked->code == ledger::kCodeBadArgs)
      return fail_tx(Status::error("tx.bad_args", checked->message));
    auto added = mempool_.add(tx, *base, epoch, NonceOrder::kNext);
    if (!added) {
      if (added.status().code() == "mempool.stale") return false;
      // A peer's transaction past the sender's next nonce here: the earlier
      // ones come with another peer's frame, re-gossip or a block. Not a
      // verdict on this transaction, so nothing is recorded or counted.
      if (from_peer && added.status().code() == "tx.nonce_gap") return answer(added.status());
      // A resubmission whose nonce its own commit just used: same id.
      if (store_->tx_location(id)) return answer(api::TxAdmission{tx.id_hex()});
      return fail_tx(added.status());
    }
    if (*added == AddResult::kAdded) {
      metrics_.admitted();
      // Submitted here: pass it on to the other validators (node_network.cc).
      if (!from_peer) queue_gossip(tx);
    }
  }
  done(api::TxAdmission{tx.id_hex()});
  request_cut();
  return true;
}

}  // namespace imi::node

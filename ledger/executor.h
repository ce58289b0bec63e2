// The executor: runs blocks of transactions through the apps (ledger/app.h)
// on top of the sparse Merkle state tree, in memory, and commits an executed
// block to the Store. Applying a block has exactly this one entry point
// (STYLE.md, after CometBFT's FinalizeBlock).
//
// Execution of a block at height h on the state with root `parent_root`:
//   first the deadlines due at the block's time (ledger/app.h "Deadlines"),
//   at most deadlines_per_block_max, in (time, app, key) order: each is
//   removed from the schedule and its app's on_deadline() runs (writes and
//   events kept on code 0, dropped otherwise); then
//   for each transaction, in order:
//     1. the sender rule (ledger/executor_account.h); a breach makes the block
//        invalid (or, when proposing, leaves the transaction out);
//     2. the account's nonce is used (and the account created if new), whatever
//        happens next;
//     3. the app named by tx.app: unknown -> code kCodeUnknownApp; else,
//        for a transaction sent on_behalf_of someone, the delegation
//        (ledger/delegation.h; code kCodeForbidden if it does not cover it);
//        then check() then apply(); on a nonzero code the app's writes and
//        events are dropped;
//   then all writes of the block go to the state tree in one batch update.
// Result: one TxResult per transaction then one per fired deadline,
// results_root over all of them, the new state_root and the new tree nodes. Nothing is written to
// LevelDB until commit(): state of a block not yet committed lives only in the ExecutedBlock.
//
// Signatures are not checked here: Block::validate() checks them for a block
// received from a peer, and the mempool for transactions it admits.
//
// Determinism: the same block on the same parent root gives the same results
// and roots on every node; apps see block time and state only.
//
// Not thread-safe: one owner (the consensus strand) drives it.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "ledger/app.h"
#include "ledger/block.h"
#include "ledger/certificate.h"
#include "ledger/genesis.h"
#include "ledger/smt.h"
#include "ledger/store.h"
#include "ledger/value_cache.h"

namespace imi::ledger {

class BlockState;  // executor.cc

// A transaction left out of a proposal, and why (a sender-rule code).
struct ExcludedTx {
  size_t index = 0;  // in the input
  Status reason;
};

struct ExecutedBlock {
  BlockContext context;
  std::vector<Transaction> txs;  // the transactions included, in block order
  // One per transaction (same order), then one per fired deadline.
  std::vector<TxResult> results;
  Hash32 results_root{};
  Hash32 parent_state_root{};
  Hash32 state_root{};
  NodeWriteSet new_nodes;            // tree nodes to persist with the block
  std::vector<StateWrite> writes;    // net state changes, sorted by (app, key)
  std::vector<ExcludedTx> excluded;  // propose() only
  // Accounts an app wrote (the identity registry setting their current keys),
  // in block order, possibly repeated. The sender rule's own writes (nonces,
  // a new account's first key) never change an existing account's keys, so
  // an account not listed here kept its keys (the node's admission relies on
  // it to skip re-reading them).
  std::vector<std::string> accounts_rekeyed;
};

struct ExecutorOptions {
  StateTreeOptions tree;
  // Bytes of state values kept at the committed head (ledger/value_cache.h),
  // so blocks read active accounts without walking the tree; 0: none.
  size_t value_cache_bytes = 32u << 20;
  // The ordered index of committed values (usually a StoreIndex over the
  // Store the executor commits to): where deadlines due are found. nullptr:
  // no deadline ever fires (tests of apps without deadlines). Not owned.
  const IndexReader* index = nullptr;
  // Deadlines fired per block at most (genesis block_time).
  size_t deadlines_per_block_max = 256;
};

// A StateReader over a StateTree at one root. Not thread-safe (the tree is
// not): callers that share a tree across threads lock it themselves.
class RootReader : public StateReader {
 public:
  RootReader(StateTree& tree, const Hash32& root) : tree_(tree), root_(root) {}
  Result<std::optional<std::string>> get(std::string_view app,
                                         std::string_view key) const override {
    return tree_.get(root_, app, key);
  }

 private:
  StateTree& tree_;
  const Hash32 root_;
};

class Executor {
 public:
  // `committed_nodes` reads the tree nodes of committed blocks (usually a
  // LevelDbNodeStore over Store::db()); it must outlive the executor. Apps
  // must have distinct valid names, none "account".
  static Result<std::unique_ptr<Executor>> make(const NodeReader& committed_nodes,
                                                std::vector<std::unique_ptr<App>> apps,
                                                ExecutorOptions options = {});

  // Runs `txs` as the block of `ctx` on the state `parent_root`. Any breach of
  // the sender rule is an error (exec.bad_nonce, exec.key_not_current,
  // tx.key_mismatch, tx.wrong_chain; message "txs[i]: ..."): the block is
  // invalid. state.* errors mean storage failed.
  Result<ExecutedBlock> execute(const Hash32& parent_root, const BlockContext& ctx,
                                std::span<const Transaction> txs);

  // As execute(), but transactions breaking the sender rule (or of another
  // chain) are left out and listed in `excluded`: what a proposer runs over
  // its mempool's candidates.
  Result<ExecutedBlock> propose(const Hash32& parent_root, const BlockContext& ctx,
                                std::span<const Transaction> txs);

  // Executes a received block (already checked with Block::validate) on
  // `parent_root` and checks its header's results_root and state_root
  // (exec.results_root_mismatch, exec.state_root_mismatch). The header's
  // validators hash is checked by the caller, which knows the governance app.
  Result<ExecutedBlock> execute_block(const Block& block, const Hash32& parent_root);

  // Builds the genesis block (height 0, no transactions) and its state: each
  // app's init_genesis() writes, in app-name order.
  Result<std::pair<Block, ExecutedBlock>> make_genesis(const Genesis& genesis);

  // Persists `block` with its certificate (nullptr only for genesis) and
  // everything `executed` changes, in one synced batch (Store::commit_block),
  // with the state root recorded for the block's height. Errors as
  // Store::commit_block, or exec.mismatch if `executed` is not this block's.
  // `sync` false: see BlockCommit::sync (block sync only).
  Status commit(Store& store, const Block& block, const CommitCertificate* cert,
                const ExecutedBlock& executed, bool sync = true);

  // Reads at a committed root.
  Result<std::optional<std::string>> get(const Hash32& root, std::string_view app,
                                         std::string_view key);
  Result<ProvenValue> prove(const Hash32& root, std::string_view app, std::string_view key);
  // A StateReader over the tree at `root`; valid while the executor lives.
  std::unique_ptr<StateReader> reader_at(const Hash32& root);
  // The state after `executed`, before it is committed (its writes over its
  // parent root): e.g. for the next validator set of a proposed header.
  // Valid while the executor and `executed` live.
  std::unique_ptr<StateReader> reader_after(const ExecutedBlock& executed);

  const App* app(std::string_view name) const;

  // The changes `executed` makes to indexed namespaces (what commit() writes
  // to the store's index).
  std::vector<IndexWrite> index_writes(const ExecutedBlock& executed) const;

  // The earliest pending deadline's time at the committed head, nullopt if
  // none (or no index): the primary proposes an empty block when it is due.
  Result<std::optional<uint64_t>> next_deadline() const;
  // The state root the index is at (the committed head's): set by commit()
  // and, after a restart, by the owner. A block run on another parent root
  // would fire deadlines from the wrong schedule: exec.index_behind.
  void set_committed_root(const Hash32& root) { committed_root_ = root; }

  // Fills the state tree's node cache from the tree at `root`, top levels
  // first (StateTree::warm, up to 90% of the cache): a node calls it once at
  // start so its first blocks do not read every upper node from LevelDB.
  // Returns the number of nodes loaded.
  Result<size_t> warm(const Hash32& root);

 private:
  Executor(const NodeReader& committed_nodes, std::vector<std::unique_ptr<App>> apps,
           ExecutorOptions options);
  Result<ExecutedBlock> run(const Hash32& parent_root, const BlockContext& ctx,
                            std::span<const Transaction> txs, bool proposing);

  // Fires the deadlines due at ctx.time_ms into `out.results`.
  Status fire_deadlines(const BlockContext& ctx, BlockState& state, ExecutedBlock& out);
  bool indexed_namespace(std::string_view app) const;

  StateTree tree_;
  std::vector<std::unique_ptr<App>> apps_;  // sorted by name
  const IndexReader* index_;
  size_t deadlines_per_block_max_;
  std::optional<Hash32> committed_root_;
  // Values at the last committed root (or at the root of the first block run
  // after a reset); blocks run on that root read through it.
  ValueCache values_;
  // Reused by commit() so its buffers keep their capacity between blocks.
  BlockCommit commit_scratch_;
};

}  // namespace imi::ledger

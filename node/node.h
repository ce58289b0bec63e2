// The imid process: wires the store, the executor, the mempool and the PBFT
// engine into one event loop, and serves the HTTP API through NodeApi.
//
// Threads (DESIGN "node/"; STYLE: one owner mutates consensus state):
//   loop      one thread running `loop_`: owns the engine, the executor, the
//             proposal cutting and block commits. Everything that changes
//             consensus or ledger state is a handler posted here.
//   verify    a pool (config verify_threads) that admits submitted
//             transactions: decodes them, checks their signatures and the
//             sender rule against committed state, and adds them to the
//             (thread-safe) mempool, then posts a "cut a block" message to
//             the loop. Admission never waits for the block in flight, so
//             clients keep submitting while a block executes and commits.
//             Peers' consensus messages are decoded and their signatures
//             checked here too, ahead of queued transactions (post_urgent),
//             then posted to the loop: the engine's own check there finds
//             each signature in verifier_'s memory of recent successes.
//   serve     one thread that reads and encodes the blocks peers fetch
//             (block sync), so a catching-up node never stalls the loop.
//   api       the HTTP server's io_context threads (config api_threads);
//             NodeApi reads run there against the Store (thread-safe) and
//             snapshots taken under small mutexes.
//
// Blocks (DESIGN "Consensus"): a block is cut as soon as transactions wait
// and no block is in flight; while one is in flight (being executed and
// committed), admitted transactions accumulate and the next block takes up
// to the batch limit. With one validator the engine decides a block within
// the propose call, so "in flight" spans the execution and the synced
// LevelDB write of that block. With nothing waiting, no block is cut,
// unless an app's deadline is due: the primary then cuts an empty block so
// it fires (node_deadlines.cc).
//
// Durability: a block is reported committed only after its one synced
// WriteBatch returned (Executor::commit). The engine's DurableState is
// written (synced) before any message leaves the node; a dev chain has no
// peers, so it is written only at shutdown (nothing was ever promised to
// anyone before that).
//
// Shutdown (shutdown(), e.g. on SIGTERM): stop admitting (node.stopping),
// stop the HTTP server, let the loop finish the block in progress, write
// the engine's state, close LevelDB.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "api/http_server.h"
#include "api/node_api.h"
#include "consensus/engine.h"
#include "ledger/executor.h"
#include "ledger/store.h"
#include "ledger/store_index.h"
#include "node/block_sync.h"
#include "node/byzantine_hook.h"
#include "node/durable_file.h"
#include "node/engine_crypto.h"
#include "node/home.h"
#include "node/mempool.h"
#include "node/merkle_paths.h"
#include "node/metrics.h"
#include "node/p2p/transport.h"
#include "node/sig_cache.h"

namespace imi::node {

// The options of a node's ledger store. Its LevelDB memtable is 3 to 5 MiB,
// by its index in the genesis validator set (else by its key), so that
// validators, which write the same entries at the same blocks, do not all
// flush and compact at the same moment.
ledger::StoreOptions store_options_for(const identity::PublicKey& key,
                                       const ledger::ValidatorSet& genesis_validators,
                                       std::string_view did);

class Node : public api::NodeApi {
 public:
  // The apps the executor runs (make_apps() below unless a test gives others).
  using AppsFactory = std::function<std::vector<std::unique_ptr<ledger::App>>()>;

  // Opens the ledger in home.data_dir (creating the genesis block on first
  // start) and builds the engine from its durable state. Errors: store.*,
  // exec.*, consensus.*, durable.*, node.genesis_mismatch (the store holds
  // another chain's genesis), node.not_validator. `apps`: null for
  // make_apps() (tests add apps of their own).
  static Result<std::unique_ptr<Node>> open(Home home, AppsFactory apps = nullptr);
  ~Node() override;

  // Binds the API and starts every thread. Errors: api.bind, api.bad_address.
  Status start();
  // "http://127.0.0.1:8080" (the bound port).
  std::string api_url() const;
  // Graceful stop (see above). Idempotent; call from any thread but the
  // node's own.
  void shutdown();
  // Test builds only (node/byzantine_hook.h): call before start().
  void set_byzantine_hook(ByzantineHook* hook) { byzantine_ = hook; }
  // Set when a fatal error (a failed LevelDB write) stopped the loop.
  bool failed() const { return failed_.load(); }

  // NodeApi (api/node_api.h).
  void submit_tx(std::string body, SubmitDone done) override;
  void watch_tx(std::string id, Owner owner, TxDone done) override;
  void watch_height(uint64_t height, Owner owner, HeightDone done) override;
  api::JsonReply get_tx(std::string_view id) override;
  api::JsonReply get_block(uint64_t height) override;
  Result<api::BlockPage> list_blocks(uint64_t from, uint32_t limit) override;
  uint64_t head_height() override;
  Result<api::BlockEvents> block_events(uint64_t height, const api::EventFilter& filter) override;
  api::JsonReply get_state(std::string_view app, std::string_view key) override;
  api::JsonReply app_query(const api::AppQuery& query) override;
  api::JsonReply get_did(std::string_view did) override;
  api::JsonReply list_evidence(uint64_t from, uint32_t limit) override;
  api::JsonReply verify_presentation(std::string body) override;
  api::JsonReply status() override;
  Status ready() override;
  std::string metrics_text() override;

 private:
  // A block proposed or validated at the height in progress, executed in memory.
  struct Candidate {
    std::shared_ptr<const ledger::Block> block;
    ledger::ExecutedBlock executed;
    // When this node began on the block (cut it as primary, or began
    // checking the proposal) and when it had executed it: with the commit's
    // own times, the phases of the slow-block log line.
    std::chrono::steady_clock::time_point cut_at;
    std::chrono::steady_clock::time_point executed_at;
  };
  // A committed block kept for quick proof answers.
  struct RecentBlock {
    std::shared_ptr<const ledger::Block> block;
    std::shared_ptr<const MerklePaths> paths;
    std::vector<std::string> messages;  // result messages (never hashed, not stored)
  };
  struct Head {
    uint64_t height = 0;
    Hash32 id{};
    uint64_t time_ms = 0;
    Hash32 state_root{};
    uint64_t view = 0;
  };

  Node(Home home, AppsFactory apps);
  Status open_ledger();
  Status open_engine();

  // --- loop thread (node.cc) ---
  void handle(consensus::Ready ready);
  void schedule_cut();
  void cut_block();
  void validate(const consensus::ValidateRequest& request);
  Status commit(const consensus::Committed& committed);
  // Persists a block executed on head_root_ with its certificate and
  // publishes it (head, recent blocks, watchers, mempool).
  // `sync` false only for block sync in the middle of a run of blocks.
  // `cut_at`/`executed_at`: as in Candidate (for the commit-time metric and
  // the slow-block log; block sync passes the time it fetched the block).
  Status commit_executed(std::shared_ptr<const ledger::Block> block,
                         const ledger::CommitCertificate& cert, ledger::ExecutedBlock executed,
                         std::chrono::steady_clock::time_point cut_at,
                         std::chrono::steady_clock::time_point executed_at, bool sync = true);
  // Checks a proposed block (decoded, of the chain, at the expected height on
  // the head, signatures) and executes it; nullopt with the reason logged
  // if it is not valid.
  Result<ledger::ExecutedBlock> check_and_execute(const ledger::Block& block);
  void persist_durable();
  // Deadlines on an idle chain (node_deadlines.cc; DESIGN "Consensus"): the
  // primary with a propose request and nothing in the mempool still cuts an
  // (empty) block once the earliest pending deadline is due.
  // Reads the earliest pending deadline at the committed head (after open and
  // after every commit).
  void refresh_next_deadline();
  // Whether a deadline is due: at or before the wall clock (a block cut now
  // has a time at or after it, so it fires there).
  bool deadline_due() const;
  // An id for the earliest deadline when it is overdue by more than
  // delta_ms + empty_block_period_ms, reported to the engine as waiting work
  // (report_pending); nullopt otherwise.
  std::optional<Hash32> overdue_deadline_ref() const;
  // With a propose request waiting and nothing to cut: wakes the loop when
  // the next deadline is due, and at least every empty_block_period_ms
  // while one is pending (the clock it is due by is the wall clock).
  void wake_for_deadline();
  void on_tick();
  void arm_tick();
  void fail(const Status& status);

  // --- verify pool (node_admission.cc) ---
  // `from_peer`: gossiped by another node (admitted, never gossiped again).
  void verify_and_admit(std::string body, SubmitDone done, bool from_peer = false);
  // One attempt; false if a commit made the nonce it read stale (retry).
  bool admit(const ledger::Transaction& tx, SubmitDone& done, bool from_peer);
  void reject(const Hash32& id, const Status& status);
  // Asks the loop to cut a block if one is wanted (at most one post pending).
  void request_cut();
  // Any thread: queues work for the verify pool ahead of the transactions
  // already queued there (consensus messages must not wait behind a burst of
  // submissions). The next pool job to start runs it, and admission runs
  // queued urgent work between transactions.
  // At most kUrgentQueuedMax wait; past that `work` is dropped and this
  // answers false (a peer flooding consensus messages must not grow memory;
  // honest peers send again on their rebroadcast timer).
  bool post_urgent(std::function<void()> work);
  static constexpr size_t kUrgentQueuedMax = 10'000;
  // Verify pool: runs the urgent work queued so far.
  void run_urgent();

  // --- network (node_network.cc); loop thread unless said otherwise ---
  // Any thread: queues a newly admitted transaction for the next gossip batch.
  void queue_gossip(const ledger::Transaction& tx);
  // Builds the P2P transport when the node has peers (more than one
  // validator, or configured peers/observers). Called by open().
  Status open_network();
  Status start_network();
  void stop_network();
  bool has_network() const { return p2p_ != nullptr; }
  void send_outbound(const consensus::Outbound& m);
  void on_frame(const identity::PublicKey& from, Bytes frame);
  // A consensus message from a validator: decoded and its signatures checked
  // on the verify pool (issue 4), then handed to the engine on the loop,
  // whose own check finds them in verifier_'s memory.
  void check_consensus_message(Bytes wire);
  void on_peer_state(const identity::PublicKey& peer, bool connected);
  // Every tick: flushes gossip, drives block sync, re-announces the tip, logs stalls.
  void network_tick();
  // Tells the engine which transactions wait next in line (censorship watch).
  void report_pending();
  // Sends the queued gossip to the validators, in as few frames as fit.
  void flush_gossip();
  // A peer asked for blocks: read and encoded on the serve thread (up to
  // 8 MiB a request, tens of ms that must not stall consensus), then sent
  // from the loop. At most kServeQueuedMax requests wait; more are dropped
  // (the peer asks again).
  void serve_blocks(const identity::PublicKey& peer, uint64_t from, uint32_t count);
  static constexpr int kServeQueuedMax = 4;
  static constexpr int64_t kServeSlowMs = 100;  // a request slower than this is logged
  void apply_synced_blocks();
  // Verifies a fetched block against its certificate and the validator set in
  // force, executes and commits it. Errors: sync.* (the peer's fault).
  Status apply_synced(const SyncedBlock& b);
  // After a commit: learns validator-set changes from the governance state,
  // hands them to the engine and re-admits peer keys.
  Status refresh_validator_sets();
  void announce_tip();
  std::string peer_name(const identity::PublicKey& key) const;

  // --- readers, any thread (node_queries.cc) ---
  Head head() const;
  Result<RecentBlock> recent_block(uint64_t height);
  std::string committed_tx_json(const RecentBlock& block, uint32_t position,
                                const std::string& result_json) const;
  std::string rejected_tx_json(const Hash32& id, const Rejection& r) const;
  void notify(const Hash32& id, const api::JsonReply& body);
  // Status of `id` if final (committed or rejected), else nullopt.
  std::optional<api::JsonReply> final_status(const Hash32& id);

  // Constant after open().
  Home home_;
  AppsFactory apps_factory_;
  std::string chain_;
  std::string self_;
  ledger::ValidityLimits limits_;        // genesis limits
  ledger::ValidityLimits admit_limits_;  // tightened by the mempool config
  // The set at head+1, shared: a consensus message checked on the verify pool
  // takes a reference, not a copy. Guarded by head_mu_ once started; never null.
  std::shared_ptr<const consensus::ValidatorSet> consensus_set_ =
      std::make_shared<const consensus::ValidatorSet>();
  // The executor's apps by name (immutable; App::check is const and reads
  // only the state it is given, so admission calls it from any thread).
  std::map<std::string, const ledger::App*> apps_;
  const ledger::App* executor_app(const std::string& name) const {
    auto it = apps_.find(name);
    return it == apps_.end() ? nullptr : it->second;
  }
  Ed25519Signer signer_;
  Ed25519Verifier verifier_;
  consensus::Limits consensus_limits_;  // what peers' consensus messages may hold

  std::mutex urgent_mu_;
  std::deque<std::function<void()>> urgent_;  // guarded by urgent_mu_

  // Thread-safe components.
  std::unique_ptr<ledger::Store> store_;
  // The store's ordered index: the executor's deadline schedule and the
  // apps' queries (App::query) read it. Built right after store_.
  std::unique_ptr<ledger::StoreIndex> index_;
  std::unique_ptr<ledger::LevelDbNodeStore> nodes_;
  Mempool mempool_;
  SigCache sig_cache_;
  NodeMetrics metrics_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> failed_{false};
  std::atomic<bool> started_{false};

  // Owned by the loop thread.
  boost::asio::io_context loop_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>
      loop_work_;
  boost::asio::steady_timer tick_timer_;
  // Deadlines (node_deadlines.cc): the earliest pending one at the head, and
  // the timer that wakes an idle primary for it.
  std::optional<uint64_t> next_deadline_ms_;
  boost::asio::steady_timer deadline_timer_;
  std::optional<std::chrono::steady_clock::time_point> deadline_wake_at_;  // armed: when
  uint64_t deadline_timer_gen_ = 0;  // a handler of an older arming does nothing
  std::unique_ptr<ledger::Executor> executor_;
  std::unique_ptr<consensus::Engine> engine_;
  std::unique_ptr<p2p::Transport> p2p_;  // null: no peers (a lone validator)
  BlockSync sync_{BlockSyncOptions{}};
  // Keys of validators in force now or soon (set at head+1 and head+2), by DID.
  std::map<std::string, identity::PublicKey> validator_keys_;
  std::map<identity::PublicKey, std::string> key_names_;  // key -> DID for logs
  std::vector<identity::PublicKey> observer_keys_;
  Hash32 validators_hash_{};                         // hash of the set that signs head+1
  std::optional<consensus::ValidatorSet> next_set_;  // set at head+2 if it differs
  uint64_t last_tip_sent_ms_ = 0;
  uint64_t last_commit_ms_ = 0;
  uint64_t last_stall_log_ms_ = 0;
  uint64_t last_pending_ms_ = 0;
  bool observer_ = false;               // [node] role = observer: no engine
  ByzantineHook* byzantine_ = nullptr;  // test builds only
  DurableFile durable_file_;
  std::optional<consensus::DurableState> durable_pending_;  // not yet written
  std::optional<consensus::ProposeRequest> propose_request_;
  std::unordered_map<Hash32, Candidate, Hash32Hasher> candidates_;
  Hash32 head_root_{};
  bool cut_scheduled_ = false;
  bool loop_closing_ = false;  // shutdown: no more ticks
  std::atomic<bool> cut_requested_{false};
  uint64_t last_view_ = 0;
  bool last_view_changing_ = false;

  // Head snapshot for readers.
  mutable std::mutex head_mu_;
  Head head_;                                 // guarded by head_mu_
  std::vector<std::string> peers_connected_;  // DIDs, guarded by head_mu_

  // Recent committed blocks (readers and the loop).
  std::mutex recent_mu_;
  std::map<uint64_t, RecentBlock> recent_;  // guarded by recent_mu_
  static constexpr size_t kRecentBlocksMax = 8;

  // Committed-state reads for GET /v1/state and for admission (StateTree is
  // not thread-safe).
  std::mutex state_mu_;
  std::unique_ptr<ledger::StateTree> read_tree_;  // guarded by state_mu_

  // Transactions admitted here, waiting for the next gossip frame.
  std::atomic<bool> gossip_enabled_{false};
  std::mutex gossip_mu_;
  std::vector<std::string> gossip_out_;  // guarded by gossip_mu_
  // Transactions admitted here (not gossiped to us), kept while pending so a
  // peer that was cut off or restarted gets them again (node_network.cc).
  struct LocalTx {
    uint64_t admitted_ms = 0;
    Hash32 id{};
    std::string canonical;
  };
  std::deque<LocalTx> local_txs_;  // guarded by gossip_mu_, oldest first
  static constexpr size_t kLocalTxsMax = 200000;
  uint64_t last_regossip_ms_ = 0;  // loop thread
  // Sends `to` (or every validator if null) the local transactions still
  // pending and admitted before `older_than_ms`, at most `max` of them.
  void resend_local_txs(const identity::PublicKey* to, uint64_t older_than_ms, size_t max);

  // After a block: pending transactions of accounts it rekeyed whose key is
  // no longer current are dropped as tx.key_not_current (a backup would keep
  // them forever, reported pending, and blame an honest primary).
  void evict_rekeyed(const ledger::ExecutedBlock& executed);

  // Current keys of accounts admission read from committed state, so the next
  // transaction from the same account skips the state read (guarded by
  // keys_mu_). An entry holds while no committed block lists the account in
  // ExecutedBlock::accounts_rekeyed (commit_executed erases those after the
  // head moves; admission stores only what it read at the current head).
  // Cleared when it reaches kKnownKeysMax accounts.
  std::mutex keys_mu_;
  std::unordered_map<std::string, std::vector<identity::PublicKey>> known_keys_;
  static constexpr size_t kKnownKeysMax = 200'000;

  // wait=commit watchers.
  std::mutex watch_mu_;
  struct TxWatcher {
    Owner owner;
    TxDone done;
  };
  std::unordered_map<Hash32, std::vector<TxWatcher>, Hash32Hasher> watchers_;
  size_t watcher_count_ = 0;  // guarded by watch_mu_
  static constexpr size_t kWatchersMax = 200000;
  // GET /v1/blocks?wait_ms= and /v1/events watchers, by the height each waits
  // for (guarded by watch_mu_). A request that ended leaves its entry until
  // the height comes, or until the cap is reached: then entries whose owner
  // expired are dropped first, and only if the cap still holds is a new one
  // answered at once.
  struct HeightWatcher {
    Owner owner;
    HeightDone done;
  };
  std::multimap<uint64_t, HeightWatcher> height_watchers_;
  static constexpr size_t kHeightWatchersMax = 20000;
  // Watchers added, and requests refused at the cap, since the last sweep of
  // expired owners (guarded by watch_mu_): a sweep waits until either is an
  // eighth of the cap, so a cap held by live requests does not cost a full
  // scan per request, and owners that expire later are still swept.
  struct SweepCount {
    size_t added = 0;
    size_t refused = 0;
    bool due(size_t cap) const { return added >= cap / 8 || refused >= cap / 8; }
  };
  SweepCount tx_sweep_;
  SweepCount height_sweep_;
  // Drops watchers whose owner expired when the cap is reached; true if there
  // is room for one more. Caller holds watch_mu_.
  bool room_for_tx_watcher();
  bool room_for_height_watcher();

  // Threads and the API server.
  boost::asio::io_context api_io_;
  std::unique_ptr<api::HttpServer> server_;
  std::unique_ptr<boost::asio::thread_pool> verify_pool_;
  // Peers' gossip frames: one strand per peer over the verify pool, so each
  // peer's frames are admitted in the order it sent them (admission takes a
  // sender's next nonce only); loop thread. At most kPeerTxsQueuedMax of
  // their transactions wait; a frame past that is dropped (p2p.verify_busy):
  // its transactions come again with re-gossip or in a block.
  boost::asio::strand<boost::asio::thread_pool::executor_type>& gossip_strand(
      const identity::PublicKey& peer);
  std::map<identity::PublicKey, boost::asio::strand<boost::asio::thread_pool::executor_type>>
      gossip_strands_;
  std::atomic<size_t> peer_txs_queued_{0};
  static constexpr size_t kPeerTxsQueuedMax = 100'000;
  std::unique_ptr<boost::asio::thread_pool> serve_pool_;  // one thread: imid-serve
  std::atomic<int> serve_queued_{0};
  std::vector<std::thread> api_threads_;
  std::thread loop_thread_;
  std::mutex shutdown_mu_;
  bool shut_down_ = false;  // guarded by shutdown_mu_
};

// The apps this node runs (anchor, ...), in a fresh vector.
std::vector<std::unique_ptr<ledger::App>> make_apps();

}  // namespace imi::node

// Node: opening, threads, the consensus loop (cutting, validating and
// committing blocks) and transaction admission. Reads for the API are in
// node_queries.cc.
#include "node/node.h"

#include <pthread.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>

#include "base/sha256.h"
#include "ledger/executor_account.h"
#include "node/consensus_convert.h"
#include "node/evidence_log.h"

namespace imi::node {

namespace asio = boost::asio;

namespace {

uint64_t wall_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

void log_line(const std::string& s) { std::fprintf(stderr, "imid: %s\n", s.c_str()); }

}  // namespace

// Every validator writes the same entries at the same blocks, so with equal
// memtables all flush at the same block and all run LevelDB's compaction
// (about a second of CPU each) at the same moment; a PBFT round needs 3 of 4,
// so that stalled the chain for 1-2 s every ~5 s (measured: on 4 validators
// at 1,000 tx/s, every stall second of the bench timeline lined up with all
// four LOGs compacting). Memtables therefore differ: a validator of the
// genesis set takes its place in [3, 5) MiB by its index (evenly spaced; a
// single validator 4 MiB, the size measured best for commit CPU), any other
// node a place by its key. Stable across restarts.
ledger::StoreOptions store_options_for(const identity::PublicKey& key,
                                       const ledger::ValidatorSet& genesis_validators,
                                       std::string_view did) {
  ledger::StoreOptions o;
  constexpr size_t kStep = 64 << 10;  // 32 steps of 64 KiB over 2 MiB
  size_t step;
  const int64_t i = genesis_validators.index_of(did);
  if (i >= 0 && genesis_validators.n() > 0) {
    // The middle of the i-th of n equal slices: a lone validator keeps 4 MiB.
    step = (2 * static_cast<size_t>(i) + 1) * 16 / genesis_validators.n();
  } else {
    step = sha256(ByteView(key.data(), key.size()))[0] % 32;
  }
  o.write_buffer_bytes = (size_t{3} << 20) + step * kStep;
  return o;
}

Node::Node(Home home, AppsFactory apps)
    : home_(std::move(home)),
      apps_factory_(apps ? std::move(apps) : AppsFactory(make_apps)),
      signer_(home_.key),
      mempool_(home_.config.mempool),
      sig_cache_(home_.config.mempool.txs_max * 2 + 10000),
      tick_timer_(loop_),
      deadline_timer_(loop_),
      durable_file_((std::filesystem::path(home_.data_dir) / "consensus").string()) {}

Node::~Node() { shutdown(); }

Result<std::unique_ptr<Node>> Node::open(Home home, AppsFactory apps) {
  std::unique_ptr<Node> node(new Node(std::move(home), std::move(apps)));
  IMI_RETURN_IF_ERROR(node->open_ledger());
  if (!node->observer_) IMI_RETURN_IF_ERROR(node->open_engine());
  IMI_RETURN_IF_ERROR(node->open_network());
  return node;
}

Status Node::open_ledger() {
  const ledger::Genesis& g = home_.genesis;
  chain_ = g.chain();
  self_ = home_.key.did();
  limits_ = g.limits();
  admit_limits_ = limits_;
  if (home_.config.mempool.tx_bytes_max < admit_limits_.tx_bytes_max)
    admit_limits_.tx_bytes_max = home_.config.mempool.tx_bytes_max;
  observer_ = home_.config.observer;

  std::error_code ec;
  std::filesystem::create_directories(home_.data_dir, ec);
  if (ec) return Status::error("node.io", "cannot create " + home_.data_dir + ": " + ec.message());
  ledger::StoreOptions store_options =
      store_options_for(home_.key.public_key(), g.validators(), self_);
  auto store = ledger::Store::open((std::filesystem::path(home_.data_dir) / "ledger").string(),
                                   store_options);
  if (!store) return store.status();
  store_ = std::move(*store);
  {
    char mib[16];
    std::snprintf(mib, sizeof mib, "%.2f", store_options.write_buffer_bytes / 1048576.0);
    log_line(std::string("ledger store: LevelDB memtable ") + mib +
             " MiB (each validator's differs, so they do not all compact at the same moment)");
  }
  index_ = std::make_unique<ledger::StoreIndex>(*store_);
  nodes_ = std::make_unique<ledger::LevelDbNodeStore>(*store_->db());
  std::vector<std::unique_ptr<ledger::App>> apps = apps_factory_();
  std::vector<std::string> names;
  for (const auto& a : apps) names.emplace_back(a->name());
  ledger::ExecutorOptions exec_options;
  exec_options.tree.cache_bytes = home_.config.state_cache_mib << 20;
  exec_options.index = index_.get();
  exec_options.deadlines_per_block_max = g.block_time().deadlines_per_block_max;
  auto exec = ledger::Executor::make(*nodes_, std::move(apps), exec_options);
  if (!exec) return exec.status();
  executor_ = std::move(*exec);
  for (const auto& name : names) apps_[name] = executor_->app(name);
  read_tree_ = std::make_unique<ledger::StateTree>(*nodes_);

  auto genesis = executor_->make_genesis(g);
  if (!genesis) return genesis.status();
  auto& [gblock, gexec] = *genesis;
  if (!store_->head()) {
    IMI_RETURN_IF_ERROR(executor_->commit(*store_, gblock, nullptr, gexec));
  } else {
    auto stored = store_->block_json(0);
    if (!stored) return stored.status();
    if (*stored != gblock.canonical())
      return Status::error("node.genesis_mismatch",
                           "the ledger in " + home_.data_dir + " holds another genesis than " +
                               home_.config.genesis_file +
                               "; use the matching genesis or another data_dir");
  }
  const ledger::StoreHead sh = *store_->head();
  auto block_json = store_->block_json(sh.height);
  if (!block_json) return block_json.status();
  auto block = ledger::Block::decode(*block_json, limits_);
  if (!block) return block.status();
  Head h;
  h.height = sh.height;
  h.id = sh.block_id;
  h.time_ms = block->header().time_ms;
  h.state_root = block->header().state_root;
  if (sh.height > 0) {
    auto cert_json = store_->cert_json(sh.height);
    if (!cert_json) return cert_json.status();
    auto cert = ledger::CommitCertificate::decode(*cert_json);
    if (!cert) return cert.status();
    h.view = cert->view;
  }
  head_root_ = h.state_root;
  // The index is at the head's state (written in each block's batch); the
  // executor fires deadlines only on that root.
  executor_->set_committed_root(head_root_);
  refresh_next_deadline();
  last_commit_ms_ = wall_ms();
  // Load the upper levels of the state tree into its cache now, so the first
  // blocks after a restart do not pay a cold read per node.
  const auto warm_start = std::chrono::steady_clock::now();
  if (auto warmed = executor_->warm(head_root_); !warmed) {
    log_line("state cache warm-up failed (" + warmed.status().to_string() +
             "); continuing with a cold cache");
  } else if (const double s =
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - warm_start)
                     .count();
             s >= 1) {
    log_line("state cache: loaded " + std::to_string(*warmed) + " tree nodes in " +
             std::to_string(static_cast<int>(s)) + " s ([storage] state_cache_mib = " +
             std::to_string(home_.config.state_cache_mib) + ")");
  }
  {
    std::lock_guard lock(head_mu_);
    head_ = h;
  }
  // The validator sets in force at head+1 and head+2, from the governance state.
  IMI_RETURN_IF_ERROR(refresh_validator_sets());
  if (!observer_ && validator_keys_.find(self_) == validator_keys_.end())
    log_line(self_ + " (the key in " + home_.config.keystore_file +
             ") is not a validator in force: following the chain without voting until a "
             "governance change adds it (or set [node] role = observer)");
  return Status::ok();
}

Status Node::open_engine() {
  const Head h = head();
  consensus::Options o;
  o.chain_id = chain_;
  o.self = self_;
  const uint64_t tick = home_.config.tick_ms;
  o.checkpoint_interval = home_.config.checkpoint_interval;
  o.view_timeout_ticks = std::max<uint64_t>(1, home_.config.view_timeout_ms / tick);
  o.view_timeout_max_ticks =
      std::max<uint64_t>(o.view_timeout_ticks, home_.config.view_timeout_max_ms / tick);
  o.rebroadcast_ticks = std::max<uint64_t>(1, 500 / tick);
  // A primary is suspected of passing over a waiting transaction only after
  // 3 blocks AND half a view timeout: at tens of blocks a second, 3 blocks
  // are shorter than gossip under load takes to bring the transaction to the
  // primary (measured: a view change every few seconds at 800 tx/s on 4 nodes).
  o.censorship_ticks_min = o.view_timeout_ticks / 2;
  o.block_time_future_max_ms = home_.genesis.block_time().delta_ms;
  o.limits.payload_bytes_max = limits_.block_bytes_max;
  consensus_limits_ = o.limits;

  std::optional<consensus::DurableState> durable;
  auto bytes = durable_file_.load();
  if (!bytes) return bytes.status();
  if (*bytes) {
    auto d = consensus::decode_durable(**bytes, o.limits);
    if (!d) return d.status();
    durable = std::move(*d);
  }
  consensus::ChainTip tip;
  tip.height = h.height;
  tip.block = h.id;
  tip.time_ms = h.time_ms;
  tip.view = h.view;
  if (h.height > 0) {
    // The tip's certificate lets the engine help a peer one height behind.
    auto cert_json = store_->cert_json(h.height);
    if (!cert_json) return cert_json.status();
    auto cert = ledger::CommitCertificate::decode(*cert_json);
    if (!cert) return cert.status();
    tip.cert = to_consensus_cert(*cert);
  }
  consensus::ValidatorSchedule schedule;
  {
    std::lock_guard lock(head_mu_);
    schedule = consensus::ValidatorSchedule(*consensus_set_);
  }
  if (next_set_) schedule.add(h.height + 2, *next_set_);
  auto engine = consensus::Engine::create(o, signer_, verifier_, tip, std::move(schedule), durable);
  if (!engine) return engine.status();
  engine_ = std::move(*engine);
  last_view_ = engine_->view();
  return Status::ok();
}

Status Node::start() {
  api::ServerOptions opts = home_.config.api;
  server_ = std::make_unique<api::HttpServer>(api_io_, *this, opts);
  IMI_RETURN_IF_ERROR(server_->start());
  verify_pool_ = std::make_unique<asio::thread_pool>(home_.config.verify_threads);
  serve_pool_ = std::make_unique<asio::thread_pool>(1);
  asio::post(*serve_pool_, [] { pthread_setname_np(pthread_self(), "imid-serve"); });
  loop_work_.emplace(loop_.get_executor());
  asio::post(loop_, [this] {
    if (Status s = start_network(); !s) {
      log_line("cannot start P2P: " + s.to_string() +
               "; check [p2p] listen in the config (is another node on that port?)");
      return fail(s);
    }
    // The engine checks block time against its clock: give it one first.
    if (engine_) {
      handle(engine_->on_tick(wall_ms()));
      handle(engine_->start());
    }
    arm_tick();
    started_ = true;
  });
  loop_thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "imid-loop");
    loop_.run();
  });
  for (size_t i = 0; i < home_.config.verify_threads; ++i)
    asio::post(*verify_pool_, [] { pthread_setname_np(pthread_self(), "imid-verify"); });
  for (size_t i = 0; i < home_.config.api_threads; ++i)
    api_threads_.emplace_back([this] {
      pthread_setname_np(pthread_self(), "imid-api");
      api_io_.run();
    });
  return Status::ok();
}

std::string Node::api_url() const {
  const std::string& host = home_.config.api.listen_host;
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return "http://" + h + ":" + std::to_string(server_ ? server_->port() : 0);
}

void Node::shutdown() {
  std::lock_guard lock(shutdown_mu_);
  if (shut_down_) return;
  shut_down_ = true;
  stopping_ = true;
  // 1. No new requests; responses in flight are dropped by the server.
  if (server_) server_->stop();
  api_io_.stop();
  for (auto& t : api_threads_) t.join();
  api_threads_.clear();
  // 2. Admissions already being verified finish (they are refused in admit()).
  if (verify_pool_) verify_pool_->join();
  //    Blocks being read for a peer are read (their send is dropped below).
  if (serve_pool_) serve_pool_->join();
  // 3. The loop finishes the block in progress (handlers run to completion),
  //    then writes the engine's state and stops.
  if (loop_thread_.joinable()) {
    asio::post(loop_, [this] {
      loop_closing_ = true;
      tick_timer_.cancel();
      deadline_timer_.cancel();
      stop_network();
      if (!failed_) persist_durable();
      loop_work_.reset();
    });
    loop_thread_.join();
  }
  // 4. Close LevelDB (destroying the store syncs nothing more: every block
  //    was written with a synced batch).
  engine_.reset();
  executor_.reset();
  index_.reset();
  {
    std::lock_guard state_lock(state_mu_);
    read_tree_.reset();
  }
  nodes_.reset();
  store_.reset();
}

// ---------------------------------------------------------------- loop

void Node::arm_tick() {
  tick_timer_.expires_after(std::chrono::milliseconds(home_.config.tick_ms));
  tick_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || failed_ || loop_closing_) return;
    on_tick();
    arm_tick();
  });
}

void Node::on_tick() {
  if (engine_) handle(engine_->on_tick(wall_ms()));
  if (p2p_ && !failed_) network_tick();
}

void Node::fail(const Status& status) {
  log_line("fatal: " + status.to_string() + "; stopping the node (restart it to recover)");
  failed_ = true;
  stopping_ = true;
  tick_timer_.cancel();
  deadline_timer_.cancel();
}

void Node::handle(consensus::Ready ready) {
  if (failed_) return;
  // THE RULE (consensus/engine.h): committed blocks first, then the durable
  // state, then messages.
  for (const consensus::Committed& c : ready.committed) {
    Status s = commit(c);
    if (!s) return fail(s);
  }
  if (ready.to_persist) durable_pending_ = std::move(ready.to_persist);
  if (!ready.messages.empty() && p2p_) {
    persist_durable();
    if (failed_) return;
    for (const auto& m : ready.messages) send_outbound(m);
  }
  if (ready.sync && p2p_) {
    // A peer spoke of a later height: it will tell us its tip; sync follows.
    auto it = validator_keys_.find(ready.sync->peer);
    if (it != validator_keys_.end()) sync_.on_tip(it->second, ready.sync->height, wall_ms());
  }
  if (ready.propose) propose_request_ = ready.propose;
  for (const auto& v : ready.validate) validate(v);
  for (const consensus::Evidence& e : ready.evidence) {
    // Kept durably before anything else happens: it is what governance needs
    // to remove the validator.
    const std::string path = (std::filesystem::path(home_.data_dir) / "evidence.jsonl").string();
    log_line("EVIDENCE: " + e.validator + " signed two different " +
             (e.kind == consensus::Evidence::Kind::kConflictingProposal ? "proposals" : "votes") +
             " at height " + std::to_string(e.height) + ", view " + std::to_string(e.view) +
             "; both messages saved in " + path);
    if (Status s = append_evidence(path, e); !s) return fail(s);
  }
  if (engine_->view_changing() != last_view_changing_) {
    last_view_changing_ = engine_->view_changing();
    if (last_view_changing_)
      log_line("view change started at height " + std::to_string(engine_->height()) + " (view " +
               std::to_string(engine_->view()) +
               "): no commit in time, or the primary passed over waiting transactions");
  }
  if (engine_->view() != last_view_) {
    metrics_.view_changed();
    last_view_ = engine_->view();
    std::string primary;
    {
      std::lock_guard lock(head_mu_);
      head_.view = last_view_;
      primary = consensus_set_->primary(last_view_);
    }
    log_line("now in view " + std::to_string(last_view_) + " at height " +
             std::to_string(engine_->height()) + ", primary " + primary);
  }
  // After a commit, tell the engine at once which transactions still wait
  // (those just committed no longer do), so it never times out on them.
  if (!ready.committed.empty() && p2p_ && validator_keys_.count(self_)) {
    report_pending();
    return;
  }
  if (propose_request_) {
    if (propose_request_->must_propose || mempool_.has_ready() || deadline_due()) {
      schedule_cut();
    } else {
      wake_for_deadline();
    }
  }
}

void Node::persist_durable() {
  if (!durable_pending_) return;
  // Block sync writes runs of blocks unsynced; the consensus state may name
  // a height past them (checkpoints, replayed votes), so they go to disk
  // first, or a power cut would leave the state ahead of the ledger and the
  // node unable to start.
  if (store_->unsynced()) {
    if (Status s = store_->sync(); !s) return fail(s);
  }
  Status s = durable_file_.store(consensus::encode_durable(*durable_pending_));
  if (!s) return fail(s);
  durable_pending_.reset();
}

void Node::schedule_cut() {
  if (cut_scheduled_) return;
  cut_scheduled_ = true;
  // Posted, not called: admissions queued while the last block was in
  // flight run first, so they join this block.
  asio::post(loop_, [this] {
    cut_scheduled_ = false;
    cut_block();
  });
}

void Node::cut_block() {
  if (failed_ || !propose_request_) return;
  const consensus::ProposeRequest req = *propose_request_;
  const bool for_deadline = !req.must_propose && !mempool_.has_ready();
  if (for_deadline && !deadline_due()) return;
  if (req.height != engine_->height() || req.view != engine_->view()) {
    propose_request_.reset();
    return;
  }
  propose_request_.reset();
  const auto cut_at = std::chrono::steady_clock::now();
  const size_t header_bytes = 2048;
  std::vector<ledger::Transaction> txs = mempool_.take_batch(
      std::min(home_.config.block_txs_max, limits_.block_txs_max),
      limits_.block_bytes_max > header_bytes ? limits_.block_bytes_max - header_bytes : 0);
  ledger::BlockContext ctx{chain_, req.height, std::max(wall_ms(), req.parent_time_ms + 1), self_};
  if (for_deadline && txs.empty())
    log_line("proposing an empty block at height " + std::to_string(req.height) + " (time " +
             std::to_string(ctx.time_ms) + "): the deadline at " +
             std::to_string(next_deadline_ms_.value_or(0)) + " is due");
  auto exec = executor_->propose(head_root_, ctx, txs);
  if (!exec) return fail(exec.status());
  for (const ledger::ExcludedTx& ex : exec->excluded) {
    const Hash32 id = txs[ex.index].id();
    Rejection r{ex.reason.code(), ex.reason.message()};
    mempool_.remove(id, r);
    metrics_.rejected(r.code);
    notify(id, rejected_tx_json(id, r));
  }
  ledger::BlockHeader header;
  header.chain = chain_;
  header.height = req.height;
  header.prev = req.parent;
  header.time_ms = ctx.time_ms;
  header.proposer = self_;
  header.results_root = exec->results_root;
  header.state_root = exec->state_root;
  header.validators = validators_hash_;
  auto block = std::make_shared<const ledger::Block>(ledger::Block::make(header, exec->txs));
  const Hash32 id = block->id();
  const std::string canonical = block->canonical();
  Bytes payload(canonical.begin(), canonical.end());
  candidates_[id] = Candidate{block, std::move(*exec), cut_at, std::chrono::steady_clock::now()};
  handle(engine_->propose(req.height, req.view, id, std::move(payload), ctx.time_ms));
}

Result<ledger::ExecutedBlock> Node::check_and_execute(const ledger::Block& block) {
  const Head h = head();
  const ledger::BlockHeader& hd = block.header();
  auto bad = [](std::string what) { return Status::error("block.invalid", std::move(what)); };
  if (hd.chain != chain_) return bad("block of chain " + hd.chain);
  if (hd.height != h.height + 1)
    return bad("block at height " + std::to_string(hd.height) + ", expected " +
               std::to_string(h.height + 1));
  if (hd.prev != h.id) return bad("block does not extend the committed head");
  if (hd.validators != validators_hash_)
    return bad("header names another validator set than the one in force");
  if (hd.tx_count != block.txs().size() || hd.txs_root != ledger::compute_txs_root(block.txs()))
    return bad("tx_count or txs_root does not match the transactions");
  for (const auto& tx : block.txs()) {
    IMI_RETURN_IF_ERROR(tx.check_chain(chain_));
    // Signatures admitted here (or gossiped to us) were verified once already.
    if (!sig_cache_.contains(tx.id())) {
      IMI_RETURN_IF_ERROR(tx.verify_signature());
      sig_cache_.insert(tx.id());
    }
  }
  return executor_->execute_block(block, head_root_);
}

void Node::validate(const consensus::ValidateRequest& req) {
  // A block proposed by another primary.
  bool valid = false;
  uint64_t time_ms = 0;
  const auto received_at = std::chrono::steady_clock::now();
  std::string text(req.payload.begin(), req.payload.end());
  auto block = ledger::Block::decode(text, limits_, &mempool_);
  if (!block) {
    log_line("proposal at height " + std::to_string(req.height) +
             " is not a valid block: " + block.status().to_string());
  } else if (block->id() != req.block || block->header().height != req.height ||
             block->header().prev != req.parent) {
    log_line("proposal at height " + std::to_string(req.height) +
             " does not match its id, height or parent");
  } else {
    auto exec = check_and_execute(*block);
    if (exec) {
      valid = true;
      time_ms = block->header().time_ms;
      auto shared = std::make_shared<const ledger::Block>(std::move(*block));
      candidates_[req.block] =
          Candidate{shared, std::move(*exec), received_at, std::chrono::steady_clock::now()};
    } else {
      if (exec.status().code().starts_with("state.")) return fail(exec.status());
      log_line("rejecting the proposal at height " + std::to_string(req.height) + ": " +
               exec.status().to_string());
    }
  }
  const uint64_t height = req.height;
  const Hash32 id = req.block;
  asio::post(loop_, [this, height, id, valid, time_ms] {
    if (!failed_ && engine_) handle(engine_->on_verdict(height, id, valid, time_ms));
  });
}

Status Node::commit(const consensus::Committed& c) {
  auto it = candidates_.find(c.block);
  Candidate cand;
  if (it != candidates_.end()) {
    cand = std::move(it->second);
  } else {
    // Decided by a quorum on a block this node did not execute (it missed
    // the proposal, or voted for it before a restart): execute it now. A
    // quorum certified it, so a failure here is this node's problem.
    std::string text(c.payload.begin(), c.payload.end());
    auto block = ledger::Block::decode(text, limits_, &mempool_);
    if (!block) return block.status();
    if (block->id() != c.block)
      return Status::error("node.missing_block", "the certified payload at height " +
                                                     std::to_string(c.height) +
                                                     " does not hash to its block id");
    const auto received_at = std::chrono::steady_clock::now();
    auto exec = check_and_execute(*block);
    if (!exec) return exec.status();
    cand = Candidate{std::make_shared<const ledger::Block>(std::move(*block)), std::move(*exec),
                     received_at, std::chrono::steady_clock::now()};
  }
  candidates_.clear();
  return commit_executed(cand.block, to_ledger_cert(c.cert), std::move(cand.executed), cand.cut_at,
                         cand.executed_at);
}

void Node::evict_rekeyed(const ledger::ExecutedBlock& executed) {
  if (executed.accounts_rekeyed.empty()) return;
  const std::unique_ptr<ledger::StateReader> after = executor_->reader_after(executed);
  std::set<std::string> done;
  for (const std::string& did : executed.accounts_rekeyed) {
    if (!done.insert(did).second) continue;
    // The block wrote this account: read from its writes, not the tree.
    auto account = ledger::read_account(*after, did);
    if (!account) continue;  // malformed: the executor would have refused it
    const Rejection r{"tx.key_not_current", "its key is no longer a current key of " + did +
                                                " (changed by block " +
                                                std::to_string(executed.context.height) + ")"};
    const std::vector<identity::PublicKey> none;
    for (const Hash32& id : mempool_.drop_keys_not_in(did, *account ? (*account)->keys : none, r)) {
      metrics_.rejected(r.code);
      notify(id, rejected_tx_json(id, r));
    }
  }
}

Status Node::commit_executed(std::shared_ptr<const ledger::Block> block,
                             const ledger::CommitCertificate& cert, ledger::ExecutedBlock executed,
                             std::chrono::steady_clock::time_point cut_at,
                             std::chrono::steady_clock::time_point executed_at, bool sync) {
  const auto write_at = std::chrono::steady_clock::now();
  IMI_RETURN_IF_ERROR(executor_->commit(*store_, *block, &cert, executed, sync));
  const auto written_at = std::chrono::steady_clock::now();
  const uint64_t height = block->header().height;
  auto seconds = [](auto from, auto to) {
    return std::chrono::duration<double>(to - from).count();
  };
  BlockPhases phases;
  phases.height = height;
  phases.txs = block->txs().size();
  phases.view = cert.view;
  phases.cut_here = block->header().proposer == self_;
  phases.execute_s = seconds(cut_at, executed_at);
  phases.votes_s = seconds(executed_at, write_at);
  phases.write_s = seconds(write_at, written_at);
  metrics_.block_committed(phases);
  if (home_.config.slow_block_ms != 0 && phases.total_s() * 1000 > home_.config.slow_block_ms)
    log_line(slow_block_line(phases, home_.config.slow_block_ms));
  head_root_ = executed.state_root;
  last_commit_ms_ = wall_ms();
  refresh_next_deadline();
  {
    std::lock_guard lock(head_mu_);
    head_.height = height;
    head_.id = cert.block;
    head_.time_ms = block->header().time_ms;
    head_.state_root = head_root_;
    head_.view = cert.view;
  }
  // Accounts whose keys this block may have changed: admission reads them again.
  if (!executed.accounts_rekeyed.empty()) {
    std::lock_guard lock(keys_mu_);
    for (const std::string& did : executed.accounts_rekeyed) known_keys_.erase(did);
  }
  // Answer GET /v1/blocks?wait_ms= callers waiting for this height.
  std::vector<HeightDone> reached;
  {
    std::lock_guard lock(watch_mu_);
    auto end = height_watchers_.upper_bound(height);
    for (auto it = height_watchers_.begin(); it != end; ++it)
      reached.push_back(std::move(it->second.done));
    height_watchers_.erase(height_watchers_.begin(), end);
  }
  for (auto& done : reached) done();
  const auto& txs = block->txs();
  std::vector<Mempool::Evicted> evicted = mempool_.on_commit(txs);

  RecentBlock recent;
  recent.block = block;
  std::vector<Hash32> ids;
  ids.reserve(txs.size());
  for (const auto& tx : txs) ids.push_back(tx.id());
  recent.paths = std::make_shared<const MerklePaths>(ids);
  recent.messages.reserve(txs.size());
  for (const auto& r : executed.results) recent.messages.push_back(r.message());
  {
    std::lock_guard lock(recent_mu_);
    recent_[height] = recent;
    while (recent_.size() > kRecentBlocksMax) recent_.erase(recent_.begin());
  }

  // Answer wait=commit callers.
  bool any_watcher;
  {
    std::lock_guard lock(watch_mu_);
    any_watcher = watcher_count_ != 0;
  }
  if (any_watcher) {
    for (uint32_t i = 0; i < txs.size(); ++i) {
      bool watched;
      {
        std::lock_guard lock(watch_mu_);
        watched = watchers_.count(ids[i]) != 0;
      }
      if (watched) notify(ids[i], committed_tx_json(recent, i, executed.results[i].canonical()));
    }
  }
  for (const auto& e : evicted) {
    metrics_.rejected(e.reason.code);
    notify(e.id, rejected_tx_json(e.id, e.reason));
  }
  evict_rekeyed(executed);
  // Validator-set changes this block enacted reach the engine and the transport.
  IMI_RETURN_IF_ERROR(refresh_validator_sets());
  if (p2p_) announce_tip();
  return Status::ok();
}

}  // namespace imi::node

#include "ledger/executor.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "ledger/deadlines.h"
#include "ledger/delegation.h"
#include "ledger/executor_account.h"
#include "ledger/json.h"
#include "ledger/merkle.h"

namespace imi::ledger {

using WriteMap = AppState::WriteMap;

// The state during a block: the tree at the parent root under the writes of
// the block's earlier transactions. Every value read from the tree is kept,
// so a key read by several transactions (or by check() and apply() of one)
// walks the tree once. With `values` (the executor's cache, at this root),
// values read are looked up there first and kept there.
class BlockState : public StateReader {
 public:
  BlockState(StateTree& tree, const Hash32& root, ValueCache* values = nullptr)
      : tree_(tree), root_(root), values_(values) {}

  Result<std::optional<std::string>> get(std::string_view app,
                                         std::string_view key) const override {
    std::string k = ValueCache::flat_key(app, key);
    if (auto it = latest_.find(k); it != latest_.end()) return it->second;
    if (values_ != nullptr) {
      if (const std::optional<std::string>* v = values_->find(k)) {
        latest_.emplace(std::move(k), *v);
        return *v;
      }
    }
    auto value = tree_.get(root_, app, key);
    if (!value) return value.status();
    if (values_ != nullptr) values_->put(k, *value);
    latest_.emplace(std::move(k), *value);
    return value;
  }
  void merge(const WriteMap& writes) {
    for (const auto& [k, v] : writes) {
      writes_[k] = v;
      latest_[ValueCache::flat_key(k.first, k.second)] = v;
    }
  }
  void put(std::string_view app, std::string_view key, std::string value) {
    latest_[ValueCache::flat_key(app, key)] = value;
    writes_[{std::string(app), std::string(key)}] = std::move(value);
  }
  void erase(std::string_view app, std::string_view key) {
    latest_[ValueCache::flat_key(app, key)] = std::nullopt;
    writes_[{std::string(app), std::string(key)}] = std::nullopt;
  }
  const WriteMap& writes() const { return writes_; }

 private:
  StateTree& tree_;
  const Hash32 root_;
  ValueCache* const values_;
  WriteMap writes_;
  // The value of every key read or written so far (nullopt: absent).
  mutable std::unordered_map<std::string, std::optional<std::string>> latest_;
};

namespace {

// The state after an executed, uncommitted block.
class AfterReader : public StateReader {
 public:
  AfterReader(StateTree& tree, const ExecutedBlock& executed) : tree_(tree), executed_(executed) {}
  Result<std::optional<std::string>> get(std::string_view app,
                                         std::string_view key) const override {
    auto it = std::lower_bound(
        executed_.writes.begin(), executed_.writes.end(), std::make_pair(app, key),
        [](const StateWrite& w, const std::pair<std::string_view, std::string_view>& k) {
          return std::make_pair(std::string_view(w.app), std::string_view(w.key)) < k;
        });
    if (it != executed_.writes.end() && it->app == app && it->key == key) return it->value;
    return tree_.get(executed_.parent_state_root, app, key);
  }

 private:
  StateTree& tree_;
  const ExecutedBlock& executed_;
};

// Whether a Status from the sender rule marks the transaction (not storage).
bool is_sender_breach(const Status& s) {
  return s.code().starts_with("exec.") || s.code().starts_with("tx.");
}

Status prefix_index(const Status& s, size_t i) {
  return Status::error(s.code(), "txs[" + std::to_string(i) + "]: " + s.message());
}

// Turns the block's write map into the tree's batch and the sorted list.
Result<Hash32> finish_state(StateTree& tree, const Hash32& parent, const WriteMap& writes,
                            ExecutedBlock& out) {
  out.writes.reserve(writes.size());
  for (const auto& [k, v] : writes) out.writes.push_back(StateWrite{k.first, k.second, v});
  return tree.update(parent, out.writes, out.new_nodes);
}

}  // namespace

Result<std::unique_ptr<Executor>> Executor::make(const NodeReader& committed_nodes,
                                                 std::vector<std::unique_ptr<App>> apps,
                                                 ExecutorOptions options) {
  std::sort(apps.begin(), apps.end(),
            [](const auto& a, const auto& b) { return a->name() < b->name(); });
  for (size_t i = 0; i < apps.size(); ++i) {
    std::string_view name = apps[i]->name();
    if (!is_valid_name(name) || name == kAccountApp || name == kDeadlineNamespace) {
      return Status::error("exec.bad_app", "app name \"" + std::string(name) + "\" is not allowed");
    }
    if (i > 0 && apps[i - 1]->name() == name) {
      return Status::error("exec.bad_app", "two apps are named " + std::string(name));
    }
  }
  return std::unique_ptr<Executor>(new Executor(committed_nodes, std::move(apps), options));
}

Executor::Executor(const NodeReader& committed_nodes, std::vector<std::unique_ptr<App>> apps,
                   ExecutorOptions options)
    : tree_(committed_nodes, options.tree),
      apps_(std::move(apps)),
      index_(options.index),
      deadlines_per_block_max_(options.deadlines_per_block_max),
      values_(options.value_cache_bytes) {}

bool Executor::indexed_namespace(std::string_view name) const {
  if (name == kDeadlineNamespace) return true;
  const App* a = app(name);
  return a != nullptr && a->indexed();
}

std::vector<IndexWrite> Executor::index_writes(const ExecutedBlock& executed) const {
  std::vector<IndexWrite> out;
  for (const StateWrite& w : executed.writes)
    if (indexed_namespace(w.app)) out.push_back(IndexWrite{w.app, w.key, w.value});
  return out;
}

Result<std::optional<uint64_t>> Executor::next_deadline() const {
  if (index_ == nullptr) return std::optional<uint64_t>();
  auto first = index_->scan(kDeadlineNamespace, "at/", "", 1);
  if (!first) return first.status();
  if (first->empty()) return std::optional<uint64_t>();
  auto d = parse_deadline_entry(first->front());
  if (!d) return d.status();
  return std::optional<uint64_t>(d->time_ms);
}

Status Executor::fire_deadlines(const BlockContext& ctx, BlockState& block_state,
                                ExecutedBlock& out) {
  if (index_ == nullptr || ctx.height == 0 || deadlines_per_block_max_ == 0) return Status::ok();
  auto due = index_->scan(kDeadlineNamespace, "at/", "", deadlines_per_block_max_);
  if (!due) return due.status();
  for (const IndexEntry& e : *due) {
    auto d = parse_deadline_entry(e);
    if (!d) return d.status();
    if (d->time_ms > ctx.time_ms) break;
    // The deadline leaves the schedule whatever its hook decides.
    DeadlineKeys keys = deadline_keys(d->app, d->key, d->time_ms);
    block_state.erase(kDeadlineNamespace, keys.at);
    block_state.erase(kDeadlineNamespace, keys.by);
    FiredDeadline fired{d->app, d->key, d->time_ms};
    const App* a = app(d->app);
    if (a == nullptr) {
      out.results.push_back(
          std::move(TxResult::make_deadline(fired, kCodeUnknownApp,
                                            rapidjson::Value(rapidjson::kArrayType),
                                            "no app named " + d->app))
              .value());
      continue;
    }
    AppState st(block_state, d->app);
    auto outcome = a->on_deadline(d->key, ctx, st);
    if (!outcome) return outcome.status();
    if (outcome->ok()) {
      for (const auto& [where, value] : st.writes())
        if (where.first == kAccountApp) out.accounts_rekeyed.push_back(where.second);
      block_state.merge(st.writes());
      auto r = TxResult::make_deadline(fired, kCodeOk, st.events(), std::move(outcome->message));
      if (!r) return r.status();
      out.results.push_back(std::move(r).value());
    } else {
      auto r =
          TxResult::make_deadline(fired, outcome->code, rapidjson::Value(rapidjson::kArrayType),
                                  std::move(outcome->message));
      if (!r) return r.status();
      out.results.push_back(std::move(r).value());
    }
  }
  return Status::ok();
}

const App* Executor::app(std::string_view name) const {
  auto it = std::lower_bound(apps_.begin(), apps_.end(), name,
                             [](const auto& a, std::string_view n) { return a->name() < n; });
  return it != apps_.end() && (*it)->name() == name ? it->get() : nullptr;
}

Result<ExecutedBlock> Executor::execute(const Hash32& parent_root, const BlockContext& ctx,
                                        std::span<const Transaction> txs) {
  return run(parent_root, ctx, txs, false);
}

Result<ExecutedBlock> Executor::propose(const Hash32& parent_root, const BlockContext& ctx,
                                        std::span<const Transaction> txs) {
  return run(parent_root, ctx, txs, true);
}

Result<ExecutedBlock> Executor::run(const Hash32& parent_root, const BlockContext& ctx,
                                    std::span<const Transaction> txs, bool proposing) {
  ExecutedBlock out;
  out.context = ctx;
  out.parent_state_root = parent_root;
  out.txs.reserve(txs.size());
  out.results.reserve(txs.size());
  // A block on another root than the cache's (the first after start, or after
  // a block that did not commit) starts the cache over at its root.
  if (parent_root != values_.root()) values_.reset(parent_root);
  if (index_ != nullptr && committed_root_ && *committed_root_ != parent_root)
    return Status::error("exec.index_behind",
                         "block " + std::to_string(ctx.height) +
                             " does not extend the committed head, whose deadline schedule "
                             "the index holds");
  BlockState block_state(tree_, parent_root, &values_);
  // Deadlines fire first; their results follow the transactions'.
  std::vector<TxResult> fired;
  {
    ExecutedBlock scratch;
    IMI_RETURN_IF_ERROR(fire_deadlines(ctx, block_state, scratch));
    fired = std::move(scratch.results);
    out.accounts_rekeyed = std::move(scratch.accounts_rekeyed);
  }

  for (size_t i = 0; i < txs.size(); ++i) {
    const Transaction& tx = txs[i];
    Status chain = tx.check_chain(ctx.chain);
    Result<Account> account = chain.is_ok() ? apply_sender_rule(tx, block_state) : chain;
    if (!account) {
      if (!is_sender_breach(account.status())) return account.status();  // storage
      if (!proposing) return prefix_index(account.status(), i);
      out.excluded.push_back({i, account.status()});
      continue;
    }
    // The nonce is used whatever the app decides.
    block_state.put(kAccountApp, tx.from(), jcs(account_to_json(*account)));

    TxOutcome outcome;
    std::optional<AppState> app_state;
    if (const App* a = app(tx.app()); a == nullptr) {
      outcome = TxOutcome::fail(kCodeUnknownApp, "no app named " + tx.app());
    } else {
      app_state.emplace(block_state, std::string(a->name()));
      if (!tx.on_behalf_of().empty()) {
        auto allowed = check_delegation(tx, ctx, block_state, a->accepts_delegation());
        if (!allowed) return allowed.status();
        outcome = *allowed;
      }
      if (outcome.ok()) {
        auto checked = a->check(tx, ctx, *app_state);
        if (!checked) return checked.status();
        outcome = *checked;
      }
      if (outcome.ok()) {
        auto applied = a->apply(tx, ctx, *app_state);
        if (!applied) return applied.status();
        outcome = *applied;
      }
    }
    if (outcome.ok() && app_state) {
      for (const auto& [where, value] : app_state->writes())
        if (where.first == kAccountApp) out.accounts_rekeyed.push_back(where.second);
      block_state.merge(app_state->writes());
      auto r = TxResult::make(kCodeOk, app_state->events(), std::move(outcome.message));
      if (!r) return r.status();  // an app emitted a malformed event: a bug in the app
      out.results.push_back(std::move(r).value());
    } else {
      out.results.push_back(TxResult::of_code(outcome.code, std::move(outcome.message)));
    }
    out.txs.push_back(tx);
  }

  for (auto& r : fired) out.results.push_back(std::move(r));
  out.results_root = compute_results_root(out.results);
  auto root = finish_state(tree_, parent_root, block_state.writes(), out);
  if (!root) return root.status();
  out.state_root = *root;
  return out;
}

Result<ExecutedBlock> Executor::execute_block(const Block& block, const Hash32& parent_root) {
  const BlockHeader& h = block.header();
  BlockContext ctx{h.chain, h.height, h.time_ms, h.proposer};
  auto executed = execute(parent_root, ctx, block.txs());
  if (!executed) return executed.status();
  if (executed->results_root != h.results_root) {
    return Status::error("exec.results_root_mismatch",
                         "block " + std::to_string(h.height) + " claims results_root " +
                             to_hex(h.results_root) + " but executing it gives " +
                             to_hex(executed->results_root));
  }
  if (executed->state_root != h.state_root) {
    return Status::error("exec.state_root_mismatch",
                         "block " + std::to_string(h.height) + " claims state_root " +
                             to_hex(h.state_root) + " but executing it gives " +
                             to_hex(executed->state_root));
  }
  return executed;
}

Result<std::pair<Block, ExecutedBlock>> Executor::make_genesis(const Genesis& genesis) {
  ExecutedBlock out;
  out.context =
      BlockContext{genesis.chain(), 0, genesis.time_ms(), genesis.validators().primary(0).id};
  BlockState block_state(tree_, Hash32{});
  for (const auto& a : apps_) {
    AppState st(block_state, std::string(a->name()));
    IMI_RETURN_IF_ERROR(a->init_genesis(genesis, st));
    block_state.merge(st.writes());
  }
  out.results_root = compute_results_root({});
  auto root = finish_state(tree_, Hash32{}, block_state.writes(), out);
  if (!root) return root.status();
  out.state_root = *root;

  BlockHeader header;
  header.chain = genesis.chain();
  header.height = 0;
  header.time_ms = genesis.time_ms();
  header.proposer = out.context.proposer;
  header.results_root = out.results_root;
  header.state_root = out.state_root;
  header.validators = genesis.validators().hash();
  Block block = Block::make(std::move(header), {});
  IMI_RETURN_IF_ERROR(block.header().check_form());
  return std::make_pair(std::move(block), std::move(out));
}

Status Executor::commit(Store& store, const Block& block, const CommitCertificate* cert,
                        const ExecutedBlock& executed, bool sync) {
  const BlockHeader& h = block.header();
  if (executed.context.height != h.height || executed.state_root != h.state_root ||
      executed.results_root != h.results_root || executed.txs.size() != block.txs().size()) {
    return Status::error("exec.mismatch", "the executed block is not block " +
                                              std::to_string(h.height) + " being committed");
  }
  // One BlockCommit reused block after block: its vectors and its batch keep
  // their capacity (Store::commit_block(BlockCommit&&)).
  BlockCommit& c = commit_scratch_;
  c.state_writes.Clear();
  c.cert_json.clear();
  c.tx_ids.clear();
  c.result_json.clear();
  c.height = h.height;
  c.block_id = block.id();
  c.block_json = block.canonical();
  if (cert != nullptr) {
    if (cert->height != h.height || cert->block != c.block_id) {
      return Status::error("exec.mismatch", "the certificate is not for block " +
                                                std::to_string(h.height) + " " +
                                                to_hex(c.block_id));
    }
    c.cert_json = cert->canonical();
  }
  c.tx_ids.reserve(block.txs().size());
  for (const auto& tx : block.txs()) c.tx_ids.push_back(tx.id());
  c.result_json.reserve(executed.results.size());
  for (const auto& r : executed.results) c.result_json.push_back(r.canonical());
  c.index_writes = index_writes(executed);
  executed.new_nodes.write_to(c.state_writes);
  LevelDbNodeStore::put_root(c.state_writes, h.height, executed.state_root);
  c.sync = sync;
  Status committed = store.commit_block(std::move(c));
  if (!committed) {
    values_.reset(executed.parent_state_root);
    return committed;
  }
  committed_root_ = executed.state_root;
  // The cache follows the committed head.
  if (values_.root() == executed.parent_state_root) {
    values_.advance(executed.writes, executed.state_root);
  } else {
    values_.reset(executed.state_root);
  }
  return committed;
}

Result<std::optional<std::string>> Executor::get(const Hash32& root, std::string_view app,
                                                 std::string_view key) {
  return tree_.get(root, app, key);
}

Result<ProvenValue> Executor::prove(const Hash32& root, std::string_view app,
                                    std::string_view key) {
  return tree_.prove(root, app, key);
}

Result<size_t> Executor::warm(const Hash32& root) {
  return tree_.warm(root, tree_.cache_capacity() * 9 / 10);
}

std::unique_ptr<StateReader> Executor::reader_at(const Hash32& root) {
  return std::make_unique<RootReader>(tree_, root);
}

std::unique_ptr<StateReader> Executor::reader_after(const ExecutedBlock& executed) {
  return std::make_unique<AfterReader>(tree_, executed);
}

}  // namespace imi::ledger

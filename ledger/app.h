// The application interface (DESIGN "Applications"): each app is a
// deterministic state machine the executor (ledger/executor.h) runs every
// transaction through.
//
//   check(tx, state) -> code      may the transaction run now? (no writes)
//   apply(tx, state) -> code      does it, writing state and emitting events
//
// A result is a code (0 = success) and events; it becomes the transaction's
// result record {"code","events"}, a leaf of results_root. Codes are stable:
// changing one is a fork. Codes 1..99 mean the same in every app (kCode*
// below); each app documents its own from 100 up in its header. The message
// is for people and never hashed.
//
// Determinism: an app sees only the transaction, the block context (block
// time is the only clock) and the state; no clocks, randomness, files or
// iteration over unordered containers.
//
// State: an app reads any app's keys and writes its own namespace and the
// "account" namespace (the identity app rotates keys); AppState refuses other
// writes. A transaction whose apply() returns a nonzero code has its writes
// and events discarded; its nonce is still used.
//
// Deadlines (DESIGN "What every workflow app shares"): while it applies, an
// app may schedule a deadline (AppState::schedule: a key of its own and a
// block time) or cancel one. At the start of the first block whose time is
// at or after the deadline, before that block's transactions, the executor
// fires it: App::on_deadline(key) runs like a transaction (writes, events, a
// code; writes discarded on a nonzero code) and its result is appended after
// the transactions' results in results_root. Deadlines fire in (time, app,
// key) order, at most BlockTimeRules::deadlines_per_block_max per block; the
// rest wait for the next block. One deadline per (app, key): scheduling it
// again moves it. The schedule lives in state, namespace "deadline":
//   "at/<time, 16 decimal digits>/<app>/<key>" -> {"app","key","time"}
//   "by/<app>/<key>"                           -> {"time"}
// so it is part of the state root like everything else.
//
// Delegation (ledger/delegation.h): a transaction with "on_behalf_of" runs
// for that principal when the principal granted its sender a delegation
// covering the app and op; apps that allow it (accepts_delegation()) act for
// tx.actor(). The executor checks the delegation before check() and gives
// code kCodeForbidden when it does not cover the transaction.
//
// Queries (DESIGN "app queries"): an app that declares indexed() has every
// committed value of its namespace also kept in an ordered index (the
// store's "x/" range, written in the block's batch), and answers named
// read-only queries by scanning it (App::query). The API reads each key a
// query names, with its state proof, at one committed root.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "ledger/transaction.h"

namespace imi::ledger {

class Genesis;

// Result codes shared by all apps.
constexpr int64_t kCodeOk = 0;
constexpr int64_t kCodeUnknownApp = 1;  // no app of that name
constexpr int64_t kCodeUnknownOp = 2;   // the app has no such op
constexpr int64_t kCodeBadArgs = 3;     // args malformed for the op
constexpr int64_t kCodeForbidden = 4;   // the sender lacks the role or right
constexpr int64_t kCodeNotFound = 5;    // the object the op names does not exist
constexpr int64_t kCodeConflict = 6;    // the object already exists / state forbids the op now

// Namespaces the executor owns; no app may take these names.
constexpr std::string_view kDeadlineNamespace = "deadline";
// Latest time a deadline may name (16 decimal digits; year 2286).
constexpr uint64_t kDeadlineTimeMax = 9999999999999999ull;
// Bytes of a deadline key (an app's own key, e.g. "loan/<id>").
constexpr size_t kDeadlineKeyBytesMax = 256;

// The block a transaction runs in.
struct BlockContext {
  std::string chain;
  uint64_t height = 0;
  uint64_t time_ms = 0;  // block time: the only clock apps see
  std::string proposer;
};

// What check() or apply() decided.
struct TxOutcome {
  int64_t code = kCodeOk;
  std::string message;  // for people; never hashed
  bool ok() const { return code == kCodeOk; }
  static TxOutcome success() { return {}; }
  static TxOutcome fail(int64_t code, std::string message) { return {code, std::move(message)}; }
};

// Read access to the state as of the start of the current transaction.
class StateReader {
 public:
  virtual ~StateReader() = default;
  // Value bytes (JCS) of app/key, nullopt if absent. An error means storage
  // failed (state.*): the executor then abandons the block, never a code.
  virtual Result<std::optional<std::string>> get(std::string_view app,
                                                 std::string_view key) const = 0;
  // Same, parsed. A stored value that does not parse is state.corrupt_value.
  Result<std::optional<rapidjson::Document>> get_json(std::string_view app,
                                                      std::string_view key) const;
};

// The state an app's apply() works on: reads see the block's earlier writes
// and this transaction's own; writes and events are buffered per transaction.
// Not thread-safe (one transaction at a time).
class AppState : public StateReader {
 public:
  // `base` (the state before the block plus the block's committed writes) must
  // outlive this object. `app` is the namespace the running app may write.
  AppState(const StateReader& base, std::string app);

  Result<std::optional<std::string>> get(std::string_view app, std::string_view key) const override;

  // Stores JCS(value) under app/key. Writing outside the app's namespace and
  // "account" is a bug in the app: state.foreign_write.
  Status put(std::string_view app, std::string_view key, const rapidjson::Value& value);
  Status erase(std::string_view app, std::string_view key);
  // Appends an event (strict JSON; integers only) to the transaction's result.
  void emit(const rapidjson::Value& event);

  // Schedules this app's deadline `key` (1..kDeadlineKeyBytesMax bytes, no
  // NUL) at block time `time_ms` (<= kDeadlineTimeMax), replacing any earlier
  // time for that key. A deadline at or before the current block's time fires
  // at the start of the next block. state.bad_deadline for a bad key or time
  // (a bug in the app), state.* if storage failed.
  Status schedule(std::string_view key, uint64_t time_ms);
  // Cancels this app's deadline `key`; nothing happens if none is pending.
  Status cancel(std::string_view key);
  // The time of this app's pending deadline `key`, nullopt if none.
  Result<std::optional<uint64_t>> deadline_of(std::string_view key) const;

  using WriteMap = std::map<std::pair<std::string, std::string>, std::optional<std::string>>;
  const WriteMap& writes() const { return writes_; }
  const rapidjson::Document& events() const { return events_; }

 private:
  Status check_namespace(std::string_view app) const;

  const StateReader& base_;
  const std::string app_;
  WriteMap writes_;
  rapidjson::Document events_;  // an array
};

// Read access to the ordered index of committed values (see "Queries"
// above), as of the last committed block. Thread-safe implementations only.
struct IndexEntry {
  std::string key;    // the app's key
  std::string value;  // value bytes (JCS)
};
class IndexReader {
 public:
  virtual ~IndexReader() = default;
  // Up to `limit` entries of namespace `app` whose key starts with `prefix`
  // and sorts after `start_after` (byte order; empty: from the first), in
  // key order. store.io if the read failed.
  virtual Result<std::vector<IndexEntry>> scan(std::string_view app, std::string_view prefix,
                                               std::string_view start_after,
                                               size_t limit) const = 0;
};

// A query's parameters: the URL's query string, decoded (cursor and limit
// removed and passed apart).
using QueryParams = std::map<std::string, std::string, std::less<>>;

// What a query answers: the state keys of the app's records to return, in
// order (the API serves each with its value and proof), and the cursor for
// the next page (empty at the end).
struct QueryPage {
  std::vector<std::string> keys;
  std::string next;
  // Optional: JCS of a JSON value the app computed from the index entries it
  // read (e.g. statistics summed over counter records); served beside the
  // items, whose values and proofs let a client recompute it.
  std::string summary;
};

// The common shape of a query: the index entries of `app` under `prefix`
// after `cursor` (an index key this function returned as `next`), at most
// `limit`, each turned into the record key to return by `to_key` (identity
// when null). `next` is the last index key read when the page is full.
Result<QueryPage> scan_query(const IndexReader& index, std::string_view app,
                             std::string_view prefix, std::string_view cursor, size_t limit,
                             std::string (*to_key)(const IndexEntry&) = nullptr);

class App {
 public:
  virtual ~App() = default;
  // The "app" of the transactions it handles: [a-z][a-z0-9_]{0,31}.
  virtual std::string_view name() const = 0;
  // Writes the app's initial state from genesis (default: nothing).
  virtual Status init_genesis(const Genesis& genesis, AppState& state) const;
  // Whether `tx` may run in `ctx` on `state`. Must not write. Used by the
  // mempool on the latest state and by apply() on the current one.
  virtual Result<TxOutcome> check(const Transaction& tx, const BlockContext& ctx,
                                  const StateReader& state) const = 0;
  // Runs `tx`: returns the code check() would, and on success writes and
  // emits. Writes and events of a failing apply are discarded by the executor.
  // An error Status (not a code) means storage failed.
  virtual Result<TxOutcome> apply(const Transaction& tx, const BlockContext& ctx,
                                  AppState& state) const = 0;

  // Fires this app's deadline `key` (scheduled with AppState::schedule; the
  // executor has already removed it, so the hook may schedule it again).
  // Like apply(): a code, and on success writes and events. Default: code
  // kCodeUnknownOp (an app that never schedules never gets here).
  virtual Result<TxOutcome> on_deadline(std::string_view key, const BlockContext& ctx,
                                        AppState& state) const;

  // Whether a delegate may send this app's transactions on behalf of a
  // principal (ledger/delegation.h); the app then acts for tx.actor().
  virtual bool accepts_delegation() const { return false; }

  // Whether the app's namespace is kept in the ordered index (queries).
  virtual bool indexed() const { return false; }
  // Answers read-only query `name` over the index at the last committed
  // block: at most `limit` keys after `cursor` (empty: the first page).
  // query.unknown for a query the app does not have, query.bad_param (the
  // message names the parameter) for bad parameters; store.* if reading
  // failed. Default: query.unknown.
  virtual Result<QueryPage> query(std::string_view name, const QueryParams& params,
                                  std::string_view cursor, size_t limit,
                                  const IndexReader& index) const;
  // The names of the queries query() answers (for errors and the API's list).
  virtual std::vector<std::string> query_names() const { return {}; }
};

}  // namespace imi::ledger

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
};

}  // namespace imi::ledger

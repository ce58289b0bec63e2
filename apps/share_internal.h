// Private to the share app (apps/share*.cc): the context every op runs in,
// record helpers and the ops of each part. Not for other modules.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "apps/share.h"
#include "ledger/app.h"
#include "ledger/json.h"

namespace imi::apps::share_detail {

using ledger::TxOutcome;
using Alloc = rapidjson::Document::AllocatorType;

// One op run: check() passes w == nullptr (no writes), apply() the AppState,
// whose reads see this transaction's own writes.
struct Op {
  const ledger::Transaction& tx;
  const ledger::BlockContext& ctx;
  const ledger::StateReader& state;
  ledger::AppState* w;
  ShareParams params;

  const std::string& actor() const { return tx.actor(); }
  const rapidjson::Value& args() const { return tx.args(); }
  int64_t now() const { return static_cast<int64_t>(ctx.time_ms); }
  // The first 32 hex of the transaction id: the id of what it creates.
  std::string new_id() const { return tx.id_hex().substr(0, 32); }
};

inline TxOutcome bad(std::string_view field, std::string_view what) {
  return TxOutcome::fail(ledger::kCodeBadArgs, std::string(field) + ": " + std::string(what));
}

inline rapidjson::Value str(std::string_view s, Alloc& a) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}
inline rapidjson::Value num(int64_t v) { return rapidjson::Value(v); }

// Sets member `name` of object `obj` (adding or replacing it).
void set(rapidjson::Value& obj, std::string_view name, rapidjson::Value value, Alloc& a);
// Member `name` as a string / int / bool, or a default when absent or of
// another type (records are written by this app, so types hold).
std::string str_of(const rapidjson::Value& obj, std::string_view name);
int64_t int_of(const rapidjson::Value& obj, std::string_view name, int64_t def = 0);
bool bool_of(const rapidjson::Value& obj, std::string_view name);

// [a-z][a-z0-9_]{0,31}: categories and skills.
bool is_valid_label(std::string_view s);
// 1..64 of [A-Za-z0-9._:-].
bool is_valid_committee(std::string_view s);
// 32 lowercase hex: listing, loan and urgent ids.
bool is_valid_id(std::string_view s);

// Checks `args` has exactly the members named (code 3 naming the first
// missing or unknown one); nullopt when it does.
std::optional<TxOutcome> expect_args(const rapidjson::Value& args,
                                     std::initializer_list<std::string_view> required,
                                     std::initializer_list<std::string_view> optional = {});
// A string arg `field` that `valid` accepts, else code 3 naming it.
Result<std::string> string_arg(const rapidjson::Value& args, std::string_view field,
                               bool (*valid)(std::string_view));
// A record id arg (32 hex), else code 3 naming it.
Result<std::string> id_arg(const rapidjson::Value& args, std::string_view field);

// Reads a record, nullopt if absent.
Result<std::optional<rapidjson::Document>> read(const ledger::StateReader& state,
                                                std::string_view key);
Status write(ledger::AppState& w, std::string_view key, const rapidjson::Value& value);
// Writes the small value {"id": id} under a secondary key.
Status write_ref(ledger::AppState& w, std::string_view key, std::string_view id);
Status erase(ledger::AppState& w, std::string_view key);

// The counter record "count/<did>" {"open_listings", "urgent":[times]}.
Result<rapidjson::Document> read_count(const ledger::StateReader& state, std::string_view did);
// Adds `delta` to the did's open listings.
Status add_open_listings(ledger::AppState& w, std::string_view did, int64_t delta);

// Adds to "reputation/<did>" each field named with its delta.
Status add_reputation(ledger::AppState& w, std::string_view did,
                      std::initializer_list<std::pair<std::string_view, int64_t>> deltas);

// Emits {"type": type, ...members}.
void emit(ledger::AppState& w, rapidjson::Document& ev, std::string_view type);

// Ops (apps/share_loans.cc).
Result<TxOutcome> op_list(Op& op);
Result<TxOutcome> op_unlist(Op& op);
Result<TxOutcome> op_request(Op& op);
Result<TxOutcome> op_loan_step(Op& op);  // accept, decline, cancel, handover, return, rate
Result<TxOutcome> loan_deadline(std::string_view id, const ledger::BlockContext& ctx,
                                ledger::AppState& w);
// Ops (apps/share_urgent.cc).
Result<TxOutcome> op_certify(Op& op);
Result<TxOutcome> op_uncertify(Op& op);
Result<TxOutcome> op_responder(Op& op);  // register_responder, unregister_responder
Result<TxOutcome> op_urgent(Op& op);
Result<TxOutcome> op_urgent_step(Op& op);  // respond, arrived, close_urgent
Result<TxOutcome> urgent_deadline(std::string_view id, const ledger::BlockContext& ctx,
                                  ledger::AppState& w);

}  // namespace imi::apps::share_detail

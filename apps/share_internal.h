// Private to the share app (apps/share*.cc): the context every op runs in,
// record helpers and the ops of each part. Not for other modules.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "apps/app_util.h"
#include "apps/share.h"
#include "ledger/app.h"
#include "ledger/json.h"

namespace imi::apps::share_detail {

using ledger::TxOutcome;
using Alloc = rapidjson::Document::AllocatorType;

using Op = util::Op<ShareParams>;

// The helpers every app shares (apps/app_util.h).
using util::bad;
using util::bool_of;
using util::emit;
using util::expect_args;
using util::id_arg;
using util::int_of;
using util::is_valid_id;
using util::num;
using util::set;
using util::str;
using util::str_of;
using util::string_arg;

// [a-z][a-z0-9_]{0,31}: categories and skills.
bool is_valid_label(std::string_view s);
// 1..64 of [A-Za-z0-9._:-].
bool is_valid_committee(std::string_view s);

// Records of the share namespace: read (nullopt if absent), write, erase.
inline Result<std::optional<rapidjson::Document>> read(const ledger::StateReader& state,
                                                       std::string_view key) {
  return util::read(state, kShareApp, key);
}
inline Status write(ledger::AppState& w, std::string_view key, const rapidjson::Value& value) {
  return util::write(w, kShareApp, key, value);
}
// Writes the small value {"id": id} under a secondary key.
inline Status write_ref(ledger::AppState& w, std::string_view key, std::string_view id) {
  return util::write_ref(w, kShareApp, key, id);
}
inline Status erase(ledger::AppState& w, std::string_view key) {
  return util::erase(w, kShareApp, key);
}

// The counter record "count/<did>" {"open_listings", "urgent":[times]}.
Result<rapidjson::Document> read_count(const ledger::StateReader& state, std::string_view did);
// Adds `delta` to the did's open listings.
Status add_open_listings(ledger::AppState& w, std::string_view did, int64_t delta);

// Adds to "reputation/<did>" each field named with its delta.
Status add_reputation(ledger::AppState& w, std::string_view did,
                      std::initializer_list<std::pair<std::string_view, int64_t>> deltas);

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

// The results of the deadlines a committed block fired (ledger/app.h
// "Deadlines"), as the API serves them: stored after the block's
// transactions' results, at positions tx_count.. (ledger/store.h), and the
// event-stream filters over results' events.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "ledger/block.h"
#include "ledger/store.h"

namespace imi::node {

struct DeadlineResult {
  uint32_t position = 0;  // tx_count + i: the result's leaf in results_root
  ledger::TxResult result;
};

// The results of the deadlines block `height` (with `tx_count`
// transactions) fired, in firing order: the stored results from position
// tx_count on, up to the first absent one, at most `max`. Errors: store.io,
// result.* (a stored result that does not decode, or lacks its deadline).
Result<std::vector<DeadlineResult>> read_deadline_results(const ledger::Store& store,
                                                          uint64_t height, uint64_t tx_count,
                                                          size_t max);

// {"app","key","time","code","events","position"} (JCS member order).
std::string deadline_result_json(const DeadlineResult& d);

// Whether one event of `events` (an array) matches: "skill" equal to `skill`
// when it is non-empty, and "cell" equal to `cell` or "cells" (an array)
// holding it when `cell` is non-empty. True when both are empty.
bool events_match(const rapidjson::Value& events, std::string_view skill, std::string_view cell);

}  // namespace imi::node

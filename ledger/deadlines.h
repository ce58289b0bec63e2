// The deadline schedule's state format (ledger/app.h, "Deadlines"), shared by
// AppState (which schedules and cancels) and the executor (which fires).
// Namespace kDeadlineNamespace:
//   "at/<time, 16 decimal digits>/<app>/<key>" -> {"app","key","time"}
//   "by/<app>/<key>"                           -> {"time"}
// App names are [a-z0-9_] (all above '/'), so the "at/" keys sort by
// (time, app, key) byte-wise: the order deadlines fire in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ledger/app.h"

namespace imi::ledger {

struct DeadlineKeys {
  std::string at, by;
};

// 1..kDeadlineKeyBytesMax bytes without NUL.
bool is_valid_deadline_key(std::string_view key);
DeadlineKeys deadline_keys(std::string_view app, std::string_view key, uint64_t time_ms);
std::string deadline_at_value(std::string_view app, std::string_view key, uint64_t time_ms);
std::string deadline_by_value(uint64_t time_ms);

// The pending time of app's deadline `key` in `state`, nullopt if none.
Result<std::optional<uint64_t>> pending_deadline(const StateReader& state, std::string_view app,
                                                 std::string_view key);

// A deadline as its "at/" entry says.
struct DueDeadline {
  std::string app, key;
  uint64_t time_ms = 0;
};
// Parses an "at/" index entry; state.corrupt_value if malformed.
Result<DueDeadline> parse_deadline_entry(const IndexEntry& entry);

}  // namespace imi::ledger

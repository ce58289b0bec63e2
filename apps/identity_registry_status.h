// Status lists on chain (IETF Token Status List, identity/status_list.h),
// kept per issuer by the identity app and, for endorsements, by the endorse
// app: the same ops and record in each app's own namespace.
//
// State holds the raw two-bit entries, never zlib output: compressed bytes
// depend on the zlib version, and state must be the same on every node.
//   "list/<issuer>/<id>"      {"bits":2,"size":n,"updated":height}
//   "list/<issuer>/<id>/<c>"  {"bytes": base64url(1024 raw bytes)}: entries
//                             c*4096 .. c*4096+4095; absent while all valid
// An update transaction carries only the changed entries ([[idx,status]...],
// at most kStatusUpdatesMax) and rewrites only the chunks they fall in, so
// its cost does not grow with the list. The API compresses the list when it
// serves a Status List Token (status_list_json). A credential names its entry by
//   uri = "imi:status-list/<app>/<issuer>/<id>", idx
// An index says nothing about the holder: issuers pick it at random.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "identity/status_list.h"
#include "ledger/app.h"

namespace imi::apps {

constexpr size_t kStatusUpdatesMax = 256;
constexpr uint64_t kStatusChunkEntries = 4096;  // 1 KiB of raw entries per state value
constexpr uint64_t kStatusListSizeMax = identity::kStatusListEntriesMax;

// "imi:status-list/<app>/<issuer>/<list>".
std::string status_list_uri(std::string_view app, std::string_view issuer, std::string_view list);
struct StatusListName {
  std::string app, issuer, list;
};
// Parses a uri made by status_list_uri; nullopt otherwise.
std::optional<StatusListName> parse_status_list_uri(std::string_view uri);

// True for [a-z0-9_-]{1,32}.
bool is_valid_list_id(std::string_view id);

// The ops "status_list_create" and "status_list_update" for `app`, run by
// issuer tx.from() (the caller has checked the sender may keep lists).
// With `write` null they only check. Codes: kCodeBadArgs, kCodeNotFound,
// kCodeConflict (list exists), kIdCodeFinalStatus, kIdCodeOutOfRange.
Result<ledger::TxOutcome> status_list_op(std::string_view app, const ledger::Transaction& tx,
                                         const ledger::BlockContext& ctx,
                                         const ledger::StateReader& state, ledger::AppState* write);

// The list `issuer` keeps as `list` in `app`, nullopt if none.
Result<std::optional<identity::StatusList>> read_status_list(const ledger::StateReader& state,
                                                             std::string_view app,
                                                             std::string_view issuer,
                                                             std::string_view list);
// One entry of a list, reading one chunk (what a verifier needs); nullopt if
// no such list or idx is beyond it.
Result<std::optional<identity::CredentialStatus>> read_status_entry(
    const ledger::StateReader& state, std::string_view app, std::string_view issuer,
    std::string_view list, uint64_t idx);
// The Status List object {"bits":2,"lst":...} (compressed here), for serving; nullopt if none.
Result<std::optional<std::string>> status_list_json(const ledger::StateReader& state,
                                                    std::string_view app, std::string_view issuer,
                                                    std::string_view list);

}  // namespace imi::apps

// Status lists on chain (IETF Token Status List, identity/status_list.h),
// kept per issuer by the identity app and, for endorsements, by the endorse
// app: the same ops and record in each app's own namespace.
//
// Record "list/<issuer>/<id>": {"bits":2,"size":n,"lst":base64url(zlib),
// "updated":height}. The whole compressed list is the value, so a node serves
// a Status List Token from one read; an update transaction carries only the
// changed entries ([[idx,status]...], at most kStatusUpdatesMax) and the app
// rewrites the compressed value. A credential names its entry by
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
// The Status List object {"bits":2,"lst":...} as stored, for serving; nullopt if none.
Result<std::optional<std::string>> status_list_json(const ledger::StateReader& state,
                                                    std::string_view app, std::string_view issuer,
                                                    std::string_view list);

}  // namespace imi::apps

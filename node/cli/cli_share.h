// imi share and imi delegation internals: sending an app's op with the
// common options (--key, --for, --wait, --json), reading state and app
// queries, and the time arguments. Used by cli_share.cc (the share ops),
// cli_share_query.cc (its queries) and cli_delegation.cc.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "node/cli/cli_common.h"

namespace imi::cli::share {

// Milliseconds since the epoch on this machine's clock (block time follows
// the validators' clocks; a relative time is only as good as both agree).
uint64_t now_ms();

// A duration: "7d", "12h", "30m", "90s", "1500ms", or plain milliseconds.
// False for anything else (no sign, no fraction, no overflow).
bool parse_duration_ms(const std::string& text, uint64_t& out);

// A block time: plain milliseconds since the epoch, or "+DURATION" (from
// now). False otherwise.
bool parse_time_ms(const std::string& text, uint64_t& out);

// Percent-encodes everything but [A-Za-z0-9._~-] (a state key with '/' is
// one path segment, see GET /v1/state/{app}/{key}).
std::string url_encode(std::string_view s);

// The first 32 hex of a transaction id: the id of the record it creates.
inline std::string record_id(const std::string& tx_id_hex) { return tx_id_hex.substr(0, 32); }

// Signs `app`'s `op` with `args` using --key (and --password-file), on
// behalf of --for when given, submits it (?wait=commit with --wait) and
// prints the record id (first 32 hex of the tx id), status, result code and
// message, or with --json the node's answer unchanged. Returns the exit code
// (0, 1 rejected, 3 unreachable, 4 key file, 5 nonzero code, 6 pending).
int send_op(const Ctx& ctx, const node::CliArgs& a, std::string_view app, std::string_view op,
            const rapidjson::Value& args);

// A committed state value (GET /v1/state/{app}/{key}): doc is the node's
// answer ({"value",...}); exit is not kExitOk when it could not be read (why
// was printed).
struct StateAnswer {
  int exit = kExitOk;
  rapidjson::Document doc;
  const rapidjson::Value& value() const { return doc["value"]; }
  bool absent() const { return !doc.HasMember("value") || doc["value"].IsNull(); }
};
StateAnswer get_state(const Ctx& ctx, std::string_view app, std::string_view key);

// Prints one item of a query page (its "key" and "value"), human-readable.
using ItemPrinter = void (*)(const rapidjson::Value& item);

// GET /v1/apps/{app}/{query}?<params>&cursor=&limit= (params from the named
// options, e.g. {"cell","--cell"}), every one required. Prints each item with
// `print`, then how to get the next page; with --json the answer unchanged.
int run_query(const Ctx& ctx, const node::CliArgs& a, std::string_view app, std::string_view query,
              std::initializer_list<std::pair<const char*, const char*>> params, ItemPrinter print);

// A member as text ("-" when absent), for readable output.
std::string field(const rapidjson::Value& v, const char* name);
// A block time in ms as "2026-01-01T08:00:00Z (ms)", "-" when absent.
std::string time_text(const rapidjson::Value& v, const char* name);

// The share queries (cli_share_query.cc); `sub` is the subcommand word.
bool is_share_query(std::string_view sub);
int run_share_query(const Ctx& ctx, const node::CliArgs& a, std::string_view sub);
// imi share show listing|loan|urgent ID: one record with its state proof's root.
int run_share_show(const Ctx& ctx, const node::CliArgs& a);

}  // namespace imi::cli::share

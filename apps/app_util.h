// Private to the apps folder (apps/*.cc): the helpers every workflow app's
// ops share — argument checks that name the field, record reads and writes
// in the app's own namespace, JSON member access, events, genesis
// parameters and query parameters. Not for other modules.
#pragma once

#include <rapidjson/document.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "ledger/app.h"
#include "ledger/genesis.h"
#include "ledger/transaction.h"

// Runs `expr`, a Result<std::optional<TxOutcome>> (a storage error, or a
// refusal, or nullopt to go on), and returns from the op on anything but
// nullopt.
#define IMI_RETURN_IF_REFUSED(expr)          \
  do {                                       \
    auto refused_ = (expr);                  \
    if (!refused_) return refused_.status(); \
    if (*refused_) return **refused_;        \
  } while (0)

namespace imi::apps::util {

using ledger::TxOutcome;
using Alloc = rapidjson::Document::AllocatorType;

// One op run: check() passes w == nullptr (no writes), apply() the AppState,
// whose reads see this transaction's own writes. `P` is the app's params.
template <class P>
struct Op {
  const ledger::Transaction& tx;
  const ledger::BlockContext& ctx;
  const ledger::StateReader& state;
  ledger::AppState* w;
  P params;

  const std::string& actor() const { return tx.actor(); }
  const rapidjson::Value& args() const { return tx.args(); }
  int64_t now() const { return static_cast<int64_t>(ctx.time_ms); }
  // The first 32 hex of the transaction id: the id of what it creates.
  std::string new_id() const { return tx.id_hex().substr(0, 32); }
};

// Code 3 whose message names the field.
TxOutcome bad(std::string_view field, std::string_view what);

inline rapidjson::Value str(std::string_view s, Alloc& a) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}
inline rapidjson::Value num(int64_t v) { return rapidjson::Value(v); }

// Sets member `name` of object `obj` (adding or replacing it).
void set(rapidjson::Value& obj, std::string_view name, rapidjson::Value value, Alloc& a);
// Member `name` as a string / int / bool, or a default when absent or of
// another type (records are written by their app, so types hold).
std::string str_of(const rapidjson::Value& obj, std::string_view name);
int64_t int_of(const rapidjson::Value& obj, std::string_view name, int64_t def = 0);
bool bool_of(const rapidjson::Value& obj, std::string_view name);

// 1..64 of [A-Za-z0-9._-], and with `colon` also ':'.
bool is_valid_token(std::string_view s, bool colon);
// 32 lowercase hex: the id of a record a transaction created (the first 32
// hex of its id).
bool is_valid_id(std::string_view s);
bool is_valid_did(std::string_view s);

// Checks `args` has exactly the members named (code 3 naming the first
// missing or unknown one); nullopt when it does.
std::optional<TxOutcome> expect_args(const rapidjson::Value& args,
                                     std::initializer_list<std::string_view> required,
                                     std::initializer_list<std::string_view> optional = {});
// A string arg `field` that `valid` accepts (any string when null), else an
// error naming it.
Result<std::string> string_arg(const rapidjson::Value& args, std::string_view field,
                               bool (*valid)(std::string_view));
// A record id arg (32 hex), else an error naming it.
Result<std::string> id_arg(const rapidjson::Value& args, std::string_view field);
// A text arg of 1..`max` bytes into `out`: absent is fine unless `required`;
// a text over `max` bytes gives `too_long_code` (code 3 by default).
std::optional<TxOutcome> text_arg(const rapidjson::Value& args, std::string_view field,
                                  uint64_t max, bool required, std::string& out,
                                  int64_t too_long_code = ledger::kCodeBadArgs);

// Records of namespace `app`: read (nullopt if absent), write, erase.
Result<std::optional<rapidjson::Document>> read(const ledger::StateReader& state,
                                                std::string_view app, std::string_view key);
Status write(ledger::AppState& w, std::string_view app, std::string_view key,
             const rapidjson::Value& value);
// Writes the small value {"id": id} under a secondary key.
Status write_ref(ledger::AppState& w, std::string_view app, std::string_view key,
                 std::string_view id);
Status erase(ledger::AppState& w, std::string_view app, std::string_view key);

// Emits {"type": type, ...members}.
void emit(ledger::AppState& w, rapidjson::Document& ev, std::string_view type);
// An event object {name: value} to add members to.
rapidjson::Document event_of(std::string_view name, std::string_view value);

// Genesis parameters: a table of the positive integer members of a params
// struct, read from genesis ("apps":{"<app>":{...}}, any subset) and kept in
// state "params". Errors are "<app>.bad_params" naming the member.
template <class P>
struct ParamField {
  std::string_view name;
  uint64_t P::*field;
};

Status bad_params(std::string_view app, std::string message);

template <class P>
Status params_from_json(std::string_view app, std::span<const ParamField<P>> fields,
                        const rapidjson::Value& obj, P& p) {
  if (!obj.IsObject()) return bad_params(app, "must be an object");
  for (const auto& m : obj.GetObject()) {
    std::string_view name(m.name.GetString(), m.name.GetStringLength());
    auto f = std::find_if(fields.begin(), fields.end(),
                          [&](const ParamField<P>& pf) { return pf.name == name; });
    if (f == fields.end()) return bad_params(app, "unknown parameter " + std::string(name));
    if (!m.value.IsInt64() || m.value.GetInt64() <= 0)
      return bad_params(app, std::string(name) + " must be a positive integer");
    p.*(f->field) = static_cast<uint64_t>(m.value.GetInt64());
  }
  return Status::ok();
}

template <class P>
rapidjson::Document params_to_json(std::span<const ParamField<P>> fields, const P& p) {
  rapidjson::Document d(rapidjson::kObjectType);
  for (const auto& f : fields)
    d.AddMember(str(f.name, d.GetAllocator()), num(static_cast<int64_t>(p.*(f.field))),
                d.GetAllocator());
  return d;
}

// The genesis object of `app` (nullopt if none), or bad_params.
Result<std::optional<rapidjson::Document>> genesis_params(const ledger::Genesis& genesis,
                                                          std::string_view app);

// The parameters kept in state "params" of `app`, parsed by `from_json`
// (defaults when absent; state.corrupt_value if they do not parse).
template <class P>
Result<P> load_params(const ledger::StateReader& state, std::string_view app,
                      Status (*from_json)(const rapidjson::Value&, P&)) {
  P p;
  auto doc = read(state, app, "params");
  if (!doc) return doc.status();
  if (!doc->has_value()) return p;
  Status s = from_json(**doc, p);
  if (!s.is_ok()) return Status::error("state.corrupt_value", s.message());
  return p;
}

// Writes state "params" of `app` from genesis: the defaults overridden by
// what genesis gives, parsed by `from_json` (its error otherwise).
template <class P>
Status init_params(const ledger::Genesis& genesis, ledger::AppState& state, std::string_view app,
                   std::span<const ParamField<P>> fields,
                   Status (*from_json)(const rapidjson::Value&, P&)) {
  auto given = genesis_params(genesis, app);
  if (!given) return given.status();
  P p;
  if (given->has_value()) IMI_RETURN_IF_ERROR(from_json(**given, p));
  return write(state, app, "params", params_to_json(fields, p));
}

// A query parameter `name` that `valid` accepts, else query.bad_param
// saying it must be `what`.
Result<std::string> query_param(const ledger::QueryParams& params, std::string_view name,
                                bool (*valid)(std::string_view), std::string_view what);
// The part of an index key after its last '/': "<prefix>/.../<id>" -> id.
std::string last_segment(const ledger::IndexEntry& e);

}  // namespace imi::apps::util

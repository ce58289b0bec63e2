// Helpers shared by the consent app's two rule versions (apps/consent.cc:
// the app and version 1; apps/consent_v2.cc: version 2). Not a public header.
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apps/consent.h"
#include "ledger/app.h"

namespace imi::apps::consent_internal {

constexpr size_t kAttributesMax = 16;
constexpr size_t kPurposeBytesMax = 256;
constexpr size_t kAttributeBytesMax = 32;
constexpr size_t kCaseBytesMax = 128;

inline rapidjson::Value str(std::string_view s, rapidjson::Document::AllocatorType& a) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}
inline ledger::TxOutcome bad(std::string m) {
  return ledger::TxOutcome::fail(ledger::kCodeBadArgs, std::move(m));
}

// [a-z0-9_]{1,32}
bool is_attribute(std::string_view s);
// Attribute names of an array (1..16), or nullopt if malformed.
std::optional<std::vector<std::string>> attributes(const rapidjson::Value& v);
// Whether `sealed` is an object with `required` and optional `optional`
// members, each base64url of at most `max_chars` characters.
bool sealed_ok(const rapidjson::Value& sealed, std::initializer_list<std::string_view> required,
               std::initializer_list<std::string_view> optional, size_t max_chars);
// Emits {"consent":id,"type":type}.
void emit(ledger::AppState& state, std::string_view type, std::string_view id);
// A fresh random salt.
Hash32 fresh_salt();

// Version 1 and version 2 ops; `w` is null in check().
Result<ledger::TxOutcome> run_v1(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                 const ledger::StateReader& state, ledger::AppState* w);
Result<ledger::TxOutcome> run_v2(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                 const ledger::StateReader& state, ledger::AppState* w);

}  // namespace imi::apps::consent_internal

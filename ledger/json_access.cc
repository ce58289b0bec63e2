// Typed accessors used by the record decoders. Messages name the field so an
// operator or an SDK author sees which member of which record was wrong.
#include <algorithm>

#include "ledger/json.h"

namespace imi::ledger {
namespace {

const char* type_name(const rapidjson::Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return "a boolean";
    case rapidjson::kObjectType:
      return "an object";
    case rapidjson::kArrayType:
      return "an array";
    case rapidjson::kStringType:
      return "a string";
    case rapidjson::kNumberType:
      return v.IsDouble() ? "a non-integer number" : "an integer";
  }
  return "an unknown value";
}

// The field name, quoted, with anything unprintable escaped.
std::string quoted(std::string_view field) {
  std::string out = "\"";
  for (char ch : field.substr(0, 64)) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f) {
      out += ch;
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out + "\"";
}

Status wrong_type(std::string_view field, const char* expected, const rapidjson::Value& got) {
  return Status::error("json.wrong_type", "field " + quoted(field) + " must be " + expected +
                                              ", not " + type_name(got));
}

template <size_t N>
Result<std::array<uint8_t, N>> get_hex_fixed(const rapidjson::Value& obj, std::string_view field) {
  auto s = get_string(obj, field);
  if (!s) return s.status();
  auto bytes = from_hex_fixed<N>(*s);
  if (!bytes) {
    return Status::error("json.bad_hex", "field " + quoted(field) + " must be exactly " +
                                             std::to_string(2 * N) +
                                             " lowercase hex characters (got " +
                                             std::to_string(s->size()) + " characters)");
  }
  return *bytes;
}

}  // namespace

Status expect_members(const rapidjson::Value& obj, std::initializer_list<std::string_view> required,
                      std::initializer_list<std::string_view> optional) {
  if (!obj.IsObject())
    return Status::error("json.wrong_type",
                         std::string("expected an object, not ") + type_name(obj));
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
    std::string_view name(it->name.GetString(), it->name.GetStringLength());
    if (std::find(required.begin(), required.end(), name) == required.end() &&
        std::find(optional.begin(), optional.end(), name) == optional.end()) {
      return Status::error("json.unknown_field", "unknown field " + quoted(name) + "; remove it");
    }
  }
  for (std::string_view name : required) {
    if (!has_field(obj, name))
      return Status::error("json.missing_field", "missing field " + quoted(name));
  }
  return Status::ok();
}

bool has_field(const rapidjson::Value& obj, std::string_view field) {
  if (!obj.IsObject()) return false;
  rapidjson::Value key(rapidjson::StringRef(field.data(), field.size()));
  return obj.FindMember(key) != obj.MemberEnd();
}

Result<const rapidjson::Value*> get_field(const rapidjson::Value& obj, std::string_view field) {
  if (!obj.IsObject()) {
    return Status::error("json.wrong_type", "expected an object holding field " + quoted(field) +
                                                ", not " + type_name(obj));
  }
  rapidjson::Value key(rapidjson::StringRef(field.data(), field.size()));
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd())
    return Status::error("json.missing_field", "missing field " + quoted(field));
  return &it->value;
}

Result<std::string_view> get_string(const rapidjson::Value& obj, std::string_view field) {
  auto v = get_field(obj, field);
  if (!v) return v.status();
  if (!(*v)->IsString()) return wrong_type(field, "a string", **v);
  return std::string_view((*v)->GetString(), (*v)->GetStringLength());
}

Result<bool> get_bool(const rapidjson::Value& obj, std::string_view field) {
  auto v = get_field(obj, field);
  if (!v) return v.status();
  if (!(*v)->IsBool()) return wrong_type(field, "a boolean", **v);
  return (*v)->GetBool();
}

Result<int64_t> get_int(const rapidjson::Value& obj, std::string_view field) {
  auto v = get_field(obj, field);
  if (!v) return v.status();
  const rapidjson::Value& n = **v;
  if (!n.IsNumber() || n.IsDouble()) return wrong_type(field, "an integer", n);
  if (!n.IsInt64() || n.GetInt64() > kJsonMaxSafeInteger || n.GetInt64() < -kJsonMaxSafeInteger)
    return Status::error("json.integer_range",
                         "field " + quoted(field) + " must be within ±(2^53−1)");
  return n.GetInt64();
}

Result<uint64_t> get_uint(const rapidjson::Value& obj, std::string_view field) {
  auto n = get_int(obj, field);
  if (!n) return n.status();
  if (*n < 0)
    return Status::error(
        "json.integer_range",
        "field " + quoted(field) + " must not be negative (got " + std::to_string(*n) + ")");
  return static_cast<uint64_t>(*n);
}

Result<const rapidjson::Value*> get_object(const rapidjson::Value& obj, std::string_view field) {
  auto v = get_field(obj, field);
  if (!v) return v.status();
  if (!(*v)->IsObject()) return wrong_type(field, "an object", **v);
  return *v;
}

Result<const rapidjson::Value*> get_array(const rapidjson::Value& obj, std::string_view field) {
  auto v = get_field(obj, field);
  if (!v) return v.status();
  if (!(*v)->IsArray()) return wrong_type(field, "an array", **v);
  return *v;
}

Result<Hash32> get_hex32(const rapidjson::Value& obj, std::string_view field) {
  return get_hex_fixed<32>(obj, field);
}

Result<std::array<uint8_t, 64>> get_hex64(const rapidjson::Value& obj, std::string_view field) {
  return get_hex_fixed<64>(obj, field);
}

}  // namespace imi::ledger

// RFC 8785 serialisation. It runs on every transaction id and signature, so it
// writes into one string and sorts pointers to members in one shared scratch
// vector (no allocation per object once the vector has grown).
#include <algorithm>
#include <cassert>
#include <charconv>
#include <vector>

#include "base/json_string.h"
#include "ledger/json.h"

namespace imi::ledger {
namespace {

using Member = rapidjson::Value::Member;

std::string_view name_of(const Member* m) {
  return std::string_view(m->name.GetString(), m->name.GetStringLength());
}

// Byte order of the (ASCII) keys equals the UTF-16 code unit order RFC 8785
// §3.2.3 asks for; string_view compares bytes as unsigned char.
bool key_less(const Member* a, const Member* b) {
  // Most keys differ in their first byte; decide those without a memcmp call.
  const rapidjson::SizeType na = a->name.GetStringLength(), nb = b->name.GetStringLength();
  if (na != 0 && nb != 0) {
    auto ca = static_cast<unsigned char>(a->name.GetString()[0]);
    auto cb = static_cast<unsigned char>(b->name.GetString()[0]);
    if (ca != cb) return ca < cb;
  }
  return name_of(a) < name_of(b);
}

// Member pointers being sorted, reused across calls on one thread so a
// serialisation allocates nothing but its output.
std::vector<const Member*>& member_scratch() {
  thread_local std::vector<const Member*> scratch;
  return scratch;
}

class Writer {
 public:
  explicit Writer(std::string& out)
      : out_(out), members_(member_scratch()), base_(members_.size()) {}
  ~Writer() { members_.resize(base_); }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void value(const rapidjson::Value& v) {
    switch (v.GetType()) {
      case rapidjson::kNullType:
        out_ += "null";
        break;
      case rapidjson::kFalseType:
        out_ += "false";
        break;
      case rapidjson::kTrueType:
        out_ += "true";
        break;
      case rapidjson::kStringType:
        append_jcs_string(out_, std::string_view(v.GetString(), v.GetStringLength()));
        break;
      case rapidjson::kNumberType:
        number(v);
        break;
      case rapidjson::kArrayType: {
        out_ += '[';
        bool first = true;
        for (const auto& e : v.GetArray()) {
          if (!first) out_ += ',';
          first = false;
          value(e);
        }
        out_ += ']';
        break;
      }
      case rapidjson::kObjectType:
        object(v, nullptr);
        break;
    }
  }

  // Writes `v` (an object) without its member named *omit, if given.
  void object(const rapidjson::Value& v, const std::string_view* omit) {
    size_t base = members_.size();
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      if (omit != nullptr && name_of(&*it) == *omit) continue;
      members_.push_back(&*it);
    }
    auto begin = members_.begin() + static_cast<ptrdiff_t>(base);
    // Canonical input (the common case: a re-serialised record) is already sorted.
    if (!std::is_sorted(begin, members_.end(), key_less))
      std::sort(begin, members_.end(), key_less);
    out_ += '{';
    size_t end = members_.size();
    // Index, not iterator: nested objects push onto members_ and may reallocate it.
    for (size_t i = base; i < end; ++i) {
      if (i != base) out_ += ',';
      const Member* m = members_[i];
      append_jcs_string(out_, std::string_view(m->name.GetString(), m->name.GetStringLength()));
      out_ += ':';
      value(m->value);
    }
    out_ += '}';
    members_.resize(base);
  }

 private:
  void number(const rapidjson::Value& v) {
    assert(v.IsInt64() && !v.IsDouble() && "JCS of a non-integer number");
    int64_t n = v.GetInt64();
    assert(n >= -kJsonMaxSafeInteger && n <= kJsonMaxSafeInteger && "JCS of an unsafe integer");
    char buf[24];
    auto res = std::to_chars(buf, buf + sizeof buf, n);
    out_.append(buf, res.ptr);
  }

  std::string& out_;
  std::vector<const Member*>& members_;
  size_t base_;  // members_ entries below this belong to an outer call
};

}  // namespace

void jcs_append(std::string& out, const rapidjson::Value& value) {
  Writer writer(out);
  writer.value(value);
}

std::string jcs(const rapidjson::Value& value) {
  std::string out;
  out.reserve(512);
  jcs_append(out, value);
  return out;
}

std::string jcs_without(const rapidjson::Value& object, std::string_view omit) {
  std::string out;
  out.reserve(512);
  Writer writer(out);
  if (object.IsObject()) {
    writer.object(object, &omit);
  } else {
    writer.value(object);
  }
  return out;
}

}  // namespace imi::ledger

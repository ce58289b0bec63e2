// The strict parser: a small recursive-descent parser that checks every rule
// itself (so each error has its own code and an exact byte offset) and builds
// the RapidJSON document directly. Recursion depth is bounded by
// min(limits.max_depth, kJsonDepthCeiling).
#include <algorithm>
#include <cstdio>
#include <string>
#include <unordered_set>

#include "ledger/json.h"

namespace imi::ledger {
namespace {

// Objects with more members than this check duplicates with a hash set
// instead of a linear scan, so a large object costs O(n), not O(n²).
constexpr size_t kLinearDuplicateScan = 16;

std::string byte_desc(unsigned char c) {
  char buf[48];
  if (c >= 0x20 && c < 0x7f) {
    std::snprintf(buf, sizeof buf, "'%c'", c);
  } else {
    std::snprintf(buf, sizeof buf, "byte 0x%02x", c);
  }
  return buf;
}

int hex_digit(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

// Length of the well-formed UTF-8 sequence starting at s[0] (a byte >= 0x80),
// or 0 if it is not one (RFC 3629 table: no overlongs, no surrogates, nothing
// above U+10FFFF, no truncation).
size_t utf8_sequence_length(const unsigned char* s, size_t avail) {
  unsigned char c = s[0];
  size_t len;
  unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (avail < len) return 0;
  if (s[1] < lo || s[1] > hi) return 0;
  for (size_t i = 2; i < len; ++i)
    if (s[i] < 0x80 || s[i] > 0xbf) return 0;
  return len;
}

class Parser {
 public:
  Parser(std::string_view text, const JsonLimits& limits, rapidjson::Document& doc)
      : s_(reinterpret_cast<const unsigned char*>(text.data())),
        n_(text.size()),
        limits_(limits),
        max_depth_(std::min(limits.max_depth, kJsonDepthCeiling)),
        alloc_(doc.GetAllocator()) {}
  // Records the text of each element of arrays at `depth` into `spans`.
  void capture(int depth, std::vector<std::string_view>* spans) {
    span_depth_ = depth;
    spans_ = spans;
  }

  Status run(rapidjson::Value& out) {
    if (n_ > limits_.max_bytes || n_ > UINT32_MAX) {
      fail("json.too_large", limits_.max_bytes,
           "the document is " + std::to_string(n_) + " bytes; the limit is " +
               std::to_string(limits_.max_bytes));
      return status_;
    }
    if (n_ >= 3 && s_[0] == 0xef && s_[1] == 0xbb && s_[2] == 0xbf) {
      fail("json.syntax", 0, "UTF-8 byte order mark; send the JSON text without it");
      return status_;
    }
    skip_ws();
    if (pos_ == n_) {
      fail("json.syntax", pos_, "empty input; expected a JSON value");
      return status_;
    }
    if (!parse_value(out, 0)) return status_;
    skip_ws();
    if (pos_ != n_) {
      fail("json.trailing_data", pos_,
           byte_desc(s_[pos_]) + " after the end of the value; send exactly one JSON value");
    }
    return status_;
  }

 private:
  bool fail(const char* code, size_t offset, const std::string& what) {
    status_ = Status::error(code, "at byte " + std::to_string(offset) + ": " + what);
    return false;
  }

  bool unexpected(const char* expected) {
    if (pos_ >= n_)
      return fail("json.syntax", pos_,
                  std::string("unexpected end of input; expected ") + expected);
    return fail("json.syntax", pos_,
                "unexpected " + byte_desc(s_[pos_]) + "; expected " + expected);
  }

  void skip_ws() {
    while (pos_ < n_ &&
           (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t'))
      ++pos_;
  }

  bool parse_value(rapidjson::Value& out, int depth) {
    if (pos_ >= n_) return unexpected("a value");
    switch (s_[pos_]) {
      case '{':
        return parse_object(out, depth + 1);
      case '[':
        return parse_array(out, depth + 1);
      case '"': {
        if (!parse_string(scratch_)) return false;
        out.SetString(scratch_.data(), static_cast<rapidjson::SizeType>(scratch_.size()), alloc_);
        return true;
      }
      case 't':
        if (!parse_literal("true")) return false;
        out.SetBool(true);
        return true;
      case 'f':
        if (!parse_literal("false")) return false;
        out.SetBool(false);
        return true;
      case 'n':
        if (!parse_literal("null")) return false;
        out.SetNull();
        return true;
      default:
        if (s_[pos_] == '-' || (s_[pos_] >= '0' && s_[pos_] <= '9')) return parse_number(out);
        return unexpected("a value");
    }
  }

  bool parse_literal(std::string_view word) {
    if (n_ - pos_ < word.size() ||
        std::string_view(reinterpret_cast<const char*>(s_ + pos_), word.size()) != word) {
      return fail("json.syntax", pos_, "invalid literal; expected " + std::string(word));
    }
    pos_ += word.size();
    return true;
  }

  bool parse_number(rapidjson::Value& out) {
    size_t start = pos_;
    bool negative = s_[pos_] == '-';
    if (negative) ++pos_;
    if (pos_ >= n_ || s_[pos_] < '0' || s_[pos_] > '9') return unexpected("a digit");
    uint64_t value = 0;
    bool too_big = false;
    if (s_[pos_] == '0') {
      ++pos_;
      if (pos_ < n_ && s_[pos_] >= '0' && s_[pos_] <= '9')
        return fail("json.syntax", start, "leading zero in a number; write integers without one");
    } else {
      while (pos_ < n_ && s_[pos_] >= '0' && s_[pos_] <= '9') {
        if (!too_big) {
          value = value * 10 + (s_[pos_] - '0');
          if (value > static_cast<uint64_t>(kJsonMaxSafeInteger)) too_big = true;
        }
        ++pos_;
      }
    }
    bool is_float = false;
    if (pos_ < n_ && s_[pos_] == '.') {
      ++pos_;
      if (pos_ >= n_ || s_[pos_] < '0' || s_[pos_] > '9') return unexpected("a digit after '.'");
      while (pos_ < n_ && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      is_float = true;
    }
    if (pos_ < n_ && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < n_ && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (pos_ >= n_ || s_[pos_] < '0' || s_[pos_] > '9')
        return unexpected("a digit in the exponent");
      while (pos_ < n_ && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      is_float = true;
    }
    std::string token(reinterpret_cast<const char*>(s_ + start),
                      std::min<size_t>(pos_ - start, 40));
    if (is_float) {
      return fail("json.float", start,
                  "number " + token +
                      " has a fraction or exponent; only integers are allowed (send other "
                      "numbers as strings)");
    }
    if (too_big) {
      return fail("json.integer_range", start,
                  "integer " + token + " is beyond ±(2^53−1); send it as a string");
    }
    if (negative && value == 0)
      return fail("json.syntax", start, "-0 is not allowed; zero is written 0");
    out.SetInt64(negative ? -static_cast<int64_t>(value) : static_cast<int64_t>(value));
    return true;
  }

  // Parses the string at pos_ (a '"') into `dst`, unescaped.
  bool parse_string(std::string& dst) {
    size_t start = pos_;
    ++pos_;
    dst.clear();
    for (;;) {
      size_t run = pos_;
      while (pos_ < n_ && s_[pos_] >= 0x20 && s_[pos_] < 0x80 && s_[pos_] != '"' &&
             s_[pos_] != '\\')
        ++pos_;
      dst.append(reinterpret_cast<const char*>(s_ + run), pos_ - run);
      if (dst.size() > limits_.max_string_bytes) return string_too_long(start);
      if (pos_ >= n_) return fail("json.syntax", start, "unterminated string");
      unsigned char c = s_[pos_];
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c == '\\') {
        if (!parse_escape(dst)) return false;
      } else if (c < 0x20) {
        return fail("json.syntax", pos_,
                    "raw control character " + byte_desc(c) + " in a string; escape it");
      } else {
        size_t len = utf8_sequence_length(s_ + pos_, n_ - pos_);
        if (len == 0)
          return fail("json.invalid_utf8", pos_,
                      "invalid UTF-8 sequence starting with " + byte_desc(c) +
                          " (overlong, surrogate, above U+10FFFF or truncated); send valid UTF-8");
        dst.append(reinterpret_cast<const char*>(s_ + pos_), len);
        pos_ += len;
      }
      if (dst.size() > limits_.max_string_bytes) return string_too_long(start);
    }
  }

  bool string_too_long(size_t start) {
    return fail("json.string_too_long", start,
                "string longer than " + std::to_string(limits_.max_string_bytes) + " bytes");
  }

  bool read_hex4(size_t at, uint32_t& cp) {
    cp = 0;
    for (size_t i = 0; i < 4; ++i) {
      if (at + i >= n_) {
        pos_ = n_;
        return unexpected("4 hex digits after \\u");
      }
      int d = hex_digit(s_[at + i]);
      if (d < 0) {
        pos_ = at + i;
        return unexpected("4 hex digits after \\u");
      }
      cp = cp << 4 | static_cast<uint32_t>(d);
    }
    return true;
  }

  // pos_ is at a backslash inside a string.
  bool parse_escape(std::string& dst) {
    size_t esc = pos_;
    ++pos_;
    if (pos_ >= n_) return unexpected("an escape character");
    char c = static_cast<char>(s_[pos_]);
    switch (c) {
      case '"':
        dst += '"';
        break;
      case '\\':
        dst += '\\';
        break;
      case '/':
        dst += '/';
        break;
      case 'b':
        dst += '\b';
        break;
      case 'f':
        dst += '\f';
        break;
      case 'n':
        dst += '\n';
        break;
      case 'r':
        dst += '\r';
        break;
      case 't':
        dst += '\t';
        break;
      case 'u': {
        uint32_t cp;
        if (!read_hex4(pos_ + 1, cp)) return false;
        pos_ += 5;
        if (cp >= 0xdc00 && cp <= 0xdfff)
          return fail("json.lone_surrogate", esc,
                      "low surrogate escape without a high one before it");
        if (cp >= 0xd800 && cp <= 0xdbff) {
          if (n_ - pos_ < 2 || s_[pos_] != '\\' || s_[pos_ + 1] != 'u')
            return fail("json.lone_surrogate", esc,
                        "high surrogate escape not followed by a low one");
          uint32_t low;
          if (!read_hex4(pos_ + 2, low)) return false;
          if (low < 0xdc00 || low > 0xdfff)
            return fail("json.lone_surrogate", esc,
                        "high surrogate escape not followed by a low one");
          pos_ += 6;
          cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        }
        append_utf8(dst, cp);
        return true;
      }
      default:
        return fail("json.syntax", esc, "invalid escape \\ followed by " + byte_desc(s_[pos_]));
    }
    ++pos_;
    return true;
  }

  bool enter(int depth) {
    if (depth > max_depth_)
      return fail("json.too_deep", pos_,
                  "nesting deeper than " + std::to_string(max_depth_) + " levels");
    return true;
  }

  bool parse_array(rapidjson::Value& out, int depth) {
    if (!enter(depth)) return false;
    ++pos_;
    out.SetArray();
    skip_ws();
    if (pos_ < n_ && s_[pos_] == ']') {
      ++pos_;
      return true;
    }
    for (;;) {
      skip_ws();
      if (out.Size() >= limits_.max_members)
        return fail("json.too_many_members", pos_,
                    "array with more than " + std::to_string(limits_.max_members) + " elements");
      rapidjson::Value element;
      const size_t start = pos_;
      if (!parse_value(element, depth)) return false;
      if (spans_ != nullptr && depth == span_depth_)
        spans_->emplace_back(reinterpret_cast<const char*>(s_ + start), pos_ - start);
      out.PushBack(element, alloc_);
      skip_ws();
      if (pos_ < n_ && s_[pos_] == ',') {
        ++pos_;
      } else if (pos_ < n_ && s_[pos_] == ']') {
        ++pos_;
        return true;
      } else {
        return unexpected("',' or ']'");
      }
    }
  }

  bool is_duplicate(const rapidjson::Value& object, std::unordered_set<std::string>& seen) {
    if (object.MemberCount() < kLinearDuplicateScan) {
      for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
        if (std::string_view(it->name.GetString(), it->name.GetStringLength()) == scratch_)
          return true;
      }
      return false;
    }
    if (seen.empty()) {
      for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it)
        seen.emplace(it->name.GetString(), it->name.GetStringLength());
    }
    return !seen.insert(scratch_).second;
  }

  bool parse_object(rapidjson::Value& out, int depth) {
    if (!enter(depth)) return false;
    ++pos_;
    out.SetObject();
    skip_ws();
    if (pos_ < n_ && s_[pos_] == '}') {
      ++pos_;
      return true;
    }
    std::unordered_set<std::string> seen;  // only used for large objects
    for (;;) {
      skip_ws();
      if (pos_ >= n_ || s_[pos_] != '"') return unexpected("a member name in double quotes");
      size_t key_at = pos_;
      if (out.MemberCount() >= limits_.max_members)
        return fail("json.too_many_members", key_at,
                    "object with more than " + std::to_string(limits_.max_members) + " members");
      if (!parse_string(scratch_)) return false;
      for (char ch : scratch_) {
        if (static_cast<unsigned char>(ch) >= 0x80)
          return fail("json.non_ascii_key", key_at,
                      "object key holds a non-ASCII character; keys must be ASCII");
      }
      if (is_duplicate(out, seen))
        return fail("json.duplicate_key", key_at, "duplicate key \"" + printable(scratch_) + "\"");
      rapidjson::Value key(scratch_.data(), static_cast<rapidjson::SizeType>(scratch_.size()),
                           alloc_);
      skip_ws();
      if (pos_ >= n_ || s_[pos_] != ':') return unexpected("':'");
      ++pos_;
      skip_ws();
      rapidjson::Value value;
      if (!parse_value(value, depth)) return false;
      out.AddMember(key, value, alloc_);
      skip_ws();
      if (pos_ < n_ && s_[pos_] == ',') {
        ++pos_;
      } else if (pos_ < n_ && s_[pos_] == '}') {
        ++pos_;
        return true;
      } else {
        return unexpected("',' or '}'");
      }
    }
  }

  static std::string printable(std::string_view key) {
    std::string out;
    for (char ch : key.substr(0, 64)) {
      auto c = static_cast<unsigned char>(ch);
      if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
        out += ch;
      } else {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      }
    }
    return out;
  }

  const unsigned char* s_;
  size_t n_;
  size_t pos_ = 0;
  const JsonLimits& limits_;
  int max_depth_;
  rapidjson::Document::AllocatorType& alloc_;
  int span_depth_ = -1;
  std::vector<std::string_view>* spans_ = nullptr;
  std::string scratch_;  // the string being unescaped, reused
  Status status_;
};

}  // namespace

Result<rapidjson::Document> parse_strict(std::string_view text, const JsonLimits& limits) {
  std::vector<std::string_view> none;
  return parse_strict(text, limits, -1, none);
}

Result<rapidjson::Document> parse_strict(std::string_view text, const JsonLimits& limits, int depth,
                                         std::vector<std::string_view>& spans) {
  rapidjson::Document doc;
  rapidjson::Value root;
  Parser parser(text, limits, doc);
  if (depth > 0) parser.capture(depth, &spans);
  Status status = parser.run(root);
  if (!status.is_ok()) return status;
  // root's storage lives in doc's allocator; make it the document's value.
  static_cast<rapidjson::Value&>(doc).Swap(root);
  return doc;
}

}  // namespace imi::ledger

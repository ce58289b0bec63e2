// Internal: byte writer and bounds-checked reader for the wire format
// documented in messages.h. Not part of the public API.
#pragma once

#include <string>
#include <string_view>

#include "base/bytes.h"
#include "consensus/types.h"

namespace imi::consensus::wire {

class Writer {
 public:
  void u8(uint8_t v) { out_.push_back(v); }
  void u16(uint16_t v) {
    u8(static_cast<uint8_t>(v >> 8));
    u8(static_cast<uint8_t>(v));
  }
  void u32(uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) u8(static_cast<uint8_t>(v >> s));
  }
  void u64(uint64_t v) {
    for (int s = 56; s >= 0; s -= 8) u8(static_cast<uint8_t>(v >> s));
  }
  template <size_t N>
  void fixed(const std::array<uint8_t, N>& a) {
    out_.insert(out_.end(), a.begin(), a.end());
  }
  void did(std::string_view id) {
    u8(static_cast<uint8_t>(id.size()));
    out_.insert(out_.end(), id.begin(), id.end());
  }
  void blob(ByteView b) {
    u32(static_cast<uint32_t>(b.size()));
    out_.insert(out_.end(), b.begin(), b.end());
  }
  Bytes take() { return std::move(out_); }

 private:
  Bytes out_;
};

// Every read checks bounds; the first failure sticks and names the field.
class Reader {
 public:
  explicit Reader(ByteView in) : in_(in) {}
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  void fail(std::string what) {
    if (error_.empty()) error_ = std::move(what);
  }
  bool at_end() const { return pos_ == in_.size(); }

  uint8_t u8(const char* field) {
    if (!need(1, field)) return 0;
    return in_[pos_++];
  }
  uint16_t u16(const char* field) {
    if (!need(2, field)) return 0;
    uint16_t v = static_cast<uint16_t>(in_[pos_] << 8 | in_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  uint32_t u32(const char* field) {
    if (!need(4, field)) return 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = v << 8 | in_[pos_++];
    return v;
  }
  uint64_t u64(const char* field) {
    if (!need(8, field)) return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = v << 8 | in_[pos_++];
    return v;
  }
  // A height (>= 1) or view (>= 0), at most 2^53-1.
  uint64_t height(const char* field) {
    uint64_t v = u64(field);
    if (ok() && (v == 0 || v > kMaxSafeInteger)) fail(std::string(field) + " out of range");
    return v;
  }
  uint64_t view(const char* field) {
    uint64_t v = u64(field);
    if (ok() && v > kMaxSafeInteger) fail(std::string(field) + " out of range");
    return v;
  }
  template <size_t N>
  std::array<uint8_t, N> fixed(const char* field) {
    std::array<uint8_t, N> a{};
    if (!need(N, field)) return a;
    for (size_t i = 0; i < N; ++i) a[i] = in_[pos_ + i];
    pos_ += N;
    return a;
  }
  std::string did(const char* field) {
    uint8_t len = u8(field);
    if (!need(len, field)) return {};
    std::string s(reinterpret_cast<const char*>(in_.data() + pos_), len);
    pos_ += len;
    if (!is_valid_validator_id(s)) fail(std::string(field) + " is not a did:imi");
    return s;
  }
  Bytes blob(const char* field, size_t max) {
    uint32_t len = u32(field);
    if (ok() && len > max) fail(std::string(field) + " exceeds its size limit");
    if (!need(len, field)) return {};
    Bytes b(in_.begin() + static_cast<std::ptrdiff_t>(pos_),
            in_.begin() + static_cast<std::ptrdiff_t>(pos_ + len));
    pos_ += len;
    return b;
  }
  size_t count(const char* field, size_t max) {
    uint16_t n = u16(field);
    if (ok() && n > max) fail(std::string(field) + " has too many entries");
    return ok() ? n : 0;
  }

 private:
  bool need(size_t n, const char* field) {
    if (!ok()) return false;
    if (in_.size() - pos_ < n) {
      fail(std::string(field) + " truncated");
      return false;
    }
    return true;
  }
  ByteView in_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace imi::consensus::wire

namespace imi::consensus {
struct PreparedCert;
}
namespace imi::consensus::wire {
// Shared by messages and the durable state encoding (codec.cc).
void put_prepared(Writer& w, const PreparedCert& pc);
PreparedCert get_prepared(Reader& r, const Limits& limits);
}  // namespace imi::consensus::wire

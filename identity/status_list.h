// IETF Token Status List (draft-ietf-oauth-status-list) with two bits per
// entry: 0 valid, 1 invalid (revoked), 2 suspended; 3 is reserved by the
// draft for application use and refused here.
//
// Entry i lives in byte i/4 at bit offset 2*(i%4), least significant bits
// first. The wire form is the Status List object
//   {"bits":2,"lst": base64url(zlib DEFLATE (RFC 1950) of the bytes)}
// Decoding never inflates beyond the size the caller allows, so a small
// compressed input cannot exhaust memory. A StatusList is a value type; not
// thread-safe for concurrent mutation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"

namespace imi::identity {

enum class CredentialStatus : uint8_t { kValid = 0, kInvalid = 1, kSuspended = 2 };

// "valid", "invalid", "suspended".
std::string_view status_name(CredentialStatus s);

constexpr uint8_t kStatusListBits = 2;
// Largest list this code builds or decodes (entries): 2^20, 256 KiB raw.
constexpr uint64_t kStatusListEntriesMax = uint64_t{1} << 20;

class StatusList {
 public:
  // A list of `entries` entries, all valid. `entries` is rounded up to a
  // multiple of 4 (whole bytes). status_list.too_large above the maximum.
  static Result<StatusList> make(uint64_t entries);

  // Decodes base64url(zlib(bytes)) as found in "lst". Errors:
  //   status_list.bad_encoding  not strict base64url
  //   status_list.bad_zlib      not a complete zlib stream, or trailing bytes
  //   status_list.too_large     inflates beyond max_entries (or the ceiling)
  //   status_list.bad_value     an entry holds the reserved value 3
  static Result<StatusList> decode(std::string_view lst,
                                   uint64_t max_entries = kStatusListEntriesMax);

  // A list over raw bytes (entry i in byte i/4 as above), as stored on
  // chain. status_list.too_large if empty or beyond the maximum,
  // status_list.bad_value if an entry holds 3.
  static Result<StatusList> from_bytes(Bytes bytes);

  // base64url(zlib(bytes)) at zlib's default level: the "lst" value.
  // Compressed bytes depend on the zlib version, so they are for serving a
  // token, never for consensus state (which keeps the raw bytes).
  std::string encode() const;
  // {"bits":2,"lst":"..."} as compact JSON.
  std::string to_json() const;

  uint64_t size() const { return bytes_.size() * 4; }
  // status_list.out_of_range if idx >= size().
  Result<CredentialStatus> get(uint64_t idx) const;
  Status set(uint64_t idx, CredentialStatus s);
  const Bytes& bytes() const { return bytes_; }

 private:
  explicit StatusList(Bytes bytes) : bytes_(std::move(bytes)) {}
  Bytes bytes_;
};

}  // namespace imi::identity

#include "identity/status_list.h"

#include <zlib.h>

#include <algorithm>
#include <cstdlib>

#include "identity/base64url.h"

namespace imi::identity {

std::string_view status_name(CredentialStatus s) {
  switch (s) {
    case CredentialStatus::kValid:
      return "valid";
    case CredentialStatus::kInvalid:
      return "invalid";
    case CredentialStatus::kSuspended:
      return "suspended";
  }
  return "unknown";
}

Result<StatusList> StatusList::make(uint64_t entries) {
  if (entries == 0 || entries > kStatusListEntriesMax) {
    return Status::error("status_list.too_large",
                         "a status list holds 1.." + std::to_string(kStatusListEntriesMax) +
                             " entries; asked for " + std::to_string(entries));
  }
  return StatusList(Bytes((entries + 3) / 4, 0));
}

Result<StatusList> StatusList::decode(std::string_view lst, uint64_t max_entries) {
  auto compressed = base64url_decode(lst);
  if (!compressed) {
    return Status::error("status_list.bad_encoding", "lst must be unpadded base64url");
  }
  const uint64_t cap = std::min(max_entries, kStatusListEntriesMax) / 4;
  Bytes out(static_cast<size_t>(cap) + 1);  // one spare byte detects overflow
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) {
    return Status::error("status_list.bad_zlib", "cannot initialise zlib");
  }
  zs.next_in = compressed->data();
  zs.avail_in = static_cast<uInt>(compressed->size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = inflate(&zs, Z_FINISH);
  const size_t produced = out.size() - zs.avail_out;
  const bool trailing = zs.avail_in != 0;
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    if (produced > cap || (rc == Z_BUF_ERROR && zs.avail_out == 0)) {
      return Status::error("status_list.too_large",
                           "status list inflates beyond " + std::to_string(cap * 4) + " entries");
    }
    return Status::error("status_list.bad_zlib", "lst is not a complete zlib stream");
  }
  if (trailing) return Status::error("status_list.bad_zlib", "bytes after the zlib stream");
  if (produced > cap) {
    return Status::error("status_list.too_large",
                         "status list inflates beyond " + std::to_string(cap * 4) + " entries");
  }
  if (produced == 0) return Status::error("status_list.bad_zlib", "empty status list");
  out.resize(produced);
  return from_bytes(std::move(out));
}

Result<StatusList> StatusList::from_bytes(Bytes bytes) {
  if (bytes.empty() || bytes.size() > kStatusListEntriesMax / 4) {
    return Status::error("status_list.too_large",
                         "a status list holds 4.." + std::to_string(kStatusListEntriesMax) +
                             " entries; got " + std::to_string(bytes.size() * 4));
  }
  for (uint8_t b : bytes) {
    for (int k = 0; k < 4; ++k) {
      if (((b >> (2 * k)) & 3) == 3) {
        return Status::error("status_list.bad_value", "an entry holds the reserved value 3");
      }
    }
  }
  return StatusList(std::move(bytes));
}

std::string StatusList::encode() const {
  uLongf len = compressBound(static_cast<uLong>(bytes_.size()));
  Bytes buf(len);
  // compress2 fails only on memory exhaustion or a buffer too small, and
  // compressBound rules out the latter.
  int rc = compress2(buf.data(), &len, bytes_.data(), static_cast<uLong>(bytes_.size()),
                     Z_DEFAULT_COMPRESSION);
  if (rc != Z_OK) std::abort();
  buf.resize(len);
  return base64url_encode(buf);
}

std::string StatusList::to_json() const { return R"({"bits":2,"lst":")" + encode() + "\"}"; }

Result<CredentialStatus> StatusList::get(uint64_t idx) const {
  if (idx >= size()) {
    return Status::error("status_list.out_of_range", "index " + std::to_string(idx) +
                                                         " is beyond the list's " +
                                                         std::to_string(size()) + " entries");
  }
  return static_cast<CredentialStatus>((bytes_[idx / 4] >> (2 * (idx % 4))) & 3);
}

Status StatusList::set(uint64_t idx, CredentialStatus s) {
  if (idx >= size()) {
    return Status::error("status_list.out_of_range", "index " + std::to_string(idx) +
                                                         " is beyond the list's " +
                                                         std::to_string(size()) + " entries");
  }
  const int shift = static_cast<int>(2 * (idx % 4));
  uint8_t& b = bytes_[idx / 4];
  b = static_cast<uint8_t>((b & ~(3 << shift)) | (static_cast<uint8_t>(s) << shift));
  return Status::ok();
}

}  // namespace imi::identity

// A small record kept durable across crashes: the consensus engine's
// DurableState (consensus/durable.h), written before any message leaves the
// node.
//
// Two files, `<base>.a` and `<base>.b`, are written alternately, each record
// fdatasync'ed: header "IMIDUR01" | u64 sequence | u32 length |
// SHA-256(payload) (52 bytes) | payload. A crash while writing one leaves the
// other intact; load() returns the valid record with the highest sequence.
// A record overwrites the start of its file in place (the file only grows, in
// powers of two from 4 KiB), so bytes after it are left from an earlier,
// longer record and are not part of it.
// Each file is opened at its first store() and kept open, so a record costs
// a pwrite and an fdatasync (the loop stores one before every vote it sends).
// Not thread-safe: one owner (the consensus loop).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/bytes.h"
#include "base/status.h"

namespace imi::node {

class DurableFile {
 public:
  explicit DurableFile(std::string base_path) : base_(std::move(base_path)) {}
  ~DurableFile();
  DurableFile(const DurableFile&) = delete;
  DurableFile& operator=(const DurableFile&) = delete;

  // The newest valid record, nullopt if neither file holds one (first start).
  // Errors: durable.io (a file exists but cannot be read).
  Result<std::optional<Bytes>> load();

  // Writes `payload` as the newest record and syncs it. Errors: durable.io,
  // durable.too_large (over kPayloadBytesMax: refused here rather than
  // written as a record that load() would not take back).
  Status store(ByteView payload);

  // The largest record payload; a longer length on load is a corrupt record.
  static constexpr size_t kPayloadBytesMax = 256u << 20;

 private:
  // Opens file `i` (0: .a, 1: .b) for writing unless it is open, learning
  // its size; a file it creates has its directory entry synced.
  Status open_for_write(int i);
  void close_file(int i);

  std::string base_;
  uint64_t seq_ = 0;       // sequence of the newest record
  bool next_is_a_ = true;  // which file the next store() overwrites
  int fd_[2] = {-1, -1};   // open for writing, -1 until the first store()
  uint64_t size_[2] = {0, 0};
};

}  // namespace imi::node

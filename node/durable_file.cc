#include "node/durable_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "base/sha256.h"

namespace imi::node {
namespace {

constexpr char kMagic[8] = {'I', 'M', 'I', 'D', 'U', 'R', '0', '1'};
constexpr size_t kHeaderBytes = 8 + 8 + 4 + 32;

void put_be(uint8_t* p, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    p[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
}
uint64_t get_be(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  return v;
}

Status io_error(const std::string& what, const std::string& path) {
  return Status::error("durable.io", what + " " + path + ": " + std::strerror(errno) +
                                         "; check the data directory's permissions and space");
}

struct Record {
  uint64_t seq = 0;
  Bytes payload;
};

// The record in `path`, nullopt if the file is missing, short or corrupt.
Result<std::optional<Record>> read_record(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<Record>();
    return io_error("cannot open", path);
  }
  Bytes data;
  uint8_t buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return io_error("cannot read", path);
    }
    if (n == 0) break;
    data.insert(data.end(), buf, buf + n);
    if (data.size() > kHeaderBytes + DurableFile::kPayloadBytesMax) break;
  }
  ::close(fd);
  if (data.size() < kHeaderBytes || std::memcmp(data.data(), kMagic, 8) != 0)
    return std::optional<Record>();
  const uint64_t seq = get_be(data.data() + 8, 8);
  const uint64_t len = get_be(data.data() + 16, 4);
  if (len > DurableFile::kPayloadBytesMax || data.size() != kHeaderBytes + len)
    return std::optional<Record>();
  ByteView payload(data.data() + kHeaderBytes, len);
  Hash32 digest = sha256(payload);
  if (std::memcmp(digest.data(), data.data() + 20, 32) != 0) return std::optional<Record>();
  return std::optional<Record>(Record{seq, Bytes(payload.begin(), payload.end())});
}

}  // namespace

Result<std::optional<Bytes>> DurableFile::load() {
  auto a = read_record(base_ + ".a");
  if (!a) return a.status();
  auto b = read_record(base_ + ".b");
  if (!b) return b.status();
  std::optional<Record> best;
  bool best_is_a = false;
  if (*a) {
    best = std::move(**a);
    best_is_a = true;
  }
  if (*b && (!best || (*b)->seq > best->seq)) {
    best = std::move(**b);
    best_is_a = false;
  }
  if (!best) return std::optional<Bytes>();
  seq_ = best->seq;
  next_is_a_ = !best_is_a;  // never overwrite the newest record
  return std::optional<Bytes>(std::move(best->payload));
}

Status DurableFile::store(ByteView payload) {
  const std::string path = base_ + (next_is_a_ ? ".a" : ".b");
  Bytes data(kHeaderBytes + payload.size());
  std::memcpy(data.data(), kMagic, 8);
  put_be(data.data() + 8, seq_ + 1, 8);
  put_be(data.data() + 16, payload.size(), 4);
  Hash32 digest = sha256(payload);
  std::memcpy(data.data() + 20, digest.data(), 32);
  if (!payload.empty()) std::memcpy(data.data() + kHeaderBytes, payload.data(), payload.size());

  bool created = !std::filesystem::exists(path);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("cannot open", path);
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return io_error("cannot write", path);
    }
    off += static_cast<size_t>(n);
  }
  if (::fdatasync(fd) != 0) {
    ::close(fd);
    return io_error("cannot sync", path);
  }
  ::close(fd);
  if (created) {
    // Make the new directory entry durable too.
    std::string dir = std::filesystem::path(path).parent_path().string();
    int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
  }
  ++seq_;
  next_is_a_ = !next_is_a_;
  return Status::ok();
}

}  // namespace imi::node

#include "node/evidence_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/bytes.h"

namespace imi::node {

std::string evidence_json(const consensus::Evidence& e) {
  // Keys in JCS order; the DID is [a-z0-9:] only, so it needs no escaping.
  return std::string("{\"first\":\"") + to_hex(e.first) +
         "\",\"height\":" + std::to_string(e.height) + ",\"kind\":\"" +
         (e.kind == consensus::Evidence::Kind::kConflictingProposal ? "conflicting_proposal"
                                                                    : "conflicting_vote") +
         "\",\"second\":\"" + to_hex(e.second) + "\",\"validator\":\"" + e.validator +
         "\",\"view\":" + std::to_string(e.view) + "}";
}

Status append_evidence(const std::string& path, const consensus::Evidence& e) {
  const std::string line = evidence_json(e) + "\n";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Status::error("node.io", "cannot open " + path + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string why = std::strerror(errno);
      ::close(fd);
      return Status::error("node.io", "cannot write " + path + ": " + why);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    std::string why = std::strerror(errno);
    ::close(fd);
    return Status::error("node.io", "cannot sync " + path + ": " + why);
  }
  ::close(fd);
  return Status::ok();
}

}  // namespace imi::node

// A directory under the system temp dir for one test's store, removed when
// the test ends. Names carry the process id and a counter, so tests running
// in parallel never share one.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

namespace imi::test {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "imi-ledger-test") {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            (prefix + "-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace imi::test

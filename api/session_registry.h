// The server's list of open connections, so that stopping it can close them
// all: HTTP sessions and the event streams they turn into. Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

namespace imi::api {

// A connection the server can close from any thread.
class Closable {
 public:
  virtual ~Closable() = default;
  virtual void close() = 0;
};

class SessionRegistry {
 public:
  // Remembers `session`; false once close_all() ran (the caller closes it).
  bool add(std::weak_ptr<Closable> session) {
    std::lock_guard lock(mu_);
    if (stopped_) return false;
    // Forget sessions that are gone, so the list stays as small as the
    // number of open connections.
    if (sessions_.size() >= 2 * pruned_at_ + 64) {
      std::erase_if(sessions_, [](const auto& w) { return w.expired(); });
      pruned_at_ = sessions_.size();
    }
    sessions_.push_back(std::move(session));
    return true;
  }

  // Closes every session still open; later add() calls answer false.
  void close_all() {
    std::vector<std::weak_ptr<Closable>> sessions;
    {
      std::lock_guard lock(mu_);
      stopped_ = true;
      sessions.swap(sessions_);
    }
    for (auto& weak : sessions) {
      if (auto session = weak.lock()) session->close();
    }
  }

 private:
  std::mutex mu_;
  bool stopped_ = false;                           // guarded by mu_
  std::vector<std::weak_ptr<Closable>> sessions_;  // guarded by mu_
  size_t pruned_at_ = 0;                           // guarded by mu_
};

}  // namespace imi::api

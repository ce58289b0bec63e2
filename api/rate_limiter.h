// Per-client token buckets for the HTTP API's rate limit. Time is passed in,
// so tests drive it without sleeping. Thread-safe (one mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace imi::api {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // requests_per_second == 0 disables the limit: every request is admitted.
  RateLimiter(double requests_per_second, double burst, size_t clients_max);

  struct Decision {
    bool allowed = true;
    // When refused: whole seconds until one token is back (≥ 1), for the
    // Retry-After header.
    uint32_t retry_after_s = 0;
  };

  // Takes one token from `client`'s bucket (a new client starts full).
  Decision admit(std::string_view client, Clock::time_point now);

  size_t clients() const;

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  void evict_one(Clock::time_point now);  // requires mu_ held

  // Constant after construction.
  const double rate_;
  const double burst_;
  const size_t clients_max_;

  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // guarded by mu_
};

}  // namespace imi::api

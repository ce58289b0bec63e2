#include "api/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace imi::api {

RateLimiter::RateLimiter(double requests_per_second, double burst, size_t clients_max)
    : rate_(std::max(0.0, requests_per_second)),
      burst_(std::max(1.0, burst)),
      clients_max_(std::max<size_t>(1, clients_max)) {}

RateLimiter::Decision RateLimiter::admit(std::string_view client, Clock::time_point now) {
  if (rate_ == 0) return {};
  std::lock_guard lock(mu_);
  auto it = buckets_.find(std::string(client));
  if (it == buckets_.end()) {
    if (buckets_.size() >= clients_max_) evict_one(now);
    it = buckets_.emplace(std::string(client), Bucket{burst_, now}).first;
  }
  Bucket& b = it->second;
  if (now > b.updated) {
    const double elapsed_s = std::chrono::duration<double>(now - b.updated).count();
    b.tokens = std::min(burst_, b.tokens + elapsed_s * rate_);
    b.updated = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return {};
  }
  const double wait_s = (1.0 - b.tokens) / rate_;
  return {false, static_cast<uint32_t>(std::max(1.0, std::ceil(wait_s)))};
}

void RateLimiter::evict_one(Clock::time_point now) {
  // A bucket that has refilled completely is the same as no bucket, so drop
  // one of those if there is one; else the least recently seen client.
  auto oldest = buckets_.begin();
  for (auto it = buckets_.begin(); it != buckets_.end(); ++it) {
    const double elapsed_s = std::chrono::duration<double>(now - it->second.updated).count();
    if (it->second.tokens + elapsed_s * rate_ >= burst_) {
      buckets_.erase(it);
      return;
    }
    if (it->second.updated < oldest->second.updated) oldest = it;
  }
  if (oldest != buckets_.end()) buckets_.erase(oldest);
}

size_t RateLimiter::clients() const {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

}  // namespace imi::api

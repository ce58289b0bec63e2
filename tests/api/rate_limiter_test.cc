#include "api/rate_limiter.h"

#include <doctest/doctest.h>

using namespace imi::api;
using std::chrono::milliseconds;

TEST_CASE("a client gets its burst, then one request per refilled token") {
  RateLimiter limiter(/*requests_per_second=*/2, /*burst=*/3, /*clients_max=*/10);
  const auto t0 = RateLimiter::Clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < 3; ++i) CHECK(limiter.admit("10.0.0.1", t0).allowed);
  auto refused = limiter.admit("10.0.0.1", t0);
  CHECK(!refused.allowed);
  CHECK(refused.retry_after_s == 1);
  CHECK(limiter.admit("10.0.0.2", t0).allowed);  // per client
  CHECK(!limiter.admit("10.0.0.1", t0 + milliseconds(400)).allowed);
  CHECK(limiter.admit("10.0.0.1", t0 + milliseconds(500)).allowed);
  // A long pause refills only up to the burst.
  const auto later = t0 + std::chrono::hours(1);
  for (int i = 0; i < 3; ++i) CHECK(limiter.admit("10.0.0.1", later).allowed);
  CHECK(!limiter.admit("10.0.0.1", later).allowed);
}

TEST_CASE("Retry-After rounds up to whole seconds") {
  RateLimiter limiter(0.1, 1, 10);
  const auto t0 = RateLimiter::Clock::time_point{} + std::chrono::hours(1);
  CHECK(limiter.admit("c", t0).allowed);
  CHECK(limiter.admit("c", t0).retry_after_s == 10);
}

TEST_CASE("the client table stays within clients_max") {
  RateLimiter limiter(1, 1, 3);
  const auto t0 = RateLimiter::Clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < 10; ++i) limiter.admit("c" + std::to_string(i), t0 + milliseconds(i));
  CHECK(limiter.clients() == 3);
}

TEST_CASE("zero requests_per_second disables the limit") {
  RateLimiter limiter(0, 1, 1);
  const auto t0 = RateLimiter::Clock::now();
  for (int i = 0; i < 100; ++i) CHECK(limiter.admit("c", t0).allowed);
  CHECK(limiter.clients() == 0);
}

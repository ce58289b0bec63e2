// The HTTP server's own metrics, appended to the node's on GET /metrics:
// requests by route and status, problems answered by type, a latency
// histogram, open connections and event streams. Thread-safe (one mutex).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace imi::api {

class ServerMetrics {
 public:
  // Upper bounds of the latency histogram buckets, in seconds (+Inf implied).
  static constexpr std::array<double, 12> kLatencyBucketsS = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5};

  // One answered request. `route` is a route label ("get_block") or
  // "unmatched"; `latency_s` runs from the request's last byte to the
  // response handed to the socket.
  void record_request(std::string_view route, int http_status, double latency_s);
  // One problem answered (or connection refused), by problem slug.
  void record_rejected(std::string_view reason);
  void connection_opened();
  void connection_closed();
  // GET /v1/events: a stream opened or closed, one block message sent.
  void event_stream_opened();
  void event_stream_closed();
  void event_sent();

  // Prometheus text exposition format (version 0.0.4).
  std::string render() const;

 private:
  mutable std::mutex mu_;
  // All guarded by mu_.
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, uint64_t> rejected_;
  std::array<uint64_t, kLatencyBucketsS.size() + 1> latency_counts_{};  // last: +Inf
  double latency_sum_s_ = 0;
  uint64_t latency_count_ = 0;
  int64_t connections_open_ = 0;
  uint64_t connections_total_ = 0;
  int64_t event_streams_open_ = 0;
  uint64_t events_sent_ = 0;
};

}  // namespace imi::api

#include "api/server_metrics.h"

#include <cstdio>

namespace imi::api {
namespace {

std::string format_double(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

void ServerMetrics::record_request(std::string_view route, int http_status, double latency_s) {
  std::lock_guard lock(mu_);
  ++requests_[{std::string(route), http_status}];
  size_t i = 0;
  while (i < kLatencyBucketsS.size() && latency_s > kLatencyBucketsS[i]) ++i;
  ++latency_counts_[i];
  latency_sum_s_ += latency_s;
  ++latency_count_;
}

void ServerMetrics::record_rejected(std::string_view reason) {
  std::lock_guard lock(mu_);
  ++rejected_[std::string(reason)];
}

void ServerMetrics::connection_opened() {
  std::lock_guard lock(mu_);
  ++connections_open_;
  ++connections_total_;
}

void ServerMetrics::connection_closed() {
  std::lock_guard lock(mu_);
  --connections_open_;
}

void ServerMetrics::event_stream_opened() {
  std::lock_guard lock(mu_);
  ++event_streams_open_;
}

void ServerMetrics::event_stream_closed() {
  std::lock_guard lock(mu_);
  --event_streams_open_;
}

void ServerMetrics::event_sent() {
  std::lock_guard lock(mu_);
  ++events_sent_;
}

std::string ServerMetrics::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  out += "# HELP imi_api_requests_total HTTP requests answered, by route and status.\n";
  out += "# TYPE imi_api_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    out += "imi_api_requests_total{route=\"" + key.first + "\",status=\"" +
           std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP imi_api_rejected_total Problems answered, by problem type.\n";
  out += "# TYPE imi_api_rejected_total counter\n";
  for (const auto& [reason, n] : rejected_) {
    out += "imi_api_rejected_total{reason=\"" + reason + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP imi_api_request_duration_seconds Time from request read to response written.\n";
  out += "# TYPE imi_api_request_duration_seconds histogram\n";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < latency_counts_.size(); ++i) {
    cumulative += latency_counts_[i];
    const std::string le =
        i < kLatencyBucketsS.size() ? format_double(kLatencyBucketsS[i]) : "+Inf";
    out += "imi_api_request_duration_seconds_bucket{le=\"" + le + "\"} " +
           std::to_string(cumulative) + "\n";
  }
  out += "imi_api_request_duration_seconds_sum " + format_double(latency_sum_s_) + "\n";
  out += "imi_api_request_duration_seconds_count " + std::to_string(latency_count_) + "\n";
  out += "# HELP imi_api_connections_open Open HTTP connections.\n";
  out += "# TYPE imi_api_connections_open gauge\n";
  out += "imi_api_connections_open " + std::to_string(connections_open_) + "\n";
  out += "# HELP imi_api_connections_total HTTP connections accepted.\n";
  out += "# TYPE imi_api_connections_total counter\n";
  out += "imi_api_connections_total " + std::to_string(connections_total_) + "\n";
  out += "# HELP imi_api_event_streams_open Open GET /v1/events WebSocket streams.\n";
  out += "# TYPE imi_api_event_streams_open gauge\n";
  out += "imi_api_event_streams_open " + std::to_string(event_streams_open_) + "\n";
  out += "# HELP imi_api_events_sent_total Block messages sent on event streams.\n";
  out += "# TYPE imi_api_events_sent_total counter\n";
  out += "imi_api_events_sent_total " + std::to_string(events_sent_) + "\n";
  return out;
}

}  // namespace imi::api

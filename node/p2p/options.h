// Limits, timeouts, logging and counters of the P2P transport (transport.h).
// All limits are plain values with their units in their names (STYLE.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "identity/keys.h"

namespace imi::p2p {

using identity::PublicKey;

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2 };

// Receives one line without a trailing newline. Runs on the io_context thread.
using LogFn = std::function<void(LogLevel, const std::string&)>;

struct Options {
  // Where to accept connections. Port 0 picks a free port (see
  // Transport::listen_port()); an empty host disables listening (dial only).
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 0;

  // Largest frame payload accepted or sent, in bytes. A peer announcing a
  // larger frame is disconnected; send() refuses a larger frame.
  size_t frame_bytes_max = 16 * 1024 * 1024;
  // Per-peer send queue limits: payload bytes and frames waiting to be written
  // (including the batch being written). When either is reached, new frames
  // to that peer are dropped and counted.
  size_t queue_bytes_max = 64 * 1024 * 1024;
  size_t queue_messages_max = 10000;

  // A connection that has not finished the handshake in this time is closed.
  uint32_t handshake_timeout_ms = 5000;
  // Inbound connections still in their handshake; more are closed at once.
  size_t handshakes_pending_max = 64;

  // Dial back-off: the first retry waits about reconnect_min_ms, each failed
  // attempt doubles the wait up to reconnect_max_ms; every wait is drawn
  // uniformly from [wait/2, wait] (libsodium randombytes) so peers that lost
  // each other at once do not redial in lock-step.
  uint32_t reconnect_min_ms = 100;
  uint32_t reconnect_max_ms = 10000;

  // An idle connection sends a keepalive frame this often...
  uint32_t keepalive_interval_ms = 2000;
  // ...and is closed when nothing arrived for this long, or when one write
  // has been pending this long (a peer that stopped reading).
  uint32_t idle_timeout_ms = 15000;

  // Lines below this level are not logged. Without `log`, lines go to
  // std::clog as "p2p <level>: <message>".
  LogLevel log_level_min = LogLevel::kInfo;
  LogFn log;
};

struct PeerStats {
  PublicKey key{};
  bool outbound = false;            // we dialed the live connection
  size_t queue_bytes = 0;           // payload bytes waiting or being written
  size_t queue_messages = 0;        // frames waiting or being written
  uint64_t frames_sent = 0;         // written to the socket, this connection
  uint64_t frames_received = 0;     // data frames delivered, this connection
  uint64_t dropped_queue_full = 0;  // frames refused by send(), all connections
};

// Counters since construction (frames and bytes count data payloads only,
// not keepalives or the handshake).
struct Stats {
  size_t peers_connected = 0;
  size_t handshakes_pending = 0;
  uint64_t frames_sent = 0;
  uint64_t frames_received = 0;
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
  uint64_t dropped_queue_full = 0;     // peer's queue was at a limit
  uint64_t dropped_not_connected = 0;  // no authenticated connection to the peer
  uint64_t dropped_too_large = 0;      // payload over frame_bytes_max
  uint64_t handshakes_completed = 0;
  uint64_t handshakes_refused = 0;  // refused or failed before authentication
  uint64_t connections_closed = 0;  // authenticated connections that ended
  std::vector<PeerStats> peers;     // one per connected peer, sorted by key
};

}  // namespace imi::p2p

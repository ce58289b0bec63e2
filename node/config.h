// The node's configuration file (`imid.conf` in the home directory).
//
// Format: a small INI/TOML-like text, parsed here with errors that name the
// line. `# comment` lines, `[section]` headers, `key = value` lines; values are
// the rest of the line with surrounding spaces trimmed (no quoting; a list is
// comma-separated). Every key has a default, so a file may name only what it
// changes; an unknown section or key is an error (a typo never goes unseen).
// `imid init` writes every key with its default and a comment
// (write_default_config), so the file documents itself.
//
// Relative paths in the file are relative to the home directory.
//
// Error codes: config.io (cannot read or write the file), config.syntax (a
// line that is not a comment, a section or key = value), config.unknown_key
// (section or key not listed below), config.bad_value (a value out of range
// or of the wrong kind; the message names the line and the accepted range),
// config.duplicate_key (one key twice in a section).
// Plain values; thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "api/server_options.h"
#include "base/status.h"
#include "node/mempool.h"

namespace imi::node {

// A peer to dial: its Ed25519 public key (64 lowercase hex) and address.
struct PeerAddress {
  std::string key_hex;
  std::string host;
  uint16_t port = 0;
  bool operator==(const PeerAddress&) const = default;
};

struct NodeConfig {
  // [chain]
  std::string genesis_file = "genesis.json";
  // [validator]
  std::string keystore_file = "validator.key";
  std::string password_file;  // empty: the password comes from IMI_KEY_PASSWORD
  // [storage]
  std::string data_dir = "data";
  uint64_t state_cache_mib = 64;  // node cache of the state tree that executes blocks
  // [api]
  api::ServerOptions api;  // listen_host/listen_port default to 127.0.0.1:8080 (see defaults())
  // [mempool]
  MempoolOptions mempool;
  // [consensus]
  uint64_t tick_ms = 10;            // period of the engine's logical tick
  uint64_t view_timeout_ms = 2000;  // first view-change timeout
  uint64_t view_timeout_max_ms = 60000;
  uint64_t checkpoint_interval = 100;
  size_t block_txs_max = 4000;    // batch limit of one block (<= genesis block_txs_max)
  uint64_t slow_block_ms = 1000;  // log a block's phases when it takes longer (0: never)
  // [node]
  size_t verify_threads = 1;  // signature-check worker threads
  size_t api_threads = 1;     // HTTP server threads
  bool observer = false;      // role = observer: follow and verify the chain, never vote
  // [p2p]
  bool p2p_listen_enabled = true;  // listen = "" disables listening (dial only)
  std::string p2p_listen_host = "127.0.0.1";
  uint16_t p2p_listen_port = 26656;
  std::vector<PeerAddress> peers;          // peers to dial (validators, observers)
  std::vector<std::string> observer_keys;  // hex keys of observers admitted besides validators
  size_t sync_blocks_per_request = 64;     // block sync: blocks asked of one peer at once

  // The defaults as `imid init` writes them.
  static NodeConfig defaults();
};

inline constexpr std::string_view kConfigFileName = "imid.conf";
inline constexpr size_t kConfigFileBytesMax = 256 * 1024;

// Parses config text (see the format above), starting from defaults().
Result<NodeConfig> parse_config(std::string_view text);
// Reads and parses the file at `path`.
Result<NodeConfig> load_config(const std::string& path);
// The text of a config file holding `config`, every key with a comment.
std::string render_config(const NodeConfig& config);

// "HOST:PORT" -> host, port (IPv4 dotted or a bracketed IPv6 address).
// Error config.bad_value.
Status parse_host_port(std::string_view text, std::string& host, uint16_t& port);

}  // namespace imi::node

#include "node/config.h"

#include <charconv>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "base/bytes.h"

namespace imi::node {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Parses a decimal integer in [lo, hi]; an empty string on success, else why not.
std::string parse_uint(std::string_view v, uint64_t lo, uint64_t hi, uint64_t& out) {
  uint64_t x = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size())
    return "expected a whole number in " + std::to_string(lo) + ".." + std::to_string(hi);
  if (x < lo || x > hi) return "must be in " + std::to_string(lo) + ".." + std::to_string(hi);
  out = x;
  return {};
}

struct Key {
  std::string_view section;
  std::string_view name;
  std::string_view comment;
  std::function<std::string(const NodeConfig&)> get;
  // Empty string on success, else what is wrong with the value.
  std::function<std::string(NodeConfig&, std::string_view)> set;
};

template <typename T>
Key uint_key(std::string_view section, std::string_view name, std::string_view comment,
             T NodeConfig::*field, uint64_t lo, uint64_t hi) {
  return Key{section, name, comment,
             [field](const NodeConfig& c) { return std::to_string(c.*field); },
             [field, lo, hi](NodeConfig& c, std::string_view v) {
               uint64_t x = 0;
               std::string err = parse_uint(v, lo, hi, x);
               if (err.empty()) c.*field = static_cast<T>(x);
               return err;
             }};
}

template <typename S, typename T>
Key sub_uint_key(std::string_view section, std::string_view name, std::string_view comment,
                 S NodeConfig::*sub, T S::*field, uint64_t lo, uint64_t hi) {
  return Key{section, name, comment,
             [sub, field](const NodeConfig& c) { return std::to_string(c.*sub.*field); },
             [sub, field, lo, hi](NodeConfig& c, std::string_view v) {
               uint64_t x = 0;
               std::string err = parse_uint(v, lo, hi, x);
               if (err.empty()) c.*sub.*field = static_cast<T>(x);
               return err;
             }};
}

Key path_key(std::string_view section, std::string_view name, std::string_view comment,
             std::string NodeConfig::*field, bool may_be_empty) {
  return Key{section, name, comment, [field](const NodeConfig& c) { return c.*field; },
             [field, may_be_empty](NodeConfig& c, std::string_view v) -> std::string {
               if (v.empty() && !may_be_empty) return "must not be empty";
               c.*field = std::string(v);
               return {};
             }};
}

const std::vector<Key>& keys() {
  static const std::vector<Key> k = {
      path_key("chain", "genesis_file", "Genesis file of the chain (same on every node).",
               &NodeConfig::genesis_file, false),
      path_key("validator", "keystore_file",
               "Encrypted keystore holding this node's validator key.", &NodeConfig::keystore_file,
               false),
      path_key("validator", "password_file",
               "File whose first line is the keystore password. Empty: the password is\n"
               "# read from the environment variable IMI_KEY_PASSWORD.",
               &NodeConfig::password_file, true),
      path_key("storage", "data_dir",
               "Directory of the ledger database (LevelDB) and the consensus state file.",
               &NodeConfig::data_dir, false),
      uint_key("storage", "state_cache_mib",
               "Memory (MiB) for the state tree nodes of block execution. It fills only as\n"
               "# the state grows; nodes not kept are read from LevelDB. A million keys take\n"
               "# about 400 MiB to keep every node (ledger_bench, 1M keys: a 1,000-tx block's\n"
               "# state update 36 ms with 512, 45-60 ms with 64). The table doubles as it\n"
               "# fills, and the kernel zeroes each new table's pages as they are first used:\n"
               "# a one-time pause per doubling (0.8 s at 512 MiB with 4 nodes on 2 cores).",
               &NodeConfig::state_cache_mib, 1, 1u << 20),
      Key{"api", "listen", "Address of the HTTP API (HOST:PORT; port 0 picks a free one).",
          [](const NodeConfig& c) {
            const std::string& h = c.api.listen_host;
            return (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" +
                   std::to_string(c.api.listen_port);
          },
          [](NodeConfig& c, std::string_view v) -> std::string {
            Status s = parse_host_port(v, c.api.listen_host, c.api.listen_port);
            return s ? std::string() : s.message();
          }},
      sub_uint_key("api", "body_bytes_max", "Largest request body, in bytes (larger: 413).",
                   &NodeConfig::api, &api::ServerOptions::body_bytes_max, 1024, 64u << 20),
      sub_uint_key("api", "header_bytes_max",
                   "Largest request line plus headers, in bytes (larger: 431).", &NodeConfig::api,
                   &api::ServerOptions::header_bytes_max, 1024, 1u << 20),
      sub_uint_key("api", "request_timeout_ms",
                   "Time a client has to send a whole request (slow clients get 408).",
                   &NodeConfig::api, &api::ServerOptions::request_timeout_ms, 100, 600000),
      sub_uint_key("api", "connections_max", "Open connections at once (more: 503).",
                   &NodeConfig::api, &api::ServerOptions::connections_max, 1, 1000000),
      sub_uint_key("api", "connections_per_client_max",
                   "Open connections from one client IP address (more: 503), so that one "
                   "client cannot hold every connection.",
                   &NodeConfig::api, &api::ServerOptions::connections_per_client_max, 1, 1000000),
      sub_uint_key("api", "page_bytes_max",
                   "GET /v1/blocks: a page ends after the block that brings it to this many "
                   "bytes (at least one block), whatever limit asked for.",
                   &NodeConfig::api, &api::ServerOptions::page_bytes_max, 65536, 1u << 30),
      sub_uint_key("api", "events_max",
                   "Open GET /v1/events WebSocket streams at once (more: 503); each also "
                   "holds one of connections_max.",
                   &NodeConfig::api, &api::ServerOptions::events_max, 1, 1000000),
      sub_uint_key("api", "events_idle_timeout_ms",
                   "An event stream pings a quiet client after half this time and closes "
                   "when nothing came back for all of it.",
                   &NodeConfig::api, &api::ServerOptions::events_idle_timeout_ms, 1000, 3600000),
      Key{"api", "requests_per_second",
          "Per-client (IP address) rate limit, requests per second; 0 disables it.",
          [](const NodeConfig& c) {
            return std::to_string(static_cast<uint64_t>(c.api.requests_per_second));
          },
          [](NodeConfig& c, std::string_view v) {
            uint64_t x = 0;
            std::string err = parse_uint(v, 0, 10000000, x);
            if (err.empty()) c.api.requests_per_second = static_cast<double>(x);
            return err;
          }},
      Key{"api", "burst", "Requests a client may send at once above the rate.",
          [](const NodeConfig& c) { return std::to_string(static_cast<uint64_t>(c.api.burst)); },
          [](NodeConfig& c, std::string_view v) {
            uint64_t x = 0;
            std::string err = parse_uint(v, 1, 10000000, x);
            if (err.empty()) c.api.burst = static_cast<double>(x);
            return err;
          }},
      Key{"api", "cors_allowed_origins",
          "Browser origins allowed to call the API, comma-separated (exact match,\n"
          "# e.g. https://wallet.example.gov). Empty: cross-origin requests are denied.",
          [](const NodeConfig& c) {
            std::string out;
            for (const auto& o : c.api.cors_allowed_origins) out += (out.empty() ? "" : ",") + o;
            return out;
          },
          [](NodeConfig& c, std::string_view v) -> std::string {
            c.api.cors_allowed_origins.clear();
            while (!v.empty()) {
              size_t comma = v.find(',');
              std::string_view item = trim(v.substr(0, comma));
              if (item.empty()) return "an origin in the list is empty";
              c.api.cors_allowed_origins.emplace_back(item);
              if (comma == std::string_view::npos) break;
              v.remove_prefix(comma + 1);
            }
            return {};
          }},
      sub_uint_key("api", "wait_commit_timeout_ms",
                   "POST /v1/txs?wait=commit waits at most this long for the commit.",
                   &NodeConfig::api, &api::ServerOptions::wait_commit_timeout_ms, 1, 600000),
      sub_uint_key("mempool", "txs_max", "Transactions pending in total (more: mempool full).",
                   &NodeConfig::mempool, &MempoolOptions::txs_max, 1, 10000000),
      sub_uint_key("mempool", "bytes_max", "Bytes of transactions pending in total.",
                   &NodeConfig::mempool, &MempoolOptions::bytes_max, 1024, 1ull << 34),
      sub_uint_key("mempool", "sender_txs_max",
                   "Transactions pending per sender; a nonce may run this far ahead.",
                   &NodeConfig::mempool, &MempoolOptions::sender_txs_max, 1, 1000000),
      sub_uint_key("mempool", "tx_bytes_max",
                   "Largest transaction admitted, in bytes (can only tighten genesis).",
                   &NodeConfig::mempool, &MempoolOptions::tx_bytes_max, 256, 16u << 20),
      sub_uint_key("mempool", "rejected_kept_max",
                   "Rejected transactions whose reason GET /v1/txs/{id} remembers.",
                   &NodeConfig::mempool, &MempoolOptions::rejected_kept_max, 0, 10000000),
      uint_key("consensus", "tick_ms", "Period of the consensus engine's logical tick.",
               &NodeConfig::tick_ms, 1, 10000),
      uint_key("consensus", "view_timeout_ms", "First view-change timeout.",
               &NodeConfig::view_timeout_ms, 10, 3600000),
      uint_key("consensus", "view_timeout_max_ms", "Cap of the view-change back-off.",
               &NodeConfig::view_timeout_max_ms, 10, 36000000),
      uint_key("consensus", "checkpoint_interval", "Checkpoint every this many heights.",
               &NodeConfig::checkpoint_interval, 1, 1000000),
      uint_key("consensus", "block_txs_max",
               "Batch limit: transactions in one block (at most genesis block_txs_max).",
               &NodeConfig::block_txs_max, 1, 1000000),
      uint_key("consensus", "slow_block_ms",
               "Log a line with its phases (execute, votes, write) for each block that\n"
               "# takes longer than this from proposal to durable commit; 0: never.",
               &NodeConfig::slow_block_ms, 0, 3600000),
      uint_key("node", "verify_threads", "Worker threads that check transaction signatures.",
               &NodeConfig::verify_threads, 1, 64),
      uint_key("node", "api_threads", "Threads serving the HTTP API.", &NodeConfig::api_threads, 1,
               64),
      Key{"node", "role",
          "validator: vote in consensus (the key must be in the validator set).\n"
          "# observer: follow the chain from peers and verify every block; never votes\n"
          "# (for auditors; its key must be listed in the validators' [p2p] observers).",
          [](const NodeConfig& c) { return std::string(c.observer ? "observer" : "validator"); },
          [](NodeConfig& c, std::string_view v) -> std::string {
            if (v != "validator" && v != "observer") return "must be validator or observer";
            c.observer = v == "observer";
            return {};
          }},
      Key{"p2p", "listen", "Address where other validators connect (HOST:PORT). Empty: dial only.",
          [](const NodeConfig& c) -> std::string {
            if (!c.p2p_listen_enabled) return {};
            const std::string& h = c.p2p_listen_host;
            return (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" +
                   std::to_string(c.p2p_listen_port);
          },
          [](NodeConfig& c, std::string_view v) -> std::string {
            c.p2p_listen_enabled = !v.empty();
            if (v.empty()) return {};
            Status s = parse_host_port(v, c.p2p_listen_host, c.p2p_listen_port);
            return s ? std::string() : s.message();
          }},
      Key{"p2p", "peers",
          "Peers to dial, comma-separated KEY@HOST:PORT (KEY: the peer's public key,\n"
          "# 64 hex; `imi key show FILE` prints it). Only validators in force and the\n"
          "# observers below are ever admitted, whatever is listed here.",
          [](const NodeConfig& c) {
            std::string out;
            for (const auto& p : c.peers) {
              const std::string h =
                  p.host.find(':') != std::string::npos ? "[" + p.host + "]" : p.host;
              out += (out.empty() ? "" : ",") + p.key_hex + "@" + h + ":" + std::to_string(p.port);
            }
            return out;
          },
          [](NodeConfig& c, std::string_view v) -> std::string {
            c.peers.clear();
            while (!v.empty()) {
              size_t comma = v.find(',');
              std::string_view item = trim(v.substr(0, comma));
              size_t at = item.find('@');
              if (at != 64 || !is_lower_hex(item.substr(0, 64), 64))
                return "a peer is KEY@HOST:PORT with KEY 64 lowercase hex";
              PeerAddress p;
              p.key_hex = std::string(item.substr(0, 64));
              Status s = parse_host_port(item.substr(65), p.host, p.port);
              if (!s) return s.message();
              c.peers.push_back(std::move(p));
              if (comma == std::string_view::npos) break;
              v.remove_prefix(comma + 1);
            }
            return {};
          }},
      Key{"p2p", "observers",
          "Public keys (64 hex, comma-separated) of observer nodes this node admits\n"
          "# and sends committed blocks to, besides the validators.",
          [](const NodeConfig& c) {
            std::string out;
            for (const auto& k : c.observer_keys) out += (out.empty() ? "" : ",") + k;
            return out;
          },
          [](NodeConfig& c, std::string_view v) -> std::string {
            c.observer_keys.clear();
            while (!v.empty()) {
              size_t comma = v.find(',');
              std::string_view item = trim(v.substr(0, comma));
              if (!is_lower_hex(item, 64)) return "an observer key is 64 lowercase hex";
              c.observer_keys.emplace_back(item);
              if (comma == std::string_view::npos) break;
              v.remove_prefix(comma + 1);
            }
            return {};
          }},
      uint_key("p2p", "sync_blocks_per_request",
               "Block sync: blocks asked of one peer in one request.",
               &NodeConfig::sync_blocks_per_request, 1, 1024),
  };
  return k;
}

Status error_at(std::string code, size_t line, const std::string& what) {
  return Status::error(std::move(code), "line " + std::to_string(line) + ": " + what);
}

}  // namespace

NodeConfig NodeConfig::defaults() {
  NodeConfig c;
  c.api.listen_host = "127.0.0.1";
  c.api.listen_port = 8080;
  return c;
}

Status parse_host_port(std::string_view text, std::string& host, uint16_t& port) {
  auto bad = [&] {
    std::string msg = "\"";
    msg.append(text);
    msg.append("\" is not HOST:PORT (e.g. 127.0.0.1:8080)");
    return Status::error("config.bad_value", std::move(msg));
  };
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return bad();
  std::string_view h = text.substr(0, colon);
  if (h.front() == '[') {
    if (h.size() < 3 || h.back() != ']') return bad();
    h = h.substr(1, h.size() - 2);
  }
  uint64_t p = 0;
  if (!parse_uint(text.substr(colon + 1), 0, 65535, p).empty()) return bad();
  host = std::string(h);
  port = static_cast<uint16_t>(p);
  return Status::ok();
}

Result<NodeConfig> parse_config(std::string_view text) {
  NodeConfig c = NodeConfig::defaults();
  std::string section;
  std::set<std::pair<std::string, std::string>> seen;
  size_t line_no = 0;
  while (!text.empty() || line_no == 0) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') {
      if (text.empty()) break;
      continue;
    }
    if (line.front() == '[') {
      if (line.back() != ']') return error_at("config.syntax", line_no, "expected [section]");
      section = std::string(trim(line.substr(1, line.size() - 2)));
      bool known = false;
      for (const Key& k : keys()) known = known || k.section == section;
      if (!known)
        return error_at("config.unknown_key", line_no, "unknown section [" + section + "]");
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos)
      return error_at("config.syntax", line_no, "expected key = value, a [section] or # comment");
    std::string name(trim(line.substr(0, eq)));
    std::string_view value = trim(line.substr(eq + 1));
    if (section.empty())
      return error_at("config.syntax", line_no, "key \"" + name + "\" before any [section]");
    const Key* key = nullptr;
    for (const Key& k : keys())
      if (k.section == section && k.name == name) key = &k;
    if (key == nullptr)
      return error_at("config.unknown_key", line_no,
                      "unknown key \"" + name + "\" in [" + section + "]");
    if (!seen.emplace(section, name).second)
      return error_at("config.duplicate_key", line_no,
                      "\"" + name + "\" set twice in [" + section + "]");
    std::string err = key->set(c, value);
    if (!err.empty())
      return error_at("config.bad_value", line_no, "[" + section + "] " + name + ": " + err);
    if (text.empty()) break;
  }
  if (c.view_timeout_max_ms < c.view_timeout_ms)
    return Status::error("config.bad_value",
                         "[consensus] view_timeout_max_ms must be >= view_timeout_ms");
  return c;
}

Result<NodeConfig> load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::error(
        "config.io", "cannot read " + path + "; run `imid init --home DIR` to create a node home");
  std::string text;
  text.resize(kConfigFileBytesMax + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kConfigFileBytesMax)
    return Status::error(
        "config.io", path + " is larger than " + std::to_string(kConfigFileBytesMax) + " bytes");
  auto c = parse_config(text);
  if (!c) return Status::error(c.status().code(), path + ": " + c.status().message());
  return c;
}

std::string render_config(const NodeConfig& config) {
  std::ostringstream out;
  out << "# imid configuration. Every key is listed with its value; a key left out\n"
         "# takes its default. Relative paths are relative to the home directory.\n"
         "# Format: [section] headers, `key = value` lines, `#` comments.\n";
  std::string_view section;
  for (const Key& k : keys()) {
    if (k.section != section) {
      section = k.section;
      out << "\n[" << section << "]\n";
    }
    const std::string def = k.get(NodeConfig::defaults());
    out << "# " << k.comment << " Default: " << (def.empty() ? "(empty)" : def) << "\n";
    out << k.name << " = " << k.get(config) << "\n";
  }
  return out.str();
}

}  // namespace imi::node

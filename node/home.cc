#include "node/home.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include <sodium.h>

#include "identity/keystore.h"
#include "ledger/json.h"

namespace imi::node {
namespace fs = std::filesystem;

std::string resolve(const std::string& home, const std::string& path) {
  if (!path.empty() && path.front() == '/') return path;
  return (fs::path(home) / path).string();
}

Result<std::string> read_small_file(const std::string& path, size_t bytes_max) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error("node.io", "cannot read " + path + ": " + std::strerror(errno));
  std::string text(bytes_max + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > bytes_max)
    return Status::error("node.io",
                         path + " is larger than " + std::to_string(bytes_max) + " bytes");
  return text;
}

Status write_file_atomic(const std::string& path, std::string_view contents, unsigned mode) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  auto fail = [&](const char* what) {
    Status s = Status::error(
        "node.io", std::string("cannot ") + what + " " + tmp + ": " + std::strerror(errno));
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  };
  if (fd < 0) return fail("create");
  size_t off = 0;
  while (off < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + off, contents.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("write");
    }
    off += static_cast<size_t>(n);
  }
  if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0) return fail("sync");
  ::close(fd);
  fd = -1;
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail("rename");
  return Status::ok();
}

namespace {

Result<std::string> password_for(const std::string& home, const NodeConfig& config) {
  if (!config.password_file.empty()) {
    const std::string path = resolve(home, config.password_file);
    auto text = read_small_file(path, 4096);
    if (!text) return text.status();
    std::string line = text->substr(0, text->find('\n'));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty())
      return Status::error("node.no_password",
                           path + " is empty; write the password on its first line");
    return line;
  }
  const char* env = std::getenv(std::string(kPasswordEnv).c_str());
  if (env == nullptr || *env == '\0')
    return Status::error("node.no_password",
                         "no keystore password: set " + std::string(kPasswordEnv) +
                             ", or name a file holding it in [validator] password_file");
  return std::string(env);
}

std::string genesis_text(const std::string& chain, const identity::KeyPair& key) {
  const uint64_t now_ms =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  return "{\n  \"v\": 1,\n  \"chain\": \"" + chain + "\",\n  \"time\": " + std::to_string(now_ms) +
         ",\n  \"validators\": [\n    {\"id\": \"" + key.did() + "\", \"key\": \"" +
         to_hex(key.public_key()) + "\"}\n  ],\n  \"rules_version\": 2\n}\n";
}

}  // namespace

Status init_home(const InitOptions& options) {
  if (options.home.empty())
    return Status::error("node.io", "no home directory given; pass --home DIR");
  const std::string conf_path = resolve(options.home, std::string(kConfigFileName));
  if (fs::exists(conf_path))
    return Status::error("node.home_exists", conf_path +
                                                 " already exists; use `imid start --home " +
                                                 options.home + "` or choose another --home");
  if (!ledger::is_valid_chain_id(options.chain_id) ||
      options.chain_id.find_first_of("._") != std::string::npos)
    return Status::error("config.bad_value", "chain id \"" + options.chain_id +
                                                 "\" must be 1-64 characters of [a-z0-9-]");
  NodeConfig config = NodeConfig::defaults();
  config.password_file = options.password_file;
  if (!options.api_listen.empty())
    IMI_RETURN_IF_ERROR(
        parse_host_port(options.api_listen, config.api.listen_host, config.api.listen_port));
  std::string password;
  if (options.password) {
    password = *options.password;
  } else {
    auto p = password_for(options.home, config);
    if (!p) return p.status();
    password = *p;
  }
  std::error_code ec;
  fs::create_directories(options.home, ec);
  if (ec) return Status::error("node.io", "cannot create " + options.home + ": " + ec.message());
  fs::permissions(options.home, fs::perms::owner_all, ec);

  identity::KeyPair key = identity::KeyPair::generate();
  IMI_RETURN_IF_ERROR(
      identity::save_keystore(resolve(options.home, config.keystore_file), key, password));
  IMI_RETURN_IF_ERROR(write_file_atomic(resolve(options.home, config.genesis_file),
                                        genesis_text(options.chain_id, key), 0644));
  // The config last: its presence marks a complete home.
  return write_file_atomic(conf_path, render_config(config), 0644);
}

Result<Home> load_home(const std::string& home) {
  auto config = load_config(resolve(home, std::string(kConfigFileName)));
  if (!config) return config.status();
  auto text = read_small_file(resolve(home, config->genesis_file), ledger::kGenesisBytesMax);
  if (!text) return text.status();
  auto genesis = ledger::Genesis::parse(*text);
  if (!genesis)
    return Status::error(genesis.status().code(),
                         config->genesis_file + ": " + genesis.status().message());
  auto password = password_for(home, *config);
  if (!password) return password.status();
  auto key = identity::load_keystore(resolve(home, config->keystore_file), *password);
  if (!key) return key.status();
  std::string data_dir = resolve(home, config->data_dir);
  return Home{home, std::move(*config), std::move(*genesis), std::move(*key), std::move(data_dir)};
}

std::string validators_genesis_text(const std::string& chain,
                                    const std::vector<identity::PublicKey>& validators,
                                    uint64_t time_ms) {
  std::string text = "{\n  \"v\": 1,\n  \"chain\": \"" + chain +
                     "\",\n  \"time\": " + std::to_string(time_ms) + ",\n  \"validators\": [\n";
  for (size_t i = 0; i < validators.size(); ++i) {
    text += "    {\"id\": \"" + identity::did_from_key(validators[i]) + "\", \"key\": \"" +
            to_hex(validators[i]) + "\"}" + (i + 1 < validators.size() ? ",\n" : "\n");
  }
  return text + "  ],\n  \"rules_version\": 2\n}\n";
}

namespace {

// A host of --hosts: a DNS name, an IPv4 address or an IPv6 address.
bool is_valid_host(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  for (char c : h)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':'))
      return false;
  return true;
}

std::string host_port(const std::string& host, uint16_t port) {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

std::string random_password() {
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  std::string pw = to_hex(ByteView(raw, sizeof raw));
  sodium_memzero(raw, sizeof raw);
  return pw;
}

std::string manifest_text(const std::string& chain, const std::vector<TestnetNode>& nodes) {
  std::string text = "{\n  \"chain\": \"" + chain + "\",\n  \"nodes\": [\n";
  for (size_t i = 0; i < nodes.size(); ++i) {
    const TestnetNode& n = nodes[i];
    text += "    {\"name\": \"" + n.name + "\", \"role\": \"" +
            (n.observer ? "observer" : "validator") + "\", \"did\": \"" + n.did +
            "\", \"key\": \"" + n.key_hex + "\", \"api\": \"" + n.api_url + "\", \"p2p\": \"" +
            n.p2p_address + "\"}" + (i + 1 < nodes.size() ? ",\n" : "\n");
  }
  return text + "  ]\n}\n";
}

}  // namespace

Result<std::vector<TestnetNode>> init_testnet(const TestnetOptions& o) {
  auto bad = [](const std::string& why) { return Status::error("config.bad_value", why); };
  if (o.out.empty()) return bad("no output directory given; pass --out DIR");
  if (o.validators < 1 || o.validators > kTestnetNodesMax)
    return bad("--validators must be in 1.." + std::to_string(kTestnetNodesMax));
  const size_t total = o.validators + o.observers;
  if (total > kTestnetNodesMax)
    return bad("at most " + std::to_string(kTestnetNodesMax) + " nodes (validators + observers)");
  if (!ledger::is_valid_chain_id(o.chain_id) || o.chain_id.find_first_of("._") != std::string::npos)
    return bad("chain id \"" + o.chain_id + "\" must be 1-64 characters of [a-z0-9-]");
  if (!o.hosts.empty() && o.hosts.size() != total)
    return bad("--hosts names " + std::to_string(o.hosts.size()) + " host(s) for " +
               std::to_string(total) + " node(s) (validators + observers); give one per node");
  std::set<std::string> hosts_seen;
  for (const std::string& h : o.hosts) {
    if (!is_valid_host(h)) return bad("host \"" + h + "\" is not a host name or IP address");
    // Every node uses the same ports, so two nodes on one host would collide.
    if (!hosts_seen.insert(h).second)
      return bad("host \"" + h + "\" is named twice; with --hosts every node needs its own host");
  }
  if (o.hosts.empty()) {
    if (o.api_base_port == 0 || size_t{o.api_base_port} + total - 1 > 65535)
      return bad("API ports " + std::to_string(o.api_base_port) + ".. do not fit in 1..65535");
    if (o.p2p_base_port == 0 || size_t{o.p2p_base_port} + total - 1 > 65535)
      return bad("P2P ports " + std::to_string(o.p2p_base_port) + ".. do not fit in 1..65535");
    const size_t a = o.api_base_port, p = o.p2p_base_port;
    if (a < p + total && p < a + total)
      return bad("the API ports and the P2P ports overlap; choose bases further apart");
  } else {
    if (o.api_base_port == 0 || o.p2p_base_port == 0 || o.api_base_port == o.p2p_base_port)
      return bad("with --hosts, the API port and the P2P port must differ and not be 0");
  }

  std::vector<TestnetNode> nodes(total);
  for (size_t i = 0; i < total; ++i) {
    TestnetNode& n = nodes[i];
    n.observer = i >= o.validators;
    n.name =
        n.observer ? "observer" + std::to_string(i - o.validators) : "node" + std::to_string(i);
    n.home = (fs::path(o.out) / n.name).string();
    if (fs::exists(n.home))
      return Status::error("node.home_exists",
                           n.home + " already exists; choose another --out or delete it first");
    const std::string host = o.hosts.empty() ? "127.0.0.1" : o.hosts[i];
    const uint16_t api_port =
        static_cast<uint16_t>(o.hosts.empty() ? o.api_base_port + i : o.api_base_port);
    const uint16_t p2p_port =
        static_cast<uint16_t>(o.hosts.empty() ? o.p2p_base_port + i : o.p2p_base_port);
    n.api_url = "http://" + host_port(host, api_port);
    n.p2p_address = host_port(host, p2p_port);
  }

  std::error_code ec;
  fs::create_directories(o.out, ec);
  if (ec) return Status::error("node.io", "cannot create " + o.out + ": " + ec.message());

  // Keys first: every config names every other node's key.
  std::vector<identity::KeyPair> keys;
  std::vector<identity::PublicKey> validator_keys;
  keys.reserve(total);
  for (size_t i = 0; i < total; ++i) {
    keys.push_back(identity::KeyPair::generate());
    nodes[i].did = keys[i].did();
    nodes[i].key_hex = to_hex(keys[i].public_key());
    if (!nodes[i].observer) validator_keys.push_back(keys[i].public_key());
  }
  const uint64_t now_ms =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  const std::string genesis = validators_genesis_text(o.chain_id, validator_keys, now_ms);

  for (size_t i = 0; i < total; ++i) {
    const TestnetNode& n = nodes[i];
    fs::create_directories(n.home, ec);
    if (ec) return Status::error("node.io", "cannot create " + n.home + ": " + ec.message());
    fs::permissions(n.home, fs::perms::owner_all, ec);

    NodeConfig config = NodeConfig::defaults();
    config.password_file = std::string(kTestnetPasswordFile);
    config.observer = n.observer;
    const std::string bind = o.hosts.empty() ? "127.0.0.1" : "0.0.0.0";
    config.api.listen_host = bind;
    config.api.listen_port =
        static_cast<uint16_t>(o.hosts.empty() ? o.api_base_port + i : o.api_base_port);
    config.p2p_listen_enabled = true;
    config.p2p_listen_host = bind;
    config.p2p_listen_port =
        static_cast<uint16_t>(o.hosts.empty() ? o.p2p_base_port + i : o.p2p_base_port);
    for (size_t j = 0; j < total; ++j) {
      if (j == i || (n.observer && nodes[j].observer)) continue;
      PeerAddress p;
      p.key_hex = nodes[j].key_hex;
      IMI_RETURN_IF_ERROR(parse_host_port(nodes[j].p2p_address, p.host, p.port));
      config.peers.push_back(std::move(p));
    }
    if (!n.observer)
      for (size_t j = o.validators; j < total; ++j)
        config.observer_keys.push_back(nodes[j].key_hex);

    const std::string password = random_password();
    IMI_RETURN_IF_ERROR(
        write_file_atomic(resolve(n.home, config.password_file), password + "\n", 0600));
    IMI_RETURN_IF_ERROR(
        identity::save_keystore(resolve(n.home, config.keystore_file), keys[i], password));
    IMI_RETURN_IF_ERROR(write_file_atomic(resolve(n.home, config.genesis_file), genesis, 0644));
    // The config last: its presence marks a complete home.
    IMI_RETURN_IF_ERROR(write_file_atomic(resolve(n.home, std::string(kConfigFileName)),
                                          render_config(config), 0644));
  }
  IMI_RETURN_IF_ERROR(write_file_atomic((fs::path(o.out) / kTestnetManifestFile).string(),
                                        manifest_text(o.chain_id, nodes), 0644));
  return nodes;
}

}  // namespace imi::node

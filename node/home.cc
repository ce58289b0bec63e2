#include "node/home.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

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
         to_hex(key.public_key()) + "\"}\n  ]\n}\n";
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

}  // namespace imi::node

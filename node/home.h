// A node's home directory: what `imid init` writes and `imid start` reads.
//
//   <home>/imid.conf        configuration, every key with its default and a comment
//   <home>/genesis.json     the chain's genesis (ledger/genesis.h)
//   <home>/validator.key    the validator key, an encrypted keystore (identity/keystore.h)
//   <home>/dev-password     `imid dev` only: the generated keystore password (mode 0600)
//   <home>/data/ledger/     LevelDB: blocks, certificates, results, state tree
//   <home>/data/consensus.a, .b   the consensus engine's durable state (node/durable_file.h)
//
// The keystore password comes from the file named by [validator] password_file
// (first line), or else from the environment variable IMI_KEY_PASSWORD.
#pragma once

#include <optional>
#include <string>

#include "base/status.h"
#include "identity/keys.h"
#include "ledger/genesis.h"
#include "node/config.h"

namespace imi::node {

inline constexpr std::string_view kPasswordEnv = "IMI_KEY_PASSWORD";
inline constexpr std::string_view kDevPasswordFile = "dev-password";

struct InitOptions {
  std::string home;
  std::string chain_id = "imi-dev";
  // The keystore password; nullopt: read IMI_KEY_PASSWORD.
  std::optional<std::string> password;
  // Written as [validator] password_file when set (relative to home).
  std::string password_file;
  // Overrides [api] listen when set ("HOST:PORT").
  std::string api_listen;
};

// Creates `home` (mode 0700) with config, keystore and a single-validator
// genesis naming the new key. Errors: node.home_exists (a config is already
// there: refuses to overwrite), node.no_password, config.*, keystore.*,
// node.io.
Status init_home(const InitOptions& options);

// Everything `imid start` needs from a home.
struct Home {
  std::string dir;
  NodeConfig config;
  ledger::Genesis genesis;
  identity::KeyPair key;
  std::string data_dir;  // absolute or relative to the working directory
};

// Reads config, genesis and the validator key. Errors: config.*, genesis.*,
// json.*, keystore.* (keystore.wrong_password: check the password),
// node.no_password, node.io.
Result<Home> load_home(const std::string& home);

// `path` resolved against `home` unless absolute.
std::string resolve(const std::string& home, const std::string& path);

// Reads a whole (small) file. Errors: node.io.
Result<std::string> read_small_file(const std::string& path, size_t bytes_max);
// Writes a file via a synced temp file and rename, with `mode`. Errors: node.io.
Status write_file_atomic(const std::string& path, std::string_view contents, unsigned mode);

}  // namespace imi::node

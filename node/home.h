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

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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

// --- Multi-validator networks (`imi testnet`) ---------------------------------

// Genesis text (ledger/genesis.h) of chain `chain` at `time_ms` naming every
// key of `validators` as a validator, id = did:imi of the key. Every node of
// the network must load the same text. Genesis::parse sorts the set by DID.
std::string validators_genesis_text(const std::string& chain,
                                    const std::vector<identity::PublicKey>& validators,
                                    uint64_t time_ms);

// What init_testnet writes.
struct TestnetOptions {
  std::string out;  // parent directory; created if missing
  std::string chain_id = "imi-testnet";
  size_t validators = 4;  // 1..kTestnetNodesMax
  size_t observers = 0;   // non-voting nodes (role = observer)
  // Empty: every node on 127.0.0.1, node i (validators first, then observers)
  // with API port api_base_port + i and P2P port p2p_base_port + i.
  // Otherwise one host name or address per node (validators first), every
  // node using api_base_port and p2p_base_port and listening on 0.0.0.0.
  std::vector<std::string> hosts;
  uint16_t api_base_port = 8080;
  uint16_t p2p_base_port = 26656;
};

inline constexpr size_t kTestnetNodesMax = 256;
inline constexpr std::string_view kTestnetPasswordFile = "password";
inline constexpr std::string_view kTestnetManifestFile = "testnet.json";

// One generated node home.
struct TestnetNode {
  std::string name;  // "node3", "observer0"
  std::string home;  // out/name
  bool observer = false;
  std::string did;
  std::string key_hex;      // Ed25519 public key, 64 hex (the peers' KEY)
  std::string api_url;      // http://HOST:PORT
  std::string p2p_address;  // HOST:PORT other nodes dial
};

// Writes out/node0..node{N-1} and out/observer0..observer{M-1}, each a home
// that load_home reads: imid.conf (API and P2P addresses, peers = every other
// node for validators and every validator for observers, observers = the
// observer keys, role), the same genesis.json naming the N validators, an
// encrypted validator.key whose fresh random password is in `password`
// (mode 0600, the config's password_file), plus out/testnet.json listing the
// nodes. Returns the nodes, validators first.
// Errors: node.home_exists (one of the node directories already exists:
// nothing is written), config.bad_value (counts, chain id, hosts, ports),
// keystore.*, node.io.
Result<std::vector<TestnetNode>> init_testnet(const TestnetOptions& options);

}  // namespace imi::node

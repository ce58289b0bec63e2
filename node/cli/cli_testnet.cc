// imi testnet: writes the homes of an N-validator network (node/home.h,
// init_testnet) and prints where each node will answer and how to start it.
//
//   imi testnet --validators N --out DIR [--chain ID] [--observers M]
//               [--hosts h1,h2,...] [--api-base-port P] [--p2p-base-port Q]
#include <charconv>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "node/cli/cli_common.h"
#include "node/home.h"

namespace imi::cli {

namespace {

// Reads option `name` (if given) as a whole number in [lo, hi] into `out`;
// false after printing why not.
bool parse_count(const node::CliArgs& a, const std::string& name, uint64_t lo, uint64_t hi,
                 uint64_t& out) {
  if (!a.has(name)) return true;
  const std::string v = a.get(name);
  uint64_t x = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size() || x < lo || x > hi) {
    fail(kExitUsage, name + " must be a whole number in " + std::to_string(lo) + ".." +
                         std::to_string(hi) + ", not \"" + v + "\"");
    return false;
  }
  out = x;
  return true;
}

std::vector<std::string> split_hosts(std::string_view v) {
  std::vector<std::string> out;
  while (true) {
    size_t comma = v.find(',');
    out.emplace_back(v.substr(0, comma));
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return out;
}

int run_testnet(const Ctx& ctx, const node::CliArgs& a) {
  if (a.positional.size() != 1)
    return fail(kExitUsage, "use `imi testnet --validators N --out DIR` (see `imi help`)");
  node::TestnetOptions o;
  if (!a.has("--validators")) return fail(kExitUsage, "testnet needs --validators N");
  o.out = a.get("--out");
  if (o.out.empty()) return fail(kExitUsage, "testnet needs --out DIR");
  uint64_t validators = 0, observers = 0, api_port = o.api_base_port, p2p_port = o.p2p_base_port;
  if (!parse_count(a, "--validators", 1, node::kTestnetNodesMax, validators) ||
      !parse_count(a, "--observers", 0, node::kTestnetNodesMax, observers) ||
      !parse_count(a, "--api-base-port", 1, 65535, api_port) ||
      !parse_count(a, "--p2p-base-port", 1, 65535, p2p_port))
    return kExitUsage;
  o.validators = validators;
  o.observers = observers;
  o.api_base_port = static_cast<uint16_t>(api_port);
  o.p2p_base_port = static_cast<uint16_t>(p2p_port);
  if (a.has("--chain")) o.chain_id = a.get("--chain");
  if (a.has("--hosts")) o.hosts = split_hosts(a.get("--hosts"));

  auto nodes = node::init_testnet(o);
  if (!nodes) {
    const std::string& code = nodes.status().code();
    return fail(code == "config.bad_value" ? kExitUsage : kExitLocal, nodes.status().to_string());
  }
  if (ctx.json) {
    auto text =
        node::read_small_file(o.out + "/" + std::string(node::kTestnetManifestFile), 1 << 20);
    if (!text) return fail(kExitLocal, text.status().to_string());
    std::printf("%s", text->c_str());
    return kExitOk;
  }
  std::printf("created a %zu-validator network \"%s\" in %s (manifest: %s/%s)\n\n", o.validators,
              o.chain_id.c_str(), o.out.c_str(), o.out.c_str(),
              std::string(node::kTestnetManifestFile).c_str());
  const char* where = o.hosts.empty() ? "" : "   (on its host, once copied there)";
  for (const node::TestnetNode& n : *nodes) {
    std::printf(
        "%s (%s)\n  did:   %s\n  key:   %s\n  api:   %s\n  p2p:   %s\n  start: imid start --home "
        "%s%s\n",
        n.name.c_str(), n.observer ? "observer" : "validator", n.did.c_str(), n.key_hex.c_str(),
        n.api_url.c_str(), n.p2p_address.c_str(), n.home.c_str(), where);
  }
  std::printf(
      "\nEach home holds its keystore password in `password` (mode 0600).%s\n"
      "A chain commits once a quorum of %zu of the %zu validators is running.\n",
      o.hosts.empty()
          ? ""
          : "\nCopy each home to its host over a secure channel (e.g. scp or rsync over ssh),\n"
            "keep `password` readable only by the node's user, and delete the local copies.",
      2 * o.validators / 3 + 1, o.validators);
  return kExitOk;
}

}  // namespace

Command testnet_command() {
  Command c;
  c.name = "testnet";
  c.usage =
      "  testnet --validators N --out DIR [--chain ID] [--observers M]\n"
      "          [--hosts h1,h2,...] [--api-base-port P] [--p2p-base-port Q]\n"
      "                                write the homes of an N-validator network: DIR/node0..,\n"
      "                                DIR/observer0.. (genesis, encrypted keys, configs);\n"
      "                                without --hosts all on 127.0.0.1, API port P+i (8080),\n"
      "                                P2P port Q+i (26656); with --hosts one host per node\n";
  c.value_options = {"--validators", "--out",           "--chain",        "--observers",
                     "--hosts",      "--api-base-port", "--p2p-base-port"};
  c.run = run_testnet;
  return c;
}

}  // namespace imi::cli

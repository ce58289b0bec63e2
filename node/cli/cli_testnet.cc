// imi testnet: (being written; see issue notes).
#include "node/cli/cli_common.h"

namespace imi::cli {

namespace {
int run_testnet(const Ctx&, const node::CliArgs&) {
  return fail(kExitUsage, "imi testnet is not built yet");
}
}  // namespace

Command testnet_command() {
  Command c;
  c.name = "testnet";
  c.usage = "  testnet ...                 (not built yet)\n";
  c.run = run_testnet;
  return c;
}

}  // namespace imi::cli

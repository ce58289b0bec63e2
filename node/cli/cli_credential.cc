// imi credential: (being written; see issue notes).
#include "node/cli/cli_common.h"

namespace imi::cli {

namespace {
int run_credential(const Ctx&, const node::CliArgs&) {
  return fail(kExitUsage, "imi credential is not built yet");
}
}  // namespace

Command credential_command() {
  Command c;
  c.name = "credential";
  c.usage = "  credential ...                 (not built yet)\n";
  c.run = run_credential;
  return c;
}

}  // namespace imi::cli

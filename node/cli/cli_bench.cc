// imi bench: (being written; see issue notes).
#include "node/cli/cli_common.h"

namespace imi::cli {

namespace {
int run_bench(const Ctx&, const node::CliArgs&) {
  return fail(kExitUsage, "imi bench is not built yet");
}
}  // namespace

Command bench_command() {
  Command c;
  c.name = "bench";
  c.usage = "  bench ...                 (not built yet)\n";
  c.run = run_bench;
  return c;
}

}  // namespace imi::cli

#include "node/cli_args.h"

namespace imi::node {

Result<CliArgs> parse_cli_args(const std::vector<std::string>& args,
                               const std::set<std::string>& value_options,
                               const std::set<std::string>& flags) {
  CliArgs out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() < 2 || a.compare(0, 2, "--") != 0 || a == "--") {
      out.positional.push_back(a);
      continue;
    }
    if (flags.count(a)) {
      if (!out.flags.insert(a).second) return Status::error("cli.usage", a + " given twice");
      continue;
    }
    if (!value_options.count(a)) return Status::error("cli.usage", "unknown option " + a);
    if (i + 1 >= args.size()) return Status::error("cli.usage", a + " needs a value");
    if (!out.options.emplace(a, args[++i]).second)
      return Status::error("cli.usage", a + " given twice");
  }
  return out;
}

}  // namespace imi::node

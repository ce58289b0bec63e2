// Command-line parsing for the imi CLI: positional words, `--name value`
// options and `--flag` switches, each checked against what the command
// accepts so a typo is an error rather than silently ignored.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"

namespace imi::node {

struct CliArgs {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;  // "--app" -> "anchor"
  std::set<std::string> flags;                 // "--wait"

  bool has(const std::string& name) const { return options.count(name) || flags.count(name); }
  std::string get(const std::string& name, const std::string& fallback = {}) const {
    auto it = options.find(name);
    return it == options.end() ? fallback : it->second;
  }
};

// Errors (code cli.usage): an option not in `value_options` or `flags`, an
// option missing its value, an option given twice.
Result<CliArgs> parse_cli_args(const std::vector<std::string>& args,
                               const std::set<std::string>& value_options,
                               const std::set<std::string>& flags);

}  // namespace imi::node

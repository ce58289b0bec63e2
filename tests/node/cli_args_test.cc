#include "node/cli_args.h"

#include <doctest/doctest.h>

namespace imi::node {
namespace {

TEST_CASE("positional words, options with values and flags") {
  auto a = parse_cli_args({"tx", "send", "--app", "anchor", "--wait", "--args", "{}"},
                          {"--app", "--args"}, {"--wait"});
  REQUIRE(a);
  CHECK(a->positional == std::vector<std::string>{"tx", "send"});
  CHECK(a->get("--app") == "anchor");
  CHECK(a->get("--args") == "{}");
  CHECK(a->has("--wait"));
  CHECK(!a->has("--json"));
  CHECK(a->get("--key", "dflt") == "dflt");
}

TEST_CASE("typos and missing values are usage errors") {
  CHECK(parse_cli_args({"--ap", "x"}, {"--app"}, {}).status().code() == "cli.usage");
  CHECK(parse_cli_args({"--app"}, {"--app"}, {}).status().code() == "cli.usage");
  CHECK(parse_cli_args({"--app", "a", "--app", "b"}, {"--app"}, {}).status().code() == "cli.usage");
  CHECK(parse_cli_args({"--wait", "--wait"}, {}, {"--wait"}).status().code() == "cli.usage");
}

}  // namespace
}  // namespace imi::node

// A seam for process-level Byzantine tests (issue 5): the imid-byzantine
// executable (built only with the CMake option IMI_BYZANTINE_TESTS, from
// node/byzantine/) installs a hook that sees every consensus message the
// node sends and may replace it with misbehaviour. The production imid links
// no hook: Node::byzantine_ stays null and costs one branch per message.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "consensus/engine.h"

namespace imi::node {

struct ByzantineContext {
  std::string chain;
  std::string self;
  consensus::Signer* signer = nullptr;
  std::vector<std::string> validators;  // DIDs of the validators in force, self included
  // Sends raw engine wire bytes to one validator.
  std::function<void(const std::string& to, const Bytes& wire)> send_to;
};

class ByzantineHook {
 public:
  virtual ~ByzantineHook() = default;
  // Called for each outbound consensus message; return true if the hook sent
  // (or dropped) it itself, false to let the node send it normally.
  virtual bool intercept(const consensus::Outbound& message, const ByzantineContext& context) = 0;
};

}  // namespace imi::node

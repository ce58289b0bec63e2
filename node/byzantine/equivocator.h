// See equivocator.cc. Test builds only.
#pragma once

#include <cstddef>

#include "node/byzantine_hook.h"

namespace imi::node {

class Equivocator : public ByzantineHook {
 public:
  bool intercept(const consensus::Outbound& message, const ByzantineContext& context) override;

 private:
  size_t equivocations_ = 0;
};

}  // namespace imi::node

// The apps every node runs (node.h make_apps()): one list, so imid, imid
// reindex and the tests that add their own app start from the same chain rules.
#include "apps/anchor.h"
#include "apps/answers.h"
#include "apps/approval.h"
#include "apps/consent.h"
#include "apps/endorse.h"
#include "apps/governance.h"
#include "apps/identity_registry.h"
#include "apps/share.h"
#include "ledger/delegation.h"
#include "node/node.h"

namespace imi::node {

std::vector<std::unique_ptr<ledger::App>> make_apps() {
  std::vector<std::unique_ptr<ledger::App>> apps;
  apps.push_back(std::make_unique<apps::AnchorApp>());
  apps.push_back(std::make_unique<apps::AnswersApp>());
  apps.push_back(std::make_unique<apps::ApprovalApp>());
  apps.push_back(std::make_unique<apps::ConsentApp>());
  apps.push_back(std::make_unique<ledger::DelegationApp>());
  apps.push_back(std::make_unique<apps::EndorseApp>());
  apps.push_back(std::make_unique<apps::GovernanceApp>());
  apps.push_back(std::make_unique<apps::IdentityRegistryApp>());
  apps.push_back(std::make_unique<apps::ShareApp>());
  return apps;
}

}  // namespace imi::node

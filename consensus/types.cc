#include "consensus/types.h"

#include <algorithm>

namespace imi::consensus {

bool is_valid_validator_id(std::string_view id) {
  constexpr std::string_view kPrefix = "did:imi:";
  return id.size() == kPrefix.size() + 40 && id.substr(0, kPrefix.size()) == kPrefix &&
         is_lower_hex(id.substr(kPrefix.size()), 40);
}

bool is_valid_chain_id(std::string_view chain) {
  if (chain.empty() || chain.size() > 64) return false;
  // The ledger's rule (ledger/transaction.h): [a-z0-9._-], starting with
  // [a-z0-9]. None of these characters needs escaping in JCS.
  if (chain[0] == '.' || chain[0] == '_' || chain[0] == '-') return false;
  for (char c : chain) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return true;
}

uint64_t max_faulty(uint64_t n) { return n == 0 ? 0 : (n - 1) / 3; }

uint64_t quorum(uint64_t n) {
#ifdef IMI_CONSENSUS_BROKEN_QUORUM_FOR_TEST
  // Deliberately unsafe (q-1): built only into the simulator's self-test that
  // proves the checker catches a broken quorum rule. Never in imi_consensus.
  return (2 * n) / 3;
#else
  return (2 * n) / 3 + 1;
#endif
}

Result<ValidatorSet> ValidatorSet::create(std::vector<Validator> validators) {
  if (validators.empty() || validators.size() > Limits{}.validators_max)
    return Status::error("consensus.bad_validator_set",
                         "a validator set needs 1 to 256 members; fix the genesis or governance "
                         "transaction");
  std::sort(validators.begin(), validators.end(),
            [](const Validator& a, const Validator& b) { return a.id < b.id; });
  for (size_t i = 0; i < validators.size(); ++i) {
    if (!is_valid_validator_id(validators[i].id))
      return Status::error("consensus.bad_validator_set",
                           "validator id '" + validators[i].id + "' is not a did:imi");
    if (i > 0 && validators[i].id == validators[i - 1].id)
      return Status::error("consensus.bad_validator_set",
                           "validator " + validators[i].id + " appears twice");
  }
  ValidatorSet s;
  s.validators_ = std::move(validators);
  return s;
}

const Validator* ValidatorSet::find(std::string_view id) const {
  auto it = std::lower_bound(validators_.begin(), validators_.end(), id,
                             [](const Validator& v, std::string_view x) { return v.id < x; });
  if (it == validators_.end() || it->id != id) return nullptr;
  return &*it;
}

const ValidatorSet* ValidatorSchedule::at(uint64_t height) const {
  auto it = sets_.upper_bound(height);
  if (it == sets_.begin()) return nullptr;
  return &std::prev(it)->second;
}

void ValidatorSchedule::prune_below(uint64_t height) {
  auto it = sets_.upper_bound(height);
  if (it == sets_.begin()) return;
  --it;  // the entry in force at `height` stays
  sets_.erase(sets_.begin(), it);
}

}  // namespace imi::consensus

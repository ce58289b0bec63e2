#include "node/sig_cache.h"

namespace imi::node {

void SigCache::insert(const Hash32& id) {
  std::lock_guard lock(mu_);
  if (capacity_ == 0 || !ids_.insert(id).second) return;
  order_.push_back(id);
  while (order_.size() > capacity_) {
    ids_.erase(order_.front());
    order_.pop_front();
  }
}

bool SigCache::contains(const Hash32& id) const {
  std::lock_guard lock(mu_);
  return ids_.count(id) != 0;
}

size_t SigCache::size() const {
  std::lock_guard lock(mu_);
  return ids_.size();
}

}  // namespace imi::node

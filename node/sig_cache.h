// Transactions whose signatures this node already checked, by id. Admission
// verifies each signature once on the worker pool and records the id here;
// validating a block then skips the transactions found here, so a block of
// admitted transactions is not verified twice. An id commits to the whole
// transaction, signature included, so a hit means exactly these bytes
// verified. Bounded: the oldest ids are forgotten first.
// Thread-safe (one mutex).
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <unordered_set>

#include "base/bytes.h"
#include "ledger/smt_store.h"

namespace imi::node {

class SigCache {
 public:
  explicit SigCache(size_t capacity) : capacity_(capacity) {}
  void insert(const Hash32& id);
  bool contains(const Hash32& id) const;
  size_t size() const;

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  // Guarded by mu_.
  std::unordered_set<Hash32, Hash32Hasher> ids_;
  std::deque<Hash32> order_;
};

}  // namespace imi::node

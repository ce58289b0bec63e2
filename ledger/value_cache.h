// A bounded cache of state values at one committed root: what the executor
// reads most (accounts of active senders, records apps look up) without
// walking the state tree and reading the leaf from LevelDB every time.
//
// Entries map a flat key (app + "/" + key; app names never hold '/') to the
// value at root(), nullopt meaning absent. The owner keeps it true: it fills
// it only with values read at root(), and when a block on root() commits it
// applies the block's writes and moves to the new root (advance()); any other
// change of root clears it. A cache can therefore never change an answer.
//
// Bounded in bytes with two generations: entries go into the young one; when
// it holds half the budget, the old generation is dropped and the young one
// becomes old. A hit in the old generation moves the entry back to the young
// one, so what is used stays. O(1) per operation, no per-entry bookkeeping.
//
// Not thread-safe: one owner (the executor's).
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/bytes.h"
#include "ledger/smt.h"

namespace imi::ledger {

class ValueCache {
 public:
  // `bytes_max` 0 turns the cache off (every find() misses).
  explicit ValueCache(size_t bytes_max) : bytes_max_(bytes_max) {}

  static std::string flat_key(std::string_view app, std::string_view key);

  const Hash32& root() const { return root_; }
  // The value of `flat` at root(), or nullptr if not cached.
  const std::optional<std::string>* find(const std::string& flat);
  // Records the value of `flat` at root().
  void put(const std::string& flat, const std::optional<std::string>& value);
  // A block on root() committed with these writes and root `next`.
  void advance(std::span<const StateWrite> writes, const Hash32& next);
  // Forgets everything; the cache now describes `root`.
  void reset(const Hash32& root);

  size_t bytes() const { return young_bytes_ + old_bytes_; }
  size_t size() const { return young_.size() + old_.size(); }

 private:
  using Map = std::unordered_map<std::string, std::optional<std::string>>;
  static size_t cost(const std::string& k, const std::optional<std::string>& v) {
    return k.size() + (v ? v->size() : 0) + 64;  // ~ node and string overhead
  }
  void insert_young(const std::string& k, std::optional<std::string> v);

  const size_t bytes_max_;
  Hash32 root_{};
  Map young_, old_;
  size_t young_bytes_ = 0, old_bytes_ = 0;
};

}  // namespace imi::ledger

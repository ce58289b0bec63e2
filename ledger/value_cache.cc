#include "ledger/value_cache.h"

namespace imi::ledger {

std::string ValueCache::flat_key(std::string_view app, std::string_view key) {
  std::string k;
  k.reserve(app.size() + 1 + key.size());
  k.append(app).push_back('/');
  k.append(key);
  return k;
}

const std::optional<std::string>* ValueCache::find(const std::string& flat) {
  if (auto it = young_.find(flat); it != young_.end()) return &it->second;
  auto it = old_.find(flat);
  if (it == old_.end()) return nullptr;
  // Used again: back to the young generation.
  std::optional<std::string> v = std::move(it->second);
  old_bytes_ -= cost(flat, v);
  old_.erase(it);
  insert_young(flat, std::move(v));
  auto again = young_.find(flat);
  return again == young_.end() ? nullptr : &again->second;
}

void ValueCache::put(const std::string& flat, const std::optional<std::string>& value) {
  if (bytes_max_ == 0) return;
  if (auto it = old_.find(flat); it != old_.end()) {
    old_bytes_ -= cost(flat, it->second);
    old_.erase(it);
  }
  insert_young(flat, value);
}

void ValueCache::insert_young(const std::string& k, std::optional<std::string> v) {
  if (bytes_max_ == 0) return;
  const size_t c = cost(k, v);
  if (c > bytes_max_ / 4) {  // one huge value would push out everything else: not kept
    if (auto it = young_.find(k); it != young_.end()) {
      young_bytes_ -= cost(k, it->second);
      young_.erase(it);
    }
    return;
  }
  if (auto it = young_.find(k); it != young_.end()) {
    young_bytes_ -= cost(k, it->second);
    it->second = std::move(v);
  } else {
    if (young_bytes_ + c > bytes_max_ / 2) {
      old_ = std::move(young_);
      old_bytes_ = young_bytes_;
      young_ = Map();
      young_bytes_ = 0;
    }
    young_.emplace(k, std::move(v));
  }
  young_bytes_ += c;
}

void ValueCache::advance(std::span<const StateWrite> writes, const Hash32& next) {
  for (const StateWrite& w : writes) put(flat_key(w.app, w.key), w.value);
  root_ = next;
}

void ValueCache::reset(const Hash32& root) {
  young_.clear();
  old_.clear();
  young_bytes_ = old_bytes_ = 0;
  root_ = root;
}

}  // namespace imi::ledger

#include "ledger/smt_cache.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <new>

namespace imi::ledger {
namespace {

constexpr size_t kInitialSets = 512;
constexpr size_t kHugePage = size_t{2} << 20;

bool is_free(const Hash32& h) {
  uint64_t w[4];
  std::memcpy(w, h.data(), sizeof w);
  return (w[0] | w[1] | w[2] | w[3]) == 0;
}

}  // namespace

NodeShapeCache::NodeShapeCache(size_t max_bytes) {
  size_t sets = max_bytes / (sizeof(Entry) * kWays);
  if (sets == 0) return;
  max_sets_ = 1;
  while (max_sets_ * 2 <= sets) max_sets_ *= 2;
  sets_ = max_sets_ < kInitialSets ? max_sets_ : kInitialSets;
  table_ = allocate(sets_ * kWays);
  table_size_ = sets_ * kWays;
}

void NodeShapeCache::FreeTable::operator()(Entry* table) const { std::free(table); }

NodeShapeCache::Table NodeShapeCache::allocate(size_t entries) {
  size_t bytes = entries * sizeof(Entry);
  size_t align = alignof(Entry);
  if (bytes >= kHugePage) {
    align = kHugePage;
    bytes = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  } else {
    bytes = (bytes + align - 1) / align * align;
  }
  void* raw = std::aligned_alloc(align, bytes);
  if (raw == nullptr) throw std::bad_alloc();
  // Advice only: without transparent huge pages the table works the same.
  if (align == kHugePage) (void)madvise(raw, bytes, MADV_HUGEPAGE);
  Entry* table = static_cast<Entry*>(raw);
  for (size_t i = 0; i < entries; ++i) new (&table[i]) Entry{};
  return Table(table);
}

size_t NodeShapeCache::set_of(const Hash32& hash) const {
  uint64_t v;
  std::memcpy(&v, hash.data(), sizeof v);
  return static_cast<size_t>(v) & (sets_ - 1);
}

bool NodeShapeCache::get(const Hash32& hash, Shape& out) {
  if (sets_ == 0) return false;
  Entry* set = &table_[set_of(hash) * kWays];
  for (size_t i = 0; i < kWays; ++i) {
    if (set[i].hash == hash) {
      set[i].stamp = ++clock_;
      out.leaf = set[i].leaf != 0;
      out.a = set[i].a;
      out.b = set[i].b;
      out.a_kind = set[i].a_kind;
      out.b_kind = set[i].b_kind;
      return true;
    }
  }
  return false;
}

void NodeShapeCache::put(const Hash32& hash, const Shape& shape) {
  if (sets_ == 0 || is_free(hash)) return;
  if (sets_ < max_sets_ && used_ * 4 >= table_size_ * 3) grow();
  Entry* set = &table_[set_of(hash) * kWays];
  for (size_t i = 0; i < kWays; ++i) {
    if (set[i].hash == hash) {
      set[i].stamp = ++clock_;
      // The same node, perhaps now with its children's kinds known.
      if (shape.a_kind != 0) set[i].a_kind = shape.a_kind;
      if (shape.b_kind != 0) set[i].b_kind = shape.b_kind;
      return;
    }
  }
  // Below the bound a full set grows the table rather than evicting: hashes
  // are uniform, so some set fills long before the table does, and an entry
  // evicted while filling (warm() loads the top levels first, so those are
  // the oldest) would cost a read on every later update through it.
  while (sets_ < max_sets_ && set_is_full(set)) {
    grow();
    set = &table_[set_of(hash) * kWays];
  }
  Entry* free_slot = nullptr;
  Entry* lru = nullptr;
  uint32_t oldest = 0;
  for (size_t i = 0; i < kWays; ++i) {
    Entry& e = set[i];
    if (is_free(e.hash)) {
      if (!free_slot) free_slot = &e;
      continue;
    }
    uint32_t age = clock_ - e.stamp;  // wraps correctly for ages below 2^32
    if (!lru || age >= oldest) {
      lru = &e;
      oldest = age;
    }
  }
  Entry* victim = free_slot ? free_slot : lru;
  if (free_slot) ++used_;
  *victim =
      Entry{hash, shape.a, shape.b, ++clock_, uint8_t{shape.leaf}, shape.a_kind, shape.b_kind};
}

bool NodeShapeCache::set_is_full(const Entry* set) {
  for (size_t i = 0; i < kWays; ++i) {
    if (is_free(set[i].hash)) return false;
  }
  return true;
}

void NodeShapeCache::touch(const Hash32& hash) {
  Shape unused;
  get(hash, unused);
}

void NodeShapeCache::grow() {
  Table old = std::move(table_);
  const size_t old_size = table_size_;
  sets_ *= 2;
  table_ = allocate(sets_ * kWays);
  table_size_ = sets_ * kWays;
  used_ = 0;
  for (size_t j = 0; j < old_size; ++j) {
    const Entry& e = old[j];
    if (is_free(e.hash)) continue;
    Entry* set = &table_[set_of(e.hash) * kWays];
    for (size_t i = 0; i < kWays; ++i) {
      if (is_free(set[i].hash)) {
        set[i] = e;
        ++used_;
        break;
      }
    }
  }
}

}  // namespace imi::ledger

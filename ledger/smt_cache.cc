#include "ledger/smt_cache.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

namespace imi::ledger {
namespace {

constexpr size_t kInitialSets = 512;
// Old sets moved per get() or put() while a doubling is in progress.
constexpr size_t kMoveStep = 4;
constexpr size_t kHugePage = size_t{2} << 20;
constexpr uint32_t kTagMask = 0xffffff00u;

bool is_zero(const Hash32& h) {
  uint64_t w[4];
  std::memcpy(w, h.data(), sizeof w);
  return (w[0] | w[1] | w[2] | w[3]) == 0;
}

uint32_t flags_of(const NodeShapeCache::Shape& shape) {
  return (shape.leaf ? 1u : 0u) | (shape.a_kind & 7u) << 1 | (shape.b_kind & 7u) << 4;
}

}  // namespace

NodeShapeCache::NodeShapeCache(size_t max_bytes) {
  size_t sets = max_bytes / sizeof(Set);
  if (sets == 0) return;
  max_sets_ = 1;
  while (max_sets_ * 2 <= sets) max_sets_ *= 2;
  sets_ = max_sets_ < kInitialSets ? max_sets_ : kInitialSets;
  table_ = allocate(sets_);
}

void NodeShapeCache::FreeTable::operator()(Set* table) const {
  if (bytes != 0) {
    (void)munmap(table, bytes);
  } else {
    std::free(table);
  }
}

NodeShapeCache::Table NodeShapeCache::allocate(size_t sets) {
  size_t bytes = sets * sizeof(Set);
  if (bytes < kHugePage) {
    bytes = (bytes + alignof(Set) - 1) / alignof(Set) * alignof(Set);
    void* raw = std::aligned_alloc(alignof(Set), bytes);
    if (raw == nullptr) throw std::bad_alloc();
    std::memset(raw, 0, bytes);  // all tags 0: every entry free
    return Table(static_cast<Set*>(raw), FreeTable{0});
  }
  // Anonymous memory is zero when first touched, so a table of hundreds of
  // MiB costs nothing until used (a memset of it was a stall of its own).
  // Mapped with a huge page of slack, then trimmed to a 2 MiB boundary.
  bytes = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  const size_t mapped = bytes + kHugePage;
  void* raw = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kHugePage - 1) & ~(uintptr_t{kHugePage} - 1);
  if (aligned > start) (void)munmap(raw, aligned - start);
  const uintptr_t end = start + mapped;
  if (end > aligned + bytes)
    (void)munmap(reinterpret_cast<void*>(aligned + bytes), end - aligned - bytes);
  // Advice only: without transparent huge pages the table works the same.
  (void)madvise(reinterpret_cast<void*>(aligned), bytes, MADV_HUGEPAGE);
  return Table(reinterpret_cast<Set*>(aligned), FreeTable{bytes});
}

// Bytes 8..10 of the hash (bytes 0..7 pick the set), never 0 (free).
uint32_t NodeShapeCache::tag_of(const Hash32& hash) {
  uint32_t t = uint32_t{hash[8]} | uint32_t{hash[9]} << 8 | uint32_t{hash[10]} << 16;
  return (t == 0 ? 1 : t) << 8;
}

size_t NodeShapeCache::set_of(const Hash32& hash) const {
  uint64_t v;
  std::memcpy(&v, hash.data(), sizeof v);
  return static_cast<size_t>(v) & (sets_ - 1);
}

size_t NodeShapeCache::old_set_of(const Hash32& hash) const {
  uint64_t v;
  std::memcpy(&v, hash.data(), sizeof v);
  return static_cast<size_t>(v) & (old_sets_ - 1);
}

bool NodeShapeCache::get(const Hash32& hash, Shape& out) {
  if (sets_ == 0) return false;
  if (old_sets_ != 0) move_some(kMoveStep);
  const uint32_t tag = tag_of(hash);
  auto find_in = [&](Set& set) {
    for (size_t i = 0; i < kWays; ++i) {
      if ((set.tag[i] & kTagMask) != tag || set.entry[i].hash != hash) continue;
      set.stamp[i] = ++clock_;
      const uint32_t flags = set.tag[i];
      out.leaf = (flags & 1u) != 0;
      out.a = set.entry[i].a;
      out.b = set.entry[i].b;
      out.a_kind = static_cast<uint8_t>(flags >> 1 & 7u);
      out.b_kind = static_cast<uint8_t>(flags >> 4 & 7u);
      return true;
    }
    return false;
  };
  if (find_in(table_[set_of(hash)])) return true;
  // Not moved yet: still in the old table (a moved set's tags are all 0).
  return old_sets_ != 0 && find_in(old_[old_set_of(hash)]);
}

void NodeShapeCache::put(const Hash32& hash, const Shape& shape) {
  if (sets_ == 0 || is_zero(hash)) return;
  if (old_sets_ != 0) {
    // This entry's old set first, so the new set never holds an entry twice
    // and receives the old set's entries before any new one.
    move_set(old_set_of(hash));
    move_some(kMoveStep);
  }
  if (sets_ < max_sets_ && used_ * 4 >= sets_ * kWays * 3) {
    grow();
    move_set(old_set_of(hash));
  }
  const uint32_t tag = tag_of(hash);
  Set* set = &table_[set_of(hash)];
  for (size_t i = 0; i < kWays; ++i) {
    if ((set->tag[i] & kTagMask) != tag || set->entry[i].hash != hash) continue;
    set->stamp[i] = ++clock_;
    // The same node, perhaps now with its children's kinds known.
    if (shape.a_kind != 0) set->tag[i] = (set->tag[i] & ~(7u << 1)) | (shape.a_kind & 7u) << 1;
    if (shape.b_kind != 0) set->tag[i] = (set->tag[i] & ~(7u << 4)) | (shape.b_kind & 7u) << 4;
    return;
  }
  // Below the bound a full set grows the table rather than evicting: hashes
  // are uniform, so some set fills long before the table does, and an entry
  // evicted while filling (warm() loads the top levels first, so those are
  // the oldest) would cost a read on every later update through it.
  while (sets_ < max_sets_ && set_is_full(*set)) {
    grow();
    move_set(old_set_of(hash));
    set = &table_[set_of(hash)];
  }
  size_t victim = kWays;
  uint32_t oldest = 0;
  for (size_t i = 0; i < kWays; ++i) {
    if (set->tag[i] == 0) {
      victim = i;
      ++used_;
      break;
    }
    uint32_t age = clock_ - set->stamp[i];  // wraps correctly for ages below 2^32
    if (victim == kWays || age >= oldest) {
      victim = i;
      oldest = age;
    }
  }
  set->tag[victim] = tag | flags_of(shape);
  set->stamp[victim] = ++clock_;
  set->entry[victim] = Entry{hash, shape.a, shape.b};
}

bool NodeShapeCache::set_is_full(const Set& set) {
  for (size_t i = 0; i < kWays; ++i) {
    if (set.tag[i] == 0) return false;
  }
  return true;
}

void NodeShapeCache::touch(const Hash32& hash) {
  Shape unused;
  get(hash, unused);
}

void NodeShapeCache::grow() {
  // A doubling before the last one finished moving: finish it now (rare: the
  // new table has twice the sets, and every operation moves kMoveStep).
  if (old_sets_ != 0) move_some(old_sets_);
  old_ = std::move(table_);
  old_sets_ = sets_;
  moved_ = 0;
  sets_ *= 2;
  table_ = allocate(sets_);
}

void NodeShapeCache::move_set(size_t j) {
  Set& from = old_[j];
  for (size_t w = 0; w < kWays; ++w) {
    if (from.tag[w] == 0) continue;
    // Old set j splits into new sets j and j + old_sets_, which receive
    // entries of old set j only until it has moved (put() moves it before
    // adding there), so there is always room.
    Set& to = table_[set_of(from.entry[w].hash)];
    bool placed = false;
    for (size_t i = 0; i < kWays && !placed; ++i) {
      if (to.tag[i] == 0) {
        to.tag[i] = from.tag[w];
        to.stamp[i] = from.stamp[w];
        to.entry[i] = from.entry[w];
        placed = true;
      }
    }
    if (!placed) --used_;  // cannot happen (see above); a cache may drop an entry
    from.tag[w] = 0;
  }
}

void NodeShapeCache::move_some(size_t n) {
  for (; n > 0 && moved_ < old_sets_; --n, ++moved_) move_set(moved_);
  if (moved_ == old_sets_) {
    old_.reset();
    old_sets_ = 0;
    moved_ = 0;
  }
}

PageMemo::PageMemo(size_t max_pages) : max_pages_(max_pages) {
  size_t slots = 1;
  while (slots < 2 * max_pages_) slots *= 2;  // at most half full
  index_.assign(slots, 0);
}

size_t PageMemo::slot_of(const Hash32& root) const {
  uint64_t v;
  std::memcpy(&v, root.data(), sizeof v);
  return static_cast<size_t>(v) & (index_.size() - 1);
}

const StatePage* PageMemo::find(const Hash32& root) const {
  if (size_ == 0) return nullptr;
  for (size_t slot = slot_of(root);; slot = (slot + 1) & (index_.size() - 1)) {
    const uint32_t i = index_[slot];
    if (i == 0) return nullptr;
    if (roots_[i - 1] == root) return &pages_[i - 1];
  }
}

StatePage& PageMemo::add(const Hash32& root) {
  if (size_ == max_pages_) clear();
  if (pages_.size() == size_) {
    pages_.emplace_back();
    roots_.emplace_back();
  }
  roots_[size_] = root;
  size_t slot = slot_of(root);
  while (index_[slot] != 0) slot = (slot + 1) & (index_.size() - 1);
  index_[slot] = static_cast<uint32_t>(++size_);
  return pages_[size_ - 1];
}

void PageMemo::drop_last() {
  if (size_ == 0) return;
  // Its slot is the last one added on its probe path, so freeing it breaks
  // no other probe path.
  size_t slot = slot_of(roots_[size_ - 1]);
  while (index_[slot] != size_) slot = (slot + 1) & (index_.size() - 1);
  index_[slot] = 0;
  --size_;
}

void PageMemo::clear() {
  if (size_ == 0) return;
  std::fill(index_.begin(), index_.end(), 0);
  size_ = 0;
}

}  // namespace imi::ledger

// A bounded in-memory cache of the state tree's node shapes (ledger/smt.h),
// keyed by node hash: for an internal node its two children (and what the
// tree knows of their kinds), for a leaf its path and value hash (not the
// value). That is all an update, and a read of an absent key, needs from a
// node, so with the cache warm such reads never reach LevelDB.
//
// Layout: one flat table of fixed-size entries, 8-way set-associative by
// the hash's first bytes (hashes are uniform), no allocation per entry. Each
// set starts with one cache line of tags (3 more bytes of each entry's hash)
// and use stamps, so a lookup reads that line and only the entry whose tag
// matches: comparing all 8 hashes touched 13 lines, each a likely miss, and
// was about half of a block's StateTree::update (issue 2). The
// table starts small and doubles up to the byte bound whenever a set is
// full, so a tree that holds a few keys costs little memory and no entry is
// lost while the table may still grow; at the bound a full set evicts its
// least recently used entry.
//
// Doubling moves the old table's entries over incrementally: each later
// get() or put() moves a few old sets, and a put() first moves the one old
// set its entry belongs to, so no operation waits for the whole table. (A
// rehash all at once of a table of hundreds of MiB stopped block execution
// for up to 1.5 s and showed as latency spikes on 4 validators.) New tables
// come from the kernel already zeroed, not memset. While entries move, the
// old table (half the new one's size) is still held: memory peaks at 1.5x
// the table, then the old one is freed. Since nodes are content-addressed, an entry is
// never stale, whichever root or overlay it was read through.
//
// Not thread-safe: lookups update recency.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "base/bytes.h"
#include "ledger/smt_store.h"

namespace imi::ledger {

class NodeShapeCache {
 public:
  struct Shape {
    bool leaf = false;
    Hash32 a{};  // internal: left child; leaf: path
    Hash32 b{};  // internal: right child; leaf: SHA-256 of the value bytes
    // Internal: the kinds of the children as the tree encodes them (opaque
    // here, 0..7; 0 when unknown). A leaf's are 0.
    uint8_t a_kind = 0;
    uint8_t b_kind = 0;
  };

  // Holds at most `max_bytes` of entries (0: caches nothing).
  explicit NodeShapeCache(size_t max_bytes);

  // Copies the shape of `hash` into `out` if cached.
  bool get(const Hash32& hash, Shape& out);
  // Adds (or refreshes) the shape of `hash`.
  void put(const Hash32& hash, const Shape& shape);
  // Marks `hash` as just used, if cached.
  void touch(const Hash32& hash);
  // Starts loading the tags of `hash`'s set into the CPU cache: a caller with
  // several hashes to look up prefetches them all first, so their memory
  // misses overlap instead of adding up.
  void prefetch(const Hash32& hash) const {
    if (sets_ != 0) __builtin_prefetch(&table_[set_of(hash)]);
  }
  // True while a doubling is still moving entries from the old table.
  bool moving() const { return old_sets_ != 0; }

  // Bytes the table occupies now (both tables while one is being moved).
  size_t bytes() const { return (sets_ + old_sets_) * sizeof(Set); }
  size_t entries() const { return used_; }
  size_t capacity() const { return max_sets_ * kWays; }

 private:
  struct Entry {
    Hash32 hash{};
    Hash32 a{};
    Hash32 b{};
  };
  static constexpr size_t kWays = 8;
  struct alignas(64) Set {
    // 0: free; else bits 8..31 the entry's tag (tag_of), bits 0..6 the
    // shape's leaf flag and kinds.
    uint32_t tag[kWays];
    uint32_t stamp[kWays];  // value of clock_ at the last use
    Entry entry[kWays];
  };
  static_assert(sizeof(Set) == 104 * kWays, "StateTreeOptions counts 104 bytes a node");

  struct FreeTable {
    size_t bytes;  // mapped length, 0 if from aligned_alloc (value-initialised: 0)
    void operator()(Set* table) const;
  };
  using Table = std::unique_ptr<Set[], FreeTable>;

  // A zeroed table of `sets`; tables of 2 MiB or more sit on huge pages
  // where the kernel allows it (lookups are random: with 4 KiB pages nearly
  // every one also missed the TLB).
  static Table allocate(size_t sets);
  static uint32_t tag_of(const Hash32& hash);
  size_t set_of(const Hash32& hash) const;
  static bool set_is_full(const Set& set);
  void grow();
  // Index in old_ of the set `hash` belonged to.
  size_t old_set_of(const Hash32& hash) const;
  // Moves old set `j` (if not moved yet) into the new table.
  void move_set(size_t j);
  // Moves up to `n` more old sets in order; frees old_ when all are moved.
  void move_some(size_t n);

  size_t max_sets_ = 0;  // a power of two, or 0
  size_t sets_ = 0;      // current number of sets (power of two)
  size_t used_ = 0;      // entries in both tables
  uint32_t clock_ = 0;
  Table table_;  // sets_ sets
  // The table before the last doubling while its entries are being moved:
  // sets below moved_ are empty, and so is any set move_set() took out of
  // order (its tags are cleared).
  Table old_;
  size_t old_sets_ = 0;  // 0: nothing being moved
  size_t moved_ = 0;
};

// The pages one StateTree operation decoded, by page root, so that
// rewriting a page takes its unchanged nodes and leaf children straight from
// the old page (a node keeps its position in its page) instead of looking
// each up in the NodeShapeCache, a likely memory miss each (issue 2). Holds
// at most `max_pages`; adding one more starts over (a memo, not a store:
// a page not found is read again). Not thread-safe.
class PageMemo {
 public:
  explicit PageMemo(size_t max_pages);

  // The page of root `root`, nullptr if not held.
  const StatePage* find(const Hash32& root) const;
  // A page to decode the page of `root` into (its old contents are
  // garbage), found by find(root) from now on: the caller must fill it, or
  // drop_last() if decoding fails. Pointers from find() stay valid until
  // clear() or until an add() starts over (when size() == max_pages).
  StatePage& add(const Hash32& root);
  void drop_last();
  void clear();
  size_t size() const { return size_; }

 private:
  size_t slot_of(const Hash32& root) const;

  size_t max_pages_;
  size_t size_ = 0;
  std::deque<StatePage> pages_;  // grows to max_pages_ (never moving a page)
  std::vector<Hash32> roots_;    // roots_[i]: the root of pages_[i]
  std::vector<uint32_t> index_;  // open addressing: 0 free, else 1 + page index
};

}  // namespace imi::ledger

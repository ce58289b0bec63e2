// The state tree's node-shape cache (ledger/smt_cache.h): nothing is lost
// while the table may still grow (shapes and children's kinds come back as
// put), the byte bound holds, eviction at the bound
// takes the least recently used entry, and StateTree::warm() leaves the top
// levels the most recently used; the page memo (PageMemo) and the pages an
// update rewrites from it.
#include "ledger/smt_cache.h"

#include <doctest/doctest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "ledger/smt.h"
#include "tests/ledger/smt_test_util.h"

using namespace imi;
using namespace imi::ledger;
using testing::MemStore;

namespace {

Hash32 random_hash(std::mt19937_64& rng) {
  Hash32 h;
  for (auto& b : h) b = static_cast<uint8_t>(rng());
  return h;
}

NodeShapeCache::Shape shape_of(const Hash32& h) {
  NodeShapeCache::Shape s;
  s.leaf = (h[5] & 1) != 0;
  s.a = sha256(ByteView(h.data(), h.size()));
  s.b = h;
  if (!s.leaf) {
    s.a_kind = h[6] & 7;
    s.b_kind = h[7] & 7;
  }
  return s;
}

}  // namespace

TEST_CASE("smt cache: entries put while the table grows are all kept, with their shapes") {
  // Room for 2^16 entries; put 2^13. A 4-way table growing only at 75%
  // load used to evict from sets that filled early, losing a few percent.
  const size_t max_bytes = size_t{1} << 16 << 7;
  NodeShapeCache cache(max_bytes);
  REQUIRE(cache.capacity() == (size_t{1} << 16));
  std::mt19937_64 rng(11);
  std::vector<Hash32> hashes;
  for (size_t i = 0; i < cache.capacity() / 8; ++i) hashes.push_back(random_hash(rng));
  for (const Hash32& h : hashes) cache.put(h, shape_of(h));
  CHECK(cache.entries() == hashes.size());
  size_t found = 0;
  for (const Hash32& h : hashes) {
    NodeShapeCache::Shape s;
    if (!cache.get(h, s)) continue;
    NodeShapeCache::Shape want = shape_of(h);
    found += (s.leaf == want.leaf && s.a == want.a && s.b == want.b && s.a_kind == want.a_kind &&
              s.b_kind == want.b_kind);
  }
  CHECK(found == hashes.size());
  // The table could still grow (below the bound nothing may be evicted).
  CHECK(cache.bytes() < max_bytes / 2);
}

TEST_CASE("smt cache: a doubling moves entries a few sets at a time, losing none") {
  // 2^18 entries of room (26 MiB; tables past 2 MiB are mapped, not
  // memset); 2^15 put, so no set reaches the bound's eviction. Every entry
  // put so far must be found at every point, also
  // while entries are still in the old table, and a refreshed entry keeps
  // one copy with its new kinds.
  const size_t max_bytes = size_t{1} << 18 << 7;
  NodeShapeCache cache(max_bytes);
  std::mt19937_64 rng(23);
  std::vector<Hash32> hashes;
  size_t seen_moving = 0;
  size_t checked = 0;
  for (size_t i = 0; i < (size_t{1} << 15); ++i) {
    hashes.push_back(random_hash(rng));
    cache.put(hashes.back(), shape_of(hashes.back()));
    if (cache.moving()) {
      ++seen_moving;
      // Put again an earlier entry, likely still in the old table: it must
      // stay one entry, not gain a copy in the new one.
      cache.put(hashes[i / 2], shape_of(hashes[i / 2]));
      REQUIRE(cache.entries() == hashes.size());
    }
    if (i % 97 == 0) {
      // Spot-check a spread of earlier entries (lookups also move sets).
      for (size_t k = 0; k < hashes.size(); k += 1 + hashes.size() / 64) {
        NodeShapeCache::Shape got;
        REQUIRE(cache.get(hashes[k], got));
        CHECK(got.a == shape_of(hashes[k]).a);
        ++checked;
      }
    }
  }
  CHECK(seen_moving > 0);  // doublings happened, and were spread over puts
  CHECK(checked > 1000);
  CHECK(cache.entries() == hashes.size());
  // Refresh one entry with children kinds now known: still one entry.
  NodeShapeCache::Shape kinds = shape_of(hashes[5]);
  kinds.a_kind = 3;
  kinds.b_kind = 5;
  cache.put(hashes[5], kinds);
  CHECK(cache.entries() == hashes.size());
  size_t found = 0;
  for (const Hash32& h : hashes) {
    NodeShapeCache::Shape got;
    found += cache.get(h, got) && got.b == shape_of(h).b;
  }
  CHECK(found == hashes.size());
  NodeShapeCache::Shape got;
  REQUIRE(cache.get(hashes[5], got));
  CHECK(got.a_kind == 3);
  CHECK(got.b_kind == 5);
  // Lookups alone finish the move and release the old table.
  for (int k = 0; k < 200000 && cache.moving(); ++k) cache.get(hashes[k % hashes.size()], got);
  CHECK_FALSE(cache.moving());
  CHECK(cache.bytes() <= max_bytes);
}

TEST_CASE("smt cache: at the byte bound a full set evicts its least recently used entry") {
  NodeShapeCache cache(4096);  // 4 sets of 8 entries
  REQUIRE(cache.capacity() == 32);
  std::mt19937_64 rng(12);
  // Distinct hashes of set 0 (the set is chosen by the first bytes).
  std::vector<Hash32> same_set;
  while (same_set.size() < 9) {
    Hash32 h = random_hash(rng);
    h[0] &= 0xfc;  // the low bits of the first little-endian word pick the set
    same_set.push_back(h);
  }
  for (size_t i = 0; i < 8; ++i) cache.put(same_set[i], shape_of(same_set[i]));
  cache.touch(same_set[0]);  // now same_set[1] is the oldest
  cache.put(same_set[8], shape_of(same_set[8]));
  NodeShapeCache::Shape s;
  CHECK(cache.get(same_set[0], s));
  CHECK_FALSE(cache.get(same_set[1], s));
  for (size_t i = 2; i < 9; ++i) CHECK(cache.get(same_set[i], s));
  CHECK(cache.bytes() <= 4096);
  // A put of a cached node keeps it, learning its children's kinds if given.
  NodeShapeCache::Shape internal{false, same_set[2], same_set[3]};
  cache.put(same_set[4], internal);
  REQUIRE(cache.get(same_set[4], s));
  CHECK(s.a == shape_of(same_set[4]).a);
  internal.a_kind = 5;
  cache.put(same_set[4], internal);
  REQUIRE(cache.get(same_set[4], s));
  CHECK(s.a_kind == 5);
  // The empty subtree (all zero) is never cached, and a zero-byte cache holds nothing.
  cache.put(Hash32{}, shape_of(Hash32{}));
  CHECK_FALSE(cache.get(Hash32{}, s));
  NodeShapeCache none(0);
  none.put(same_set[0], shape_of(same_set[0]));
  CHECK_FALSE(none.get(same_set[0], s));
  CHECK(none.capacity() == 0);
}

TEST_CASE("smt cache: after warm() the top levels survive a full cache; reads of them stop") {
  MemStore store;
  Hash32 root{};
  {
    StateTree builder(store, StateTreeOptions{.cache_bytes = 0});
    std::vector<StateWrite> writes;
    for (int i = 0; i < 3000; ++i) writes.push_back({"app", "k" + std::to_string(i), "1"});
    root = *builder.update(root, writes, store.nodes);
  }
  // 256 entries: far fewer than the tree's ~6,000 nodes. Warm past the
  // capacity, so the last (deepest) nodes loaded evict the oldest ones.
  StateTree tree(store, StateTreeOptions{.cache_bytes = 256 * 104});
  REQUIRE(tree.cache_capacity() == 256);
  auto warmed = tree.warm(root, 400);
  REQUIRE(warmed);
  CHECK(*warmed == 400);
  // The top 6 levels (63 nodes: 3,000 keys fill them) are still cached:
  // loading them again, top level first, reads nothing.
  store.reads = 0;
  auto again = tree.warm(root, 63);
  REQUIRE(again);
  CHECK(*again == 63);
  CHECK(store.reads == 0);
}

TEST_CASE("smt page memo: finds what was added, forgets on clear, starts over when full") {
  PageMemo memo(4);
  std::mt19937_64 rng(5);
  std::vector<Hash32> roots;
  for (int i = 0; i < 6; ++i) roots.push_back(random_hash(rng));
  CHECK(memo.find(roots[0]) == nullptr);
  for (int i = 0; i < 4; ++i) memo.add(roots[i]).held = static_cast<uint16_t>(i + 2);
  CHECK(memo.size() == 4);
  for (int i = 0; i < 4; ++i) {
    const StatePage* page = memo.find(roots[i]);
    REQUIRE(page != nullptr);
    CHECK(page->held == i + 2);
  }
  CHECK(memo.find(roots[4]) == nullptr);
  // A page whose decoding failed is dropped; the others stay.
  memo.drop_last();
  CHECK(memo.find(roots[3]) == nullptr);
  CHECK(memo.find(roots[2]) != nullptr);
  memo.add(roots[3]);
  // Full: the next add starts over.
  memo.add(roots[4]).held = 99;
  CHECK(memo.size() == 1);
  CHECK(memo.find(roots[0]) == nullptr);
  REQUIRE(memo.find(roots[4]) != nullptr);
  CHECK(memo.find(roots[4])->held == 99);
  memo.clear();
  CHECK(memo.size() == 0);
  CHECK(memo.find(roots[4]) == nullptr);
}

TEST_CASE(
    "smt: pages rewritten from the page memo, also when it starts over, match a cached tree") {
  // With no cache every node comes from pages read in the update itself, so
  // emit_page copies unchanged nodes and leaves from the memo; a batch this
  // large reads far more pages than the memo holds, so it starts over
  // mid-update. Roots and every entry written must equal those of a tree
  // that has every node cached, and the root the one computed from scratch.
  std::mt19937_64 rng(17);
  MemStore store;
  std::map<std::string, std::string> model;
  Hash32 root{};
  {
    StateTree builder(store);
    std::vector<StateWrite> writes;
    for (int i = 0; i < 20000; ++i) {
      writes.push_back({"app", "k" + std::to_string(i), std::to_string(i)});
      model["k" + std::to_string(i)] = std::to_string(i);
    }
    NodeWriteSet out;
    root = *builder.update(root, writes, out);
    store.commit(std::move(out));
  }
  StateTree cached(store);
  REQUIRE(*cached.warm(root, 1000000) > 20000);
  StateTree none(store, StateTreeOptions{.cache_bytes = 0});
  for (int round = 0; round < 3; ++round) {
    std::vector<StateWrite> writes;
    for (int i = 0; i < 3000; ++i) {
      const std::string key = "k" + std::to_string(rng() % 30000);
      switch (rng() % 3) {
        case 0:
          writes.push_back({"app", key, std::nullopt});
          model.erase(key);
          break;
        default: {
          const std::string value = std::to_string(rng());
          writes.push_back({"app", key, value});
          model[key] = value;
        }
      }
    }
    NodeWriteSet from_memo, from_cache;
    store.reads = 0;
    auto r1 = none.update(root, writes, from_memo);
    REQUIRE(r1);
    CHECK(store.reads > 1000);  // well past the memo's 256 pages
    auto r2 = cached.update(root, writes, from_cache);
    REQUIRE(r2);
    CHECK(*r1 == *r2);
    std::vector<std::pair<Hash32, Hash32>> leaves;
    for (const auto& [k, v] : model) leaves.push_back({state_path("app", k), sha256(v)});
    CHECK(*r1 == testing::root_of_leaves(leaves, 0));
    CHECK(from_memo.size() == from_cache.size());
    for (const auto& [hash, bytes] : from_cache.nodes()) {
      const std::string* same = from_memo.find(hash);
      REQUIRE(same != nullptr);
      CHECK(*same == bytes);
    }
    store.commit(std::move(from_memo));
    root = *r1;
  }
  for (const auto& [k, v] : model) CHECK(**none.get(root, "app", k) == v);
}

TEST_CASE("node write set: put adds or replaces, find and merge see every entry once") {
  std::mt19937_64 rng(3);
  NodeWriteSet set;
  CHECK(set.find(random_hash(rng)) == nullptr);
  std::vector<Hash32> hashes;
  set.reserve(10);
  // Far past the reservation, so the index grows several times.
  for (int i = 0; i < 5000; ++i) {
    hashes.push_back(random_hash(rng));
    set.put(hashes.back(), std::to_string(i));
  }
  set.put(hashes[7], "replaced");
  CHECK(set.size() == hashes.size());
  CHECK(*set.find(hashes[7]) == "replaced");
  CHECK(*set.find(hashes[4999]) == "4999");
  CHECK(set.nodes().front().first == hashes[0]);
  NodeWriteSet other;
  other.put(hashes[7], "other");  // the same hash: kept as it was
  const Hash32 extra = random_hash(rng);
  other.put(extra, "extra");
  set.merge(std::move(other));
  CHECK(other.empty());
  CHECK(set.size() == hashes.size() + 1);
  CHECK(*set.find(hashes[7]) == "replaced");
  CHECK(*set.find(extra) == "extra");
  NodeWriteSet moved;
  moved.merge(std::move(set));
  CHECK(moved.size() == hashes.size() + 1);
  CHECK(*moved.find(hashes[100]) == "100");
  moved.clear();
  CHECK(moved.find(hashes[100]) == nullptr);
  moved.put(hashes[100], "again");
  CHECK(moved.size() == 1);
}

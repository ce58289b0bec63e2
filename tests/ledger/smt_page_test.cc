// The state tree's pages (ledger/smt_store.h, issue 2): internal nodes are
// stored only inside 4-level pages, so these tests read trees back through a
// cold tree (no cache, or a cache of a few nodes) over what was written, which
// only works if every page is complete. Tampered pages are corrupt nodes;
// deletes that move leaves up across page boundaries match a model computed
// from scratch; every key of every earlier version stays readable; a tree
// reopened from LevelDB with a cold cache gives the same roots, proofs and
// pages; and a missed leaf costs one read.
#include <doctest/doctest.h>
#include <leveldb/db.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>

#include "base/sha256.h"
#include "ledger/smt.h"
#include "tests/ledger/smt_test_util.h"

using namespace imi;
using namespace imi::ledger;
using testing::MemStore;

namespace {

using Model = std::map<std::string, std::string>;  // key of app "a" -> value

// The root computed from scratch from the full key set, as DESIGN states it.
Hash32 ref_root(const Model& m) {
  std::vector<std::pair<Hash32, Hash32>> leaves;
  for (const auto& [k, v] : m) leaves.emplace_back(state_path("a", k), sha256(v));
  return testing::root_of_leaves(leaves, 0);
}

// Applies `writes` with `tree`, commits the entries to `store`, and keeps
// `model` in step.
Hash32 apply(StateTree& tree, MemStore& store, const Hash32& root,
             const std::vector<StateWrite>& writes, Model& model) {
  NodeWriteSet out;
  auto next = tree.update(root, writes, out);
  REQUIRE(next);
  store.commit(std::move(out));
  for (const auto& w : writes) {
    if (w.value) {
      model[w.key] = *w.value;
    } else {
      model.erase(w.key);
    }
  }
  return *next;
}

// Reads every key of `model` (and absent ones) at `root` through `tree`, and
// checks a proof of each.
void check_all(StateTree& tree, const Hash32& root, const Model& model) {
  for (const auto& [k, v] : model) {
    auto got = tree.get(root, "a", k);
    REQUIRE(got);
    REQUIRE(got->has_value());
    CHECK(**got == v);
    auto p = tree.prove(root, "a", k);
    REQUIRE(p);
    CHECK(verify_state_proof(root, "a", k, v, p->proof));
  }
  for (int i = 0; i < 10; ++i) {
    const std::string k = "absent" + std::to_string(i);
    auto got = tree.get(root, "a", k);
    REQUIRE(got);
    CHECK_FALSE(got->has_value());
    auto p = tree.prove(root, "a", k);
    REQUIRE(p);
    CHECK(verify_state_proof(root, "a", k, std::nullopt, p->proof));
  }
}

// The node at depth `depth` on the path of `key`, folded up from its proof.
Hash32 node_on_path(StateTree& tree, const Hash32& root, const std::string& key, size_t depth) {
  auto p = tree.prove(root, "a", key);
  REQUIRE(p);
  REQUIRE(p->proof.leaf);
  REQUIRE(p->proof.siblings.size() > depth);
  const Hash32 path = state_path("a", key);
  Hash32 h = state_leaf_hash(p->proof.leaf->path, p->proof.leaf->value_hash);
  for (size_t i = p->proof.siblings.size(); i-- > depth;) {
    h = path_bit(path, i) == 0 ? state_internal_hash(h, p->proof.siblings[i])
                               : state_internal_hash(p->proof.siblings[i], h);
  }
  return h;
}

size_t common_prefix(const Hash32& a, const Hash32& b) {
  size_t n = 0;
  while (n < 256 && path_bit(a, n) == path_bit(b, n)) ++n;
  return n;
}

}  // namespace

TEST_CASE("smt pages: a tampered page is a corrupt node, never a wrong answer") {
  MemStore store;
  StateTree writer(store, StateTreeOptions{.cache_bytes = 0});
  Model model;
  std::vector<StateWrite> w;
  for (int i = 0; i < 300; ++i) w.push_back({"a", "k" + std::to_string(i), std::to_string(i)});
  const Hash32 root = apply(writer, store, Hash32{}, w, model);
  // The root page, and the page at depth 4 on k0's path.
  const Hash32 deeper = node_on_path(writer, root, "k0", 4);
  for (const Hash32& page : {root, deeper}) {
    CAPTURE(to_hex(page));
    const std::string original = *store.nodes.find(page);
    REQUIRE(original[0] == '\x02');
    std::vector<std::string> variants;
    for (size_t at : {size_t{1}, size_t{2}, size_t{3}, size_t{40}, original.size() - 1}) {
      std::string v = original;
      v[at] ^= 0x04;
      variants.push_back(v);
    }
    variants.push_back(original.substr(0, original.size() - 32));  // a hash short
    variants.push_back(original + std::string(32, '\0'));          // a hash too many
    variants.push_back(original.substr(0, 3));                     // no hashes
    variants.push_back("\x01" + original.substr(1));               // not a page tag
    variants.push_back(std::string("\x02\x00\x00", 3));            // no positions
    for (const std::string& v : variants) {
      store.nodes.put(page, v);
      StateTree cold(store, StateTreeOptions{.cache_bytes = 0});
      CHECK(cold.get(root, "a", "k0").status().code() == "state.corrupt_node");
      CHECK(cold.prove(root, "a", "k0").status().code() == "state.corrupt_node");
      std::vector<StateWrite> change{{"a", "k0", "changed"}};
      NodeWriteSet out;
      CHECK(cold.update(root, change, out).status().code() == "state.corrupt_node");
    }
    store.nodes.put(page, original);
  }
  StateTree cold(store, StateTreeOptions{.cache_bytes = 0});
  check_all(cold, root, model);
  // A page where a leaf is expected (below a page root's depth) is corrupt.
  const Hash32 leaf = state_leaf_hash(state_path("a", "k0"), sha256("0"));
  const std::string leaf_bytes = *store.nodes.find(leaf);
  store.nodes.put(leaf, *store.nodes.find(deeper));
  CHECK(cold.get(root, "a", "k0").status().code() == "state.corrupt_node");
  store.nodes.put(leaf, leaf_bytes);
  CHECK(**cold.get(root, "a", "k0") == "0");
}

TEST_CASE("smt pages: a deleted sibling moves a leaf up across page boundaries") {
  // Keys whose paths share exactly `k` bits with another key's and exactly
  // `j` bits with a third: {A, B, C} puts A and B at depth k + 1 and C at
  // j + 1; deleting B moves A up to depth j + 1.
  std::vector<std::pair<Hash32, std::string>> pool;
  for (int i = 0; i < 8192; ++i) {
    const std::string k = "p" + std::to_string(i);
    pool.emplace_back(state_path("a", k), k);
  }
  std::sort(pool.begin(), pool.end());
  for (size_t k = 1; k <= 13; ++k) {
    // A pair sharing exactly k bits: some neighbours in sorted order do.
    const std::pair<Hash32, std::string>*a = nullptr, *b = nullptr;
    for (size_t i = 0; i + 1 < pool.size() && !a; ++i) {
      if (common_prefix(pool[i].first, pool[i + 1].first) == k) a = &pool[i], b = &pool[i + 1];
    }
    REQUIRE(a);
    for (size_t j = 0; j < k; ++j) {
      CAPTURE(k);
      CAPTURE(j);
      const std::pair<Hash32, std::string>* c = nullptr;
      for (const auto& e : pool) {
        if (common_prefix(e.first, a->first) == j) {
          c = &e;
          break;
        }
      }
      REQUIRE(c);
      MemStore store;
      StateTree tree(store, StateTreeOptions{.cache_bytes = (k + j) % 2 ? 0u : 1u << 20});
      StateTree cold(store, StateTreeOptions{.cache_bytes = 0});
      Model model;
      std::vector<StateWrite> all{
          {"a", a->second, "A"}, {"a", b->second, "B"}, {"a", c->second, "C"}};
      const Hash32 full = apply(tree, store, Hash32{}, all, model);
      CHECK(full == ref_root(model));
      CHECK(cold.prove(full, "a", a->second)->proof.siblings.size() == k + 1);
      CHECK(cold.prove(full, "a", c->second)->proof.siblings.size() == j + 1);
      check_all(cold, full, model);

      Hash32 root = apply(tree, store, full, {{"a", b->second, std::nullopt}}, model);
      CHECK(root == ref_root(model));
      CHECK(cold.prove(root, "a", a->second)->proof.siblings.size() == j + 1);
      check_all(cold, root, model);
      // Adding B back restores the same root (and its pages are readable).
      root = apply(tree, store, root, {{"a", b->second, "B"}}, model);
      CHECK(root == full);
      check_all(cold, root, model);
      // Deleting C leaves A and B at depth k + 1 under a chain of internal
      // nodes with one empty child, spanning pages.
      root = apply(tree, store, root, {{"a", c->second, std::nullopt}}, model);
      CHECK(root == ref_root(model));
      CHECK(cold.prove(root, "a", a->second)->proof.siblings.size() == k + 1);
      check_all(cold, root, model);
      // Deleting A too leaves B alone: the root is its leaf.
      root = apply(tree, store, root, {{"a", a->second, std::nullopt}}, model);
      CHECK(root == state_leaf_hash(b->first, sha256("B")));
      check_all(cold, root, model);
    }
  }
}

TEST_CASE("smt pages: random deletes and inserts at several sizes match the model") {
  std::mt19937_64 rng(21);
  for (size_t n : {2, 3, 5, 9, 17, 40, 150, 700, 3000}) {
    CAPTURE(n);
    MemStore store;
    StateTree tree(store);
    StateTree cold(store, StateTreeOptions{.cache_bytes = 0});
    StateTree tiny(store, StateTreeOptions{.cache_bytes = 4096});
    Model model;
    std::vector<StateWrite> w;
    for (size_t i = 0; i < n; ++i) w.push_back({"a", "k" + std::to_string(rng()), "v"});
    Hash32 root = apply(tree, store, Hash32{}, w, model);
    for (int round = 0; round < 6; ++round) {
      CAPTURE(round);
      // Delete about a third of the keys, change some, add a few.
      std::vector<StateWrite> batch;
      for (const auto& [k, v] : model) {
        const uint64_t r = rng() % 6;
        if (r < 2) batch.push_back({"a", k, std::nullopt});
        if (r == 2) batch.push_back({"a", k, "changed" + std::to_string(round)});
      }
      for (size_t i = 0; i < 1 + n / 10; ++i) {
        batch.push_back({"a", "k" + std::to_string(rng()), "new"});
      }
      std::shuffle(batch.begin(), batch.end(), rng);
      // The tiny-cache tree computes the same root and the same entries.
      NodeWriteSet tiny_out;
      auto tiny_root = tiny.update(root, batch, tiny_out);
      root = apply(tree, store, root, batch, model);
      REQUIRE(tiny_root);
      CHECK(*tiny_root == root);
      CHECK(root == ref_root(model));
      for (const auto& [hash, bytes] : tiny_out.nodes()) {
        const std::string* stored = store.nodes.find(hash);
        REQUIRE(stored);
        CHECK(*stored == bytes);
      }
      check_all(cold, root, model);
    }
    std::vector<StateWrite> wipe;
    for (const auto& [k, v] : model) wipe.push_back({"a", k, std::nullopt});
    CHECK(apply(tree, store, root, wipe, model) == Hash32{});
  }
}

TEST_CASE("smt pages: every key of every earlier version stays readable after many updates") {
  std::mt19937_64 rng(22);
  MemStore store;
  StateTree tree(store);
  Model model;
  std::vector<std::pair<Hash32, Model>> versions;
  Hash32 root{};
  for (int v = 0; v < 40; ++v) {
    std::vector<StateWrite> batch;
    for (int i = 0; i < 60; ++i) batch.push_back({"a", "k" + std::to_string(rng() % 800), "v"});
    for (const auto& [k, val] : model) {
      if (rng() % 8 == 0) batch.push_back({"a", k, std::nullopt});
      if (rng() % 8 == 0) batch.push_back({"a", k, std::to_string(v)});
    }
    root = apply(tree, store, root, batch, model);
    versions.emplace_back(root, model);
  }
  StateTree cold(store, StateTreeOptions{.cache_bytes = 0});
  StateTree tiny(store, StateTreeOptions{.cache_bytes = 4096});
  for (const auto& [r, m] : versions) {
    CHECK(r == ref_root(m));
    check_all(cold, r, m);
    check_all(tiny, r, m);
  }
}

TEST_CASE("smt pages: a tree reopened from LevelDB with a cold cache gives the same roots") {
  auto dir = std::filesystem::temp_directory_path() /
             ("imi_smt_page_test_" + std::to_string(std::random_device{}()));
  std::filesystem::remove_all(dir);
  leveldb::Options opts;
  opts.create_if_missing = true;
  std::mt19937_64 rng(23);
  std::vector<Hash32> roots;
  std::vector<std::vector<StateWrite>> blocks;
  for (int b = 0; b < 6; ++b) {
    std::vector<StateWrite> w;
    for (int i = 0; i < 400; ++i) {
      const std::string k = "k" + std::to_string(rng() % 2000);
      w.push_back({"a", k, rng() % 4 == 0 ? std::nullopt : std::optional(std::to_string(b))});
    }
    blocks.push_back(w);
  }
  std::map<std::string, std::string> next_entries;  // the last block's entries
  std::map<std::pair<size_t, std::string>, StateProof> proofs;
  {
    leveldb::DB* raw = nullptr;
    REQUIRE(leveldb::DB::Open(opts, dir.string(), &raw).ok());
    std::unique_ptr<leveldb::DB> db(raw);
    LevelDbNodeStore store(*db);
    StateTree tree(store);
    Hash32 root{};
    // All blocks but the last are committed; the last one is only computed.
    for (size_t b = 0; b < blocks.size(); ++b) {
      NodeWriteSet out;
      root = *tree.update(root, blocks[b], out);
      roots.push_back(root);
      if (b + 1 == blocks.size()) {
        for (const auto& [hash, bytes] : out.nodes()) next_entries[to_hex(hash)] = bytes;
        break;
      }
      leveldb::WriteBatch batch;
      out.write_to(batch);
      LevelDbNodeStore::put_root(batch, b, root);
      REQUIRE(db->Write(leveldb::WriteOptions(), &batch).ok());
      for (int i = 0; i < 2000; i += 37) {
        const std::string k = "k" + std::to_string(i);
        proofs[{b, k}] = tree.prove(root, "a", k)->proof;
      }
    }
  }
  {
    leveldb::DB* raw = nullptr;
    REQUIRE(leveldb::DB::Open(opts, dir.string(), &raw).ok());
    std::unique_ptr<leveldb::DB> db(raw);
    LevelDbNodeStore store(*db);
    StateTree tree(store, StateTreeOptions{.cache_bytes = 4096});  // 32 nodes
    for (const auto& [at, proof] : proofs) {
      auto p = tree.prove(roots[at.first], "a", at.second);
      REQUIRE(p);
      CHECK(p->proof == proof);
    }
    // The last block again, from the cold cache: the same root and the same
    // entries (its pages take unchanged nodes from the pages on disk).
    NodeWriteSet out;
    auto root = tree.update(roots[roots.size() - 2], blocks.back(), out);
    REQUIRE(root);
    CHECK(*root == roots.back());
    std::map<std::string, std::string> entries;
    for (const auto& [hash, bytes] : out.nodes()) entries[to_hex(hash)] = bytes;
    CHECK(entries == next_entries);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("smt pages: a missed leaf costs one read, a missed path one read a page") {
  MemStore store;
  Model model;
  Hash32 root{};
  {
    StateTree writer(store);
    std::vector<StateWrite> w;
    for (int i = 0; i < 3000; ++i) w.push_back({"a", "k" + std::to_string(i), "v"});
    root = apply(writer, store, root, w, model);
  }
  // Entries: the leaves and the pages, far fewer than the ~3,000 internal nodes.
  size_t pages = 0;
  for (const auto& [hash, bytes] : store.nodes.nodes()) pages += bytes[0] == '\x02';
  CHECK(store.nodes.size() - pages == 3000);
  CHECK(pages < 1500);
  // With every node's shape cached, reading a value reads its leaf only.
  StateTree warm(store);
  REQUIRE(*warm.warm(root, 100000) > 3000);
  store.reads = 0;
  for (int i = 0; i < 100; ++i) CHECK(**warm.get(root, "a", "k" + std::to_string(i)) == "v");
  CHECK(store.reads == 100);
  // From a cold cache: one read a page on the path, and the leaf.
  StateTree cold(store, StateTreeOptions{.cache_bytes = 0});
  for (int i = 0; i < 100; ++i) {
    const std::string k = "k" + std::to_string(i);
    const size_t depth = cold.prove(root, "a", k)->proof.siblings.size();
    store.reads = 0;
    CHECK(**cold.get(root, "a", k) == "v");
    CHECK(store.reads == (depth + 3) / 4 + 1);
  }
  // An absent key's proof reads the pages only: they hold their leaves' shapes.
  for (int i = 0; i < 100; ++i) {
    const std::string k = "absent" + std::to_string(i);
    store.reads = 0;
    auto p = cold.prove(root, "a", k);
    REQUIRE(p);
    CHECK(store.reads == (p->proof.siblings.size() + 3) / 4);
  }
}

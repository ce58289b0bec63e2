// Sparse Merkle state tree: roots against a naive reference computed from
// the whole key set, canonical shape under any order of inserts and deletes,
// proofs of membership and absence (also against earlier roots), LevelDB
// persistence across a reopen, overlays of uncommitted blocks, O(k log N)
// reads, corrupt and missing nodes, malformed proofs, and
// tests/vectors/state_proofs.json.
#include "ledger/smt.h"

#include <doctest/doctest.h>
#include <leveldb/db.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>

#include "base/sha256.h"

using namespace imi;
using namespace imi::ledger;

namespace {

// Committed nodes in memory; counts reads.
class MemStore : public NodeReader {
 public:
  Result<std::optional<std::string>> read_node(const Hash32& hash) const override {
    ++reads;
    if (const std::string* b = nodes.find(hash)) return std::optional<std::string>(*b);
    return std::optional<std::string>();
  }
  void commit(NodeWriteSet&& set) { nodes.merge(std::move(set)); }
  NodeWriteSet nodes;
  mutable size_t reads = 0;
};

using Model = std::map<std::pair<std::string, std::string>, std::string>;

// The root computed from scratch from the full key set, as DESIGN states it.
Hash32 ref_root(const std::vector<std::pair<Hash32, Hash32>>& leaves, size_t depth) {
  if (leaves.empty()) return Hash32{};
  if (leaves.size() == 1) return state_leaf_hash(leaves[0].first, leaves[0].second);
  std::vector<std::pair<Hash32, Hash32>> l, r;
  for (const auto& e : leaves) (path_bit(e.first, depth) == 0 ? l : r).push_back(e);
  return state_internal_hash(ref_root(l, depth + 1), ref_root(r, depth + 1));
}

Hash32 ref_root(const Model& m) {
  std::vector<std::pair<Hash32, Hash32>> leaves;
  for (const auto& [k, v] : m) leaves.emplace_back(state_path(k.first, k.second), sha256(v));
  return ref_root(leaves, 0);
}

std::vector<StateWrite> writes_of(const Model& m) {
  std::vector<StateWrite> w;
  for (const auto& [k, v] : m) w.push_back({k.first, k.second, v});
  return w;
}

Model random_model(std::mt19937_64& rng, size_t n) {
  Model m;
  for (size_t i = 0; i < n; ++i)
    m[{"app" + std::to_string(rng() % 3), "k" + std::to_string(rng() % (4 * n + 1))}] =
        std::to_string(rng());
  return m;
}

Status check_proof(StateTree& t, const Hash32& root, const std::string& app,
                   const std::string& key) {
  auto p = t.prove(root, app, key);
  REQUIRE(p);
  auto v = p->value ? std::optional<std::string_view>(*p->value) : std::nullopt;
  // The JSON form round-trips and verifies the same.
  auto back = state_proof_from_json(state_proof_to_json(p->proof));
  REQUIRE(back);
  CHECK(*back == p->proof);
  return verify_state_proof(root, app, key, v, p->proof);
}

}  // namespace

TEST_CASE("smt: the empty tree has the zero root and proves every key absent") {
  MemStore store;
  StateTree tree(store);
  NodeWriteSet out;
  auto root = tree.update(Hash32{}, {}, out);
  REQUIRE(root);
  CHECK(*root == Hash32{});
  CHECK(tree.get(Hash32{}, "anchor", "x")->has_value() == false);
  auto p = tree.prove(Hash32{}, "anchor", "x");
  REQUIRE(p);
  CHECK(p->proof.siblings.empty());
  CHECK_FALSE(p->proof.leaf);
  CHECK(verify_state_proof(Hash32{}, "anchor", "x", std::nullopt, p->proof));
  CHECK(verify_state_proof(Hash32{}, "anchor", "x", "1", p->proof).code() ==
        "state.proof_not_membership");
  // Deleting from the empty tree creates nothing.
  std::vector<StateWrite> del{{"anchor", "x", std::nullopt}};
  CHECK(*tree.update(Hash32{}, del, out) == Hash32{});
  CHECK(out.empty());
}

TEST_CASE("smt: a single leaf is the root (leaf shortcut)") {
  MemStore store;
  StateTree tree(store);
  NodeWriteSet out;
  std::vector<StateWrite> w{{"anchor", "doc", R"({"height":1})"}};
  auto root = tree.update(Hash32{}, w, out);
  REQUIRE(root);
  CHECK(*root == state_leaf_hash(state_path("anchor", "doc"), sha256(R"({"height":1})")));
  store.commit(std::move(out));
  CHECK(**tree.get(*root, "anchor", "doc") == R"({"height":1})");
  auto p = tree.prove(*root, "anchor", "doc");
  REQUIRE(p);
  CHECK(p->proof.siblings.empty());
  CHECK(verify_state_proof(*root, "anchor", "doc", R"({"height":1})", p->proof));
  CHECK(verify_state_proof(*root, "anchor", "doc", R"({"height":2})", p->proof).code() ==
        "state.proof_not_membership");
  CHECK(verify_state_proof(*root, "anchor", "doc", std::nullopt, p->proof).code() ==
        "state.proof_not_absence");
  // Any other key lands on this leaf: absence by another leaf.
  auto q = tree.prove(*root, "anchor", "other");
  REQUIRE(q);
  CHECK_FALSE(q->value);
  REQUIRE(q->proof.leaf);
  CHECK(q->proof.leaf->path == state_path("anchor", "doc"));
  CHECK(verify_state_proof(*root, "anchor", "other", std::nullopt, q->proof));
}

TEST_CASE("smt: the root depends only on the key set, not on order or history") {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 20; ++round) {
    CAPTURE(round);
    Model target = random_model(rng, 1 + rng() % 120);
    MemStore store;
    StateTree tree(store, StateTreeOptions{.cache_bytes = (round % 2) ? 0u : 1u << 20});
    // Build through random batches with junk keys that are later deleted
    // and values that are later overwritten.
    std::vector<StateWrite> all = writes_of(target);
    for (auto& w : writes_of(random_model(rng, 40)))
      all.push_back({w.app, w.key + "junk", w.value});
    std::shuffle(all.begin(), all.end(), rng);
    Hash32 root{};
    Model current;
    size_t at = 0;
    while (at < all.size()) {
      size_t n = std::min<size_t>(1 + rng() % 30, all.size() - at);
      std::vector<StateWrite> batch(all.begin() + at, all.begin() + at + n);
      at += n;
      NodeWriteSet out;
      root = *tree.update(root, batch, out);
      store.commit(std::move(out));
      for (auto& w : batch) current[{w.app, w.key}] = *w.value;
      CHECK(root == ref_root(current));
    }
    // Overwrite back the target values and delete every junk key, in one batch.
    std::vector<StateWrite> fix;
    for (const auto& [k, v] : current) {
      auto it = target.find(k);
      fix.push_back({k.first, k.second,
                     it == target.end() ? std::nullopt : std::optional<std::string>(it->second)});
    }
    std::shuffle(fix.begin(), fix.end(), rng);
    NodeWriteSet out;
    root = *tree.update(root, fix, out);
    store.commit(std::move(out));
    CHECK(root == ref_root(target));
    for (const auto& [k, v] : target) CHECK(**tree.get(root, k.first, k.second) == v);
    // Deleting everything gives the empty tree again.
    std::vector<StateWrite> wipe;
    for (const auto& [k, v] : target) wipe.push_back({k.first, k.second, std::nullopt});
    NodeWriteSet out2;
    CHECK(*tree.update(root, wipe, out2) == Hash32{});
  }
}

TEST_CASE("smt: within a batch the last write of a key wins") {
  MemStore store;
  StateTree tree(store);
  NodeWriteSet out;
  std::vector<StateWrite> w{
      {"a", "k", "1"}, {"a", "j", "5"}, {"a", "k", "2"}, {"a", "j", std::nullopt}};
  auto root = tree.update(Hash32{}, w, out);
  REQUIRE(root);
  CHECK(*root == ref_root(Model{{{"a", "k"}, "2"}}));
}

TEST_CASE("smt: proofs of membership and absence, also against earlier roots") {
  std::mt19937_64 rng(11);
  MemStore store;
  StateTree tree(store);
  Model model = random_model(rng, 200);
  NodeWriteSet out;
  auto w = writes_of(model);
  Hash32 v1 = *tree.update(Hash32{}, w, out);
  store.commit(std::move(out));
  Model model1 = model;

  // Version 2 changes, deletes and adds keys.
  std::vector<StateWrite> changes;
  size_t i = 0;
  for (const auto& [k, v] : model1) {
    if (i % 3 == 0) changes.push_back({k.first, k.second, std::nullopt}), model.erase(k);
    if (i % 3 == 1) changes.push_back({k.first, k.second, "changed"}), model[k] = "changed";
    ++i;
  }
  for (int j = 0; j < 50; ++j)
    changes.push_back({"new", std::to_string(j), "n"}), model[{"new", std::to_string(j)}] = "n";
  Hash32 v2 = *tree.update(v1, changes, out);
  store.commit(std::move(out));
  CHECK(v2 == ref_root(model));

  size_t on_empty = 0, on_other_leaf = 0;
  for (auto [root, m] : {std::pair{v1, &model1}, std::pair{v2, &model}}) {
    for (const auto& [k, v] : *m) CHECK(check_proof(tree, root, k.first, k.second));
    for (int j = 0; j < 200; ++j) {
      std::string key = "absent" + std::to_string(j);
      auto p = tree.prove(root, "app0", key);
      REQUIRE(p);
      CHECK_FALSE(p->value);
      (p->proof.leaf ? on_other_leaf : on_empty)++;
      CHECK(verify_state_proof(root, "app0", key, std::nullopt, p->proof));
      CHECK_FALSE(verify_state_proof(root, "app0", key, "x", p->proof));
      // The same proof does not verify against the other version's root.
      CHECK_FALSE(verify_state_proof(root == v1 ? v2 : v1, "app0", key, std::nullopt, p->proof));
    }
  }
  CHECK(on_empty > 0);
  CHECK(on_other_leaf > 0);
  // A key deleted in version 2 is still provably present in version 1.
  const auto& [k0, val0] = *model1.begin();
  CHECK(verify_state_proof(v1, k0.first, k0.second, val0,
                           tree.prove(v1, k0.first, k0.second)->proof));
  CHECK(verify_state_proof(v2, k0.first, k0.second, std::nullopt,
                           tree.prove(v2, k0.first, k0.second)->proof));
}

TEST_CASE("smt: tampered proofs are rejected with the reason") {
  MemStore store;
  StateTree tree(store);
  NodeWriteSet out;
  Model m;
  for (int i = 0; i < 64; ++i) m[{"anchor", std::to_string(i)}] = std::to_string(i * i);
  auto w = writes_of(m);
  Hash32 root = *tree.update(Hash32{}, w, out);
  store.commit(std::move(out));
  StateProof p = tree.prove(root, "anchor", "7")->proof;
  REQUIRE(p.siblings.size() >= 2);
  REQUIRE(verify_state_proof(root, "anchor", "7", "49", p));

  StateProof t = p;
  t.siblings[1][0] ^= 1;
  CHECK(verify_state_proof(root, "anchor", "7", "49", t).code() == "state.proof_root_mismatch");
  t = p;
  t.siblings.pop_back();
  CHECK_FALSE(verify_state_proof(root, "anchor", "7", "49", t));
  t = p;
  t.siblings.push_back(Hash32{});
  CHECK_FALSE(verify_state_proof(root, "anchor", "7", "49", t));
  t = p;
  t.leaf->path[0] ^= 0x80;  // a leaf that cannot sit at this depth on this path
  CHECK(verify_state_proof(root, "anchor", "7", std::nullopt, t).code() ==
        "state.proof_leaf_misplaced");
  t = p;
  t.leaf.reset();  // claims an empty subtree where the leaf is
  CHECK(verify_state_proof(root, "anchor", "7", std::nullopt, t).code() ==
        "state.proof_root_mismatch");
  t = p;
  t.siblings.assign(257, Hash32{});
  CHECK(verify_state_proof(root, "anchor", "7", "49", t).code() == "state.proof_too_long");
}

TEST_CASE("smt: malformed proof JSON is an error, never a crash") {
  const std::string h(64, 'a');
  std::string many = R"({"leaf":null,"siblings":[)";
  for (int i = 0; i < 257; ++i) many += (i ? ",\"" : "\"") + h + "\"";
  many += "]}";
  auto r = state_proof_from_json(many);
  REQUIRE_FALSE(r);
  CHECK(r.status().code() == "state.proof_too_long");

  const std::string bad[] = {
      "",
      "null",
      "[]",
      "{",
      std::string(40000, '['),
      R"({"leaf":null})",
      R"({"siblings":[]})",
      R"({"leaf":null,"siblings":[],"x":1})",
      R"({"leaf":null,"leaf":null})",
      R"({"leaf":null,"siblings":{}})",
      R"({"leaf":null,"siblings":[1]})",
      R"({"leaf":null,"siblings":[")" + std::string(64, 'A') + R"("]})",
      R"({"leaf":null,"siblings":[")" + std::string(62, 'a') + R"("]})",
      R"({"leaf":null,"siblings":[")" + std::string(64, 'g') + R"("]})",
      R"({"leaf":1,"siblings":[]})",
      R"({"leaf":{"path":")" + h + R"("},"siblings":[]})",
      R"({"leaf":{"path":")" + h + R"(","value_hash":")" + h + R"(","x":0},"siblings":[]})",
      R"({"leaf":{"path":")" + h + R"(","value_hash":"00"},"siblings":[]})",
      R"({"leaf":null,"siblings":[]} trailing)",
      std::string(kStateProofMaxJsonBytes + 1, ' '),
  };
  for (const auto& text : bad) {
    CAPTURE(text.substr(0, 80));
    auto p = state_proof_from_json(text);
    REQUIRE_FALSE(p);
    CHECK(p.status().code() == "state.proof_json");
  }
  auto ok = state_proof_from_json(R"({"leaf":{"path":")" + h + R"(","value_hash":")" + h +
                                  R"("},"siblings":[")" + h + R"("]})");
  REQUIRE(ok);
  CHECK(ok->siblings.size() == 1);
  CHECK(state_proof_to_json(*ok) == R"({"leaf":{"path":")" + h + R"(","value_hash":")" + h +
                                        R"("},"siblings":[")" + h + R"("]})");
}

TEST_CASE("smt: an update reads and writes O(k log N) nodes, never O(N)") {
  MemStore store;
  StateTree tree(store, StateTreeOptions{.cache_bytes = 0});
  std::vector<StateWrite> w;
  for (int i = 0; i < 20000; ++i) w.push_back({"bench", std::to_string(i), "v"});
  NodeWriteSet out;
  Hash32 root = *tree.update(Hash32{}, w, out);
  store.commit(std::move(out));
  store.reads = 0;
  std::vector<StateWrite> block;
  for (int i = 0; i < 20; ++i) block.push_back({"bench", std::to_string(i * 997), "w"});
  for (int i = 0; i < 20; ++i) block.push_back({"bench", "new" + std::to_string(i), "w"});
  NodeWriteSet out2;
  tree.update(root, block, out2);
  // log2(20000) ≈ 14.3; a path is a few levels longer than that.
  CHECK(store.reads <= block.size() * 24);
  CHECK(out2.size() <= block.size() * 24);
}

TEST_CASE("smt: a second uncommitted block applies on top of the first through an overlay") {
  MemStore store;
  OverlayNodeReader overlay(store);
  StateTree tree(overlay, StateTreeOptions{.cache_bytes = 0});
  std::vector<StateWrite> b1{{"a", "1", "x"}, {"a", "2", "y"}, {"a", "3", "z"}};
  NodeWriteSet n1;
  Hash32 r1 = *tree.update(Hash32{}, b1, n1);
  overlay.push_layer(n1);
  std::vector<StateWrite> b2{{"a", "2", std::nullopt}, {"a", "4", "w"}};
  NodeWriteSet n2;
  Hash32 r2 = *tree.update(r1, b2, n2);
  overlay.push_layer(n2);
  CHECK(r2 == ref_root(Model{{{"a", "1"}, "x"}, {{"a", "3"}, "z"}, {{"a", "4"}, "w"}}));
  CHECK(**tree.get(r2, "a", "4") == "w");
  CHECK(store.nodes.empty());  // nothing persisted yet
  // Without the overlay the uncommitted root is unknown: an error, not a crash.
  StateTree bare(store);
  CHECK(bare.get(r2, "a", "4").status().code() == "state.missing_node");
  // Commit block 1: its layer moves to the store, block 2 still reads through.
  store.commit(std::move(n1));
  overlay.pop_oldest_layer();
  CHECK(overlay.layer_count() == 1);
  CHECK(check_proof(tree, r2, "a", "3"));
  CHECK(check_proof(tree, r1, "a", "2"));
}

TEST_CASE("smt: corrupt and unknown nodes are errors") {
  MemStore store;
  StateTree tree(store, StateTreeOptions{.cache_bytes = 0});
  std::vector<StateWrite> w{{"a", "1", "x"}, {"a", "2", "y"}};
  NodeWriteSet out;
  Hash32 root = *tree.update(Hash32{}, w, out);
  Hash32 unknown = sha256("nothing");
  CHECK(tree.get(unknown, "a", "1").status().code() == "state.missing_node");
  CHECK(tree.prove(unknown, "a", "1").status().code() == "state.missing_node");
  std::vector<StateWrite> w2{{"a", "3", "z"}};
  CHECK(tree.update(unknown, w2, out).status().code() == "state.missing_node");
  for (const auto& [hash, bytes] : out.nodes()) {
    std::string damaged = bytes;
    damaged.back() ^= 1;
    store.nodes.put(hash, damaged);
  }
  CHECK(tree.get(root, "a", "1").status().code() == "state.corrupt_node");
  store.nodes.put(root, "junk");
  CHECK(tree.prove(root, "a", "1").status().code() == "state.corrupt_node");
}

TEST_CASE("smt: nodes written through a LevelDB WriteBatch survive a reopen") {
  auto dir = std::filesystem::temp_directory_path() /
             ("imi_smt_test_" + std::to_string(std::random_device{}()));
  std::filesystem::remove_all(dir);
  leveldb::Options opts;
  opts.create_if_missing = true;
  Model model;
  for (int i = 0; i < 300; ++i) model[{"anchor", std::to_string(i)}] = std::to_string(i);
  Hash32 r1, r2;
  {
    leveldb::DB* raw = nullptr;
    REQUIRE(leveldb::DB::Open(opts, dir.string(), &raw).ok());
    std::unique_ptr<leveldb::DB> db(raw);
    LevelDbNodeStore store(*db);
    StateTree tree(store);
    auto w = writes_of(model);
    NodeWriteSet out;
    r1 = *tree.update(Hash32{}, w, out);
    leveldb::WriteBatch batch;
    out.write_to(batch);
    LevelDbNodeStore::put_root(batch, 1, r1);
    leveldb::WriteOptions sync;
    sync.sync = true;
    REQUIRE(db->Write(sync, &batch).ok());
    std::vector<StateWrite> w2{{"anchor", "0", std::nullopt}, {"anchor", "x", "new"}};
    NodeWriteSet out2;
    r2 = *tree.update(r1, w2, out2);
    leveldb::WriteBatch batch2;
    out2.write_to(batch2);
    LevelDbNodeStore::put_root(batch2, 2, r2);
    REQUIRE(db->Write(sync, &batch2).ok());
  }
  {
    leveldb::DB* raw = nullptr;
    REQUIRE(leveldb::DB::Open(opts, dir.string(), &raw).ok());
    std::unique_ptr<leveldb::DB> db(raw);
    LevelDbNodeStore store(*db);
    CHECK(**store.read_root(1) == r1);
    CHECK(**store.read_root(2) == r2);
    CHECK_FALSE(store.read_root(3)->has_value());
    StateTree tree(store);
    CHECK(**tree.get(r1, "anchor", "0") == "0");
    CHECK_FALSE(tree.get(r2, "anchor", "0")->has_value());
    CHECK(**tree.get(r2, "anchor", "x") == "new");
    CHECK(check_proof(tree, r1, "anchor", "0"));
    CHECK(check_proof(tree, r2, "anchor", "0"));
    CHECK(check_proof(tree, r2, "anchor", "299"));
  }
  std::filesystem::remove_all(dir);
}

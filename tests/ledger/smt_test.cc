// Sparse Merkle state tree: roots against a naive reference computed from
// the whole key set, canonical shape under any order of inserts and deletes,
// proofs of membership and absence (also against earlier roots), LevelDB
// persistence across a reopen, overlays of uncommitted blocks, O(k log N)
// reads, corrupt and missing nodes, malformed proofs, and
// tests/vectors/state_proofs.json.
#include "ledger/smt.h"

#include <doctest/doctest.h>
#include <leveldb/db.h>
#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "base/sha256.h"
#include "tests/ledger/smt_test_util.h"

using namespace imi;
using namespace imi::ledger;
using testing::MemStore;

namespace {

using Model = std::map<std::pair<std::string, std::string>, std::string>;

// The root computed from scratch from the full key set, as DESIGN states it.
Hash32 ref_root(const Model& m) {
  std::vector<std::pair<Hash32, Hash32>> leaves;
  for (const auto& [k, v] : m) leaves.emplace_back(state_path(k.first, k.second), sha256(v));
  return testing::root_of_leaves(leaves, 0);
}

std::vector<StateWrite> writes_of(const Model& m) {
  std::vector<StateWrite> w;
  for (const auto& [k, v] : m) w.push_back({k.first, k.second, v});
  return w;
}

Model random_model(std::mt19937_64& rng, size_t n) {
  Model m;
  for (size_t i = 0; i < n; ++i) {
    // Appended, not "app" + ...: GCC 12 -O3 warns falsely there (-Wrestrict).
    std::string app = "app", key = "k";
    app += std::to_string(rng() % 3);
    key += std::to_string(rng() % (4 * n + 1));
    m[{app, key}] = std::to_string(rng());
  }
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

// ---------------------------------------------------------------- vectors

namespace {

using Writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;
void str(Writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

struct VectorTree {
  std::string name;
  Model entries;
  Hash32 root{};
};

void write_case(Writer& w, const std::string& name, const Hash32& root, const std::string& app,
                const std::string& key, const std::optional<std::string>& value,
                const std::string& proof_json, bool valid) {
  w.StartObject();
  w.Key("name"), str(w, name);
  w.Key("root"), str(w, to_hex(root));
  w.Key("app"), str(w, app);
  w.Key("key"), str(w, key);
  w.Key("value_bytes");
  value ? str(w, *value) : (void)w.Null();
  w.Key("proof"), w.RawValue(proof_json.data(), proof_json.size(), rapidjson::kObjectType);
  w.Key("valid"), w.Bool(valid);
  w.EndObject();
}

// The contents of tests/vectors/state_proofs.json.
std::string generate_state_vectors() {
  std::vector<VectorTree> trees{{"empty", {}},
                                {"one entry", {{{"anchor", "doc-1"}, R"({"height":1})"}}},
                                {"six entries",
                                 {{{"anchor", "a"}, R"({"by":"did:imi:00","height":3})"},
                                  {{"governance", "limits"}, R"({"tx_bytes_max":65536})"},
                                  {{"share", "item/1"}, R"({"title":"梯子 ladder"})"},
                                  {{"share", "item/2"}, R"("")"},
                                  {{"endorse", "status/7"}, "1"},
                                  {{"anchor", "b"}, "true"}}},
                                {"fifty entries", {}}};
  for (int i = 0; i < 50; ++i)
    trees[3].entries[{"anchor", "doc-" + std::to_string(i)}] = std::to_string(i);
  MemStore store;
  StateTree tree(store);
  for (auto& t : trees) {
    NodeWriteSet out;
    auto w = writes_of(t.entries);
    t.root = *tree.update(Hash32{}, w, out);
    store.commit(std::move(out));
  }
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.SetIndent(' ', 1);
  w.StartObject();
  w.Key("description");
  str(w,
      "Sparse Merkle state tree (DESIGN 'state tree'). path = SHA-256(UTF-8 app + '/' + key); "
      "bit i of the path is bit (7 - i%8) of byte i/8 (most significant first); leaf hash = "
      "SHA-256(0x00 || path || SHA-256(value bytes)); internal = SHA-256(0x01 || left || right); "
      "empty subtree = 32 zero bytes; a subtree with one leaf hashes to that leaf's hash. "
      "trees[]: {name, entries: [{app, key, value_bytes}], root}: root is the hash of the tree "
      "holding exactly these entries. value_bytes is the exact UTF-8 string whose bytes are "
      "hashed (JCS of the stored value). proofs[]: {name, root, app, key, value_bytes: string "
      "(claims membership with this value) or null (claims absence), proof: {leaf: null | "
      "{path, value_hash}, siblings: [hex, root end first]}, valid}. A proof is valid iff: every "
      "hex is 64 lowercase characters and proof has exactly those members; at most 256 "
      "siblings; with d = number of siblings, a leaf's path agrees with the key's path in bits "
      "0..d-1; for membership the leaf is present with path = the key's path and value_hash = "
      "SHA-256(value_bytes); for absence the leaf is null or has a different path; and folding "
      "h = leaf hash (or 32 zero bytes if leaf is null) for i = d-1 down to 0 as h = "
      "internal(h, siblings[i]) if bit i of the key's path is 0, else internal(siblings[i], h), "
      "gives root.");
  w.Key("trees");
  w.StartArray();
  for (const auto& t : trees) {
    w.StartObject();
    w.Key("name"), str(w, t.name);
    w.Key("entries");
    w.StartArray();
    for (const auto& [k, v] : t.entries) {
      w.StartObject();
      w.Key("app"), str(w, k.first);
      w.Key("key"), str(w, k.second);
      w.Key("value_bytes"), str(w, v);
      w.EndObject();
    }
    w.EndArray();
    w.Key("root"), str(w, to_hex(t.root));
    w.EndObject();
  }
  w.EndArray();

  w.Key("proofs");
  w.StartArray();
  auto prove = [&](const VectorTree& t, const std::string& app, const std::string& key) {
    return *tree.prove(t.root, app, key);
  };
  // Finds absent keys of `t` whose path ends in an empty subtree and on another leaf.
  auto absent = [&](const VectorTree& t, bool on_leaf) {
    for (int j = 0;; ++j) {
      std::string key = "absent-" + std::to_string(j);
      if (prove(t, "anchor", key).proof.leaf.has_value() == on_leaf) return key;
    }
  };
  for (const auto& t : trees) {
    for (const auto& [k, v] : t.entries) {
      if (t.name == "fifty entries" && k.second != "doc-7" && k.second != "doc-42") continue;
      auto p = prove(t, k.first, k.second);
      write_case(w, t.name + ": " + k.first + "/" + k.second + " present", t.root, k.first,
                 k.second, v, state_proof_to_json(p.proof), true);
    }
    for (bool on_leaf : {false, true}) {
      if (t.entries.empty() && on_leaf) continue;
      if (t.entries.size() == 1 && !on_leaf) continue;
      std::string key = absent(t, on_leaf);
      write_case(w,
                 t.name + ": anchor/" + key + " absent, path ends " +
                     (on_leaf ? "on another leaf" : "in an empty subtree"),
                 t.root, "anchor", key, std::nullopt,
                 state_proof_to_json(prove(t, "anchor", key).proof), true);
    }
  }
  // Invalid cases, on the fifty-entry tree.
  const VectorTree& t = trees[3];
  StateProof good = prove(t, "anchor", "doc-7").proof;
  auto bad = [&](const std::string& why, const StateProof& p, std::optional<std::string> value,
                 const Hash32& root) {
    write_case(w, why, root, "anchor", "doc-7", value, state_proof_to_json(p), false);
  };
  bad("membership with a wrong value", good, "8", t.root);
  bad("absence claimed with a membership proof", good, std::nullopt, t.root);
  bad("proof against another tree's root", good, "7", trees[2].root);
  StateProof p = good;
  p.siblings[0][5] ^= 4;
  bad("tampered sibling", p, "7", t.root);
  p = good;
  p.siblings.pop_back();
  bad("sibling dropped", p, "7", t.root);
  p = good;
  p.siblings.push_back(Hash32{});
  bad("extra zero sibling", p, "7", t.root);
  p = good;
  p.leaf->path[0] ^= 0x80;
  bad("absence by a leaf that cannot sit on this path", p, std::nullopt, t.root);
  p = good;
  p.leaf.reset();
  bad("empty subtree claimed where the leaf is", p, std::nullopt, t.root);
  std::string json = state_proof_to_json(good);
  std::string upper = json;
  size_t at = upper.find("siblings\":[\"") + 12;
  for (size_t i = at; i < at + 64; ++i) upper[i] = static_cast<char>(std::toupper(upper[i]));
  write_case(w, "sibling in uppercase hex", t.root, "anchor", "doc-7", "7", upper, false);
  std::string shorter = json;
  shorter.erase(at, 2);
  write_case(w, "sibling of 31 bytes", t.root, "anchor", "doc-7", "7", shorter, false);
  std::string many = R"({"leaf":null,"siblings":[)";
  for (int i = 0; i < 257; ++i) many += (i ? ",\"" : "\"") + std::string(64, '0') + "\"";
  write_case(w, "257 siblings", t.root, "anchor", "doc-7", std::nullopt, many + "]}", false);
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString()) + "\n";
}

std::string state_vectors_path() {
  const char* dir = std::getenv("IMI_VECTORS_DIR");
  return std::string(dir ? dir : "tests/vectors") + "/state_proofs.json";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("state vectors: the file is what the generator writes (IMI_WRITE_VECTORS=1 rewrites)") {
  std::string generated = generate_state_vectors();
  if (std::getenv("IMI_WRITE_VECTORS")) std::ofstream(state_vectors_path()) << generated;
  CHECK(read_file(state_vectors_path()) == generated);
}

TEST_CASE("state vectors: every tree root and proof checks as marked") {
  rapidjson::Document doc;
  doc.Parse(read_file(state_vectors_path()).c_str());
  REQUIRE_FALSE(doc.HasParseError());
  for (const auto& t : doc["trees"].GetArray()) {
    CAPTURE(t["name"].GetString());
    Model m;
    for (const auto& e : t["entries"].GetArray())
      m[{e["app"].GetString(), e["key"].GetString()}] = e["value_bytes"].GetString();
    CHECK(to_hex(ref_root(m)) == t["root"].GetString());
  }
  size_t valid = 0, invalid = 0;
  for (const auto& c : doc["proofs"].GetArray()) {
    CAPTURE(c["name"].GetString());
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> pw(buf);
    c["proof"].Accept(pw);
    auto proof = state_proof_from_json(buf.GetString());
    std::optional<std::string_view> value;
    if (c["value_bytes"].IsString())
      value = std::string_view(c["value_bytes"].GetString(), c["value_bytes"].GetStringLength());
    bool ok =
        proof && verify_state_proof(*from_hex_fixed<32>(c["root"].GetString()),
                                    c["app"].GetString(), c["key"].GetString(), value, *proof);
    CHECK(ok == c["valid"].GetBool());
    ++(ok ? valid : invalid);
  }
  CHECK(valid == 15);
  CHECK(invalid == 11);
}

TEST_CASE("smt: a tiny node cache that evicts on every update still gives the same roots") {
  std::mt19937_64 rng(7);
  MemStore store;
  StateTree tiny(store, StateTreeOptions{.cache_bytes = 4096});  // 32 entries
  StateTree none(store, StateTreeOptions{.cache_bytes = 0});
  Model model;
  Hash32 root{};
  for (int round = 0; round < 20; ++round) {
    Model batch = random_model(rng, 50);
    for (const auto& [k, v] : batch) model[k] = v;
    NodeWriteSet out, out2;
    Hash32 r1 = *tiny.update(root, writes_of(batch), out);
    Hash32 r2 = *none.update(root, writes_of(batch), out2);
    REQUIRE(r1 == r2);
    REQUIRE(r1 == ref_root(model));
    store.commit(std::move(out));
    root = r1;
    CHECK(tiny.cached_bytes() <= 4096);
  }
  for (const auto& [k, v] : model) CHECK(**tiny.get(root, k.first, k.second) == v);
  // Warming loads at most what it is asked for, top level first.
  auto warmed = tiny.warm(root, 10);
  REQUIRE(warmed);
  CHECK(*warmed == 10);
  CHECK(tiny.warm(Hash32{}, 10).value() == 0);
  CHECK(tiny.warm(sha256("unknown"), 10).status().code() == "state.missing_node");
}

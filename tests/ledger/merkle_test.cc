// RFC 6962 Merkle trees: roots, audit paths and RFC 9162 verification,
// checked against a recursive reference written from the RFC, the
// certificate-transparency test leaves, and tests/vectors/merkle.json.
#include "ledger/merkle.h"

#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "base/sha256.h"

using namespace imi;
using namespace imi::ledger;

namespace {

// MTH and PATH exactly as RFC 6962 §2.1 writes them.
size_t split_point(size_t n) {
  size_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

Hash32 ref_root(std::span<const Bytes> d) {
  if (d.empty()) return sha256(ByteView());
  if (d.size() == 1) return merkle_leaf_hash(d[0]);
  size_t k = split_point(d.size());
  return merkle_node_hash(ref_root(d.subspan(0, k)), ref_root(d.subspan(k)));
}

std::vector<Hash32> ref_path(size_t m, std::span<const Bytes> d) {
  if (d.size() <= 1) return {};
  size_t k = split_point(d.size());
  std::vector<Hash32> p;
  if (m < k) {
    p = ref_path(m, d.subspan(0, k));
    p.push_back(ref_root(d.subspan(k)));
  } else {
    p = ref_path(m - k, d.subspan(k));
    p.push_back(ref_root(d.subspan(0, k)));
  }
  return p;
}

Bytes hex(std::string_view h) { return *from_hex(h); }
Hash32 hash_hex(std::string_view h) { return *from_hex_fixed<32>(h); }

// The leaves of the certificate-transparency project's Merkle tree tests.
std::vector<Bytes> ct_leaves() {
  std::vector<Bytes> out;
  for (const char* h : {"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                        "606162636465666768696a6b6c6d6e6f"})
    out.push_back(hex(h));
  return out;
}

std::vector<Bytes> counter_leaves(size_t n) {  // leaf i = i as 4 bytes big-endian
  std::vector<Bytes> out;
  for (size_t i = 0; i < n; ++i)
    out.push_back(Bytes{uint8_t(i >> 24), uint8_t(i >> 16), uint8_t(i >> 8), uint8_t(i)});
  return out;
}

}  // namespace

TEST_CASE("merkle: the empty tree's root is SHA-256 of nothing") {
  CHECK(to_hex(merkle_root(std::span<const Bytes>())) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(to_hex(merkle_root(std::span<const Hash32>())) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("merkle: roots of the certificate-transparency test trees") {
  const char* roots[] = {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                         "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                         "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
                         "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                         "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
                         "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
                         "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
                         "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
  auto leaves = ct_leaves();
  for (size_t n = 1; n <= 8; ++n) {
    CAPTURE(n);
    CHECK(to_hex(merkle_root(std::span<const Bytes>(leaves).first(n))) == roots[n - 1]);
  }
}

TEST_CASE("merkle: iterative root and paths equal RFC 6962's recursive definition") {
  for (size_t n : {1, 2, 3, 5, 7, 8, 9, 16, 17, 31, 33, 64, 100, 1000}) {
    CAPTURE(n);
    auto leaves = counter_leaves(n);
    Hash32 root = merkle_root(leaves);
    CHECK(root == ref_root(leaves));
    for (size_t i = 0; i < n; i += (n > 100 ? 37 : 1)) {
      CAPTURE(i);
      auto path = inclusion_proof(leaves, i);
      REQUIRE(path);
      CHECK(*path == ref_path(i, leaves));
      CHECK(verify_leaf_inclusion(leaves[i], i, n, *path, root));
    }
  }
}

TEST_CASE("merkle: Hash32 leaves (txs_root) hash as 32-byte leaves") {
  std::vector<Hash32> ids;
  std::vector<Bytes> as_bytes_leaves;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(sha256(std::to_string(i)));
    as_bytes_leaves.emplace_back(ids.back().begin(), ids.back().end());
  }
  CHECK(merkle_root(ids) == merkle_root(as_bytes_leaves));
  auto path = inclusion_proof(ids, 3);
  REQUIRE(path);
  CHECK(*path == *inclusion_proof(as_bytes_leaves, 3));
  CHECK(verify_leaf_inclusion(ids[3], 3, 5, *path, merkle_root(ids)));
}

TEST_CASE("merkle: a proof for an index beyond the leaves is an error") {
  auto leaves = counter_leaves(4);
  auto r = inclusion_proof(leaves, 4);
  REQUIRE_FALSE(r);
  CHECK(r.status().code() == "merkle.index_out_of_range");
  CHECK_FALSE(inclusion_proof(std::span<const Bytes>(), 0));
}

TEST_CASE("merkle: verification rejects every altered proof") {
  for (size_t n : {2, 3, 5, 6, 7, 8, 13}) {
    auto leaves = counter_leaves(n);
    Hash32 root = merkle_root(leaves);
    for (size_t i = 0; i < n; ++i) {
      CAPTURE(n);
      CAPTURE(i);
      auto path = *inclusion_proof(leaves, i);
      Hash32 leaf = merkle_leaf_hash(leaves[i]);
      REQUIRE(verify_inclusion(leaf, i, n, path, root));
      CHECK_FALSE(verify_inclusion(leaf, (i + 1) % n, n, path, root));  // wrong index
      // The size is not hashed into the root, but a size that needs a longer
      // path than this one is rejected.
      CHECK_FALSE(verify_inclusion(leaf, i, 2 * n + 1, path, root));  // wrong size
      CHECK_FALSE(verify_inclusion(leaf, n, n, path, root));          // index == size
      CHECK_FALSE(verify_inclusion(leaf, i, 0, path, root));
      auto truncated = path;
      truncated.pop_back();
      CHECK_FALSE(verify_inclusion(leaf, i, n, truncated, root));
      auto longer = path;
      longer.push_back(root);
      CHECK_FALSE(verify_inclusion(leaf, i, n, longer, root));
      for (size_t j = 0; j < path.size(); ++j) {
        auto tampered = path;
        tampered[j][7] ^= 1;
        CHECK_FALSE(verify_inclusion(leaf, i, n, tampered, root));
      }
      Hash32 other = leaf;
      other[0] ^= 0x80;
      CHECK_FALSE(verify_inclusion(other, i, n, path, root));
      CHECK_FALSE(verify_leaf_inclusion(leaf, i, n, path, root));  // leaf hash is not the leaf
    }
  }
  // A one-leaf tree: the empty path, and nothing else, proves its leaf.
  auto one = counter_leaves(1);
  Hash32 root = merkle_root(one);
  CHECK(verify_leaf_inclusion(one[0], 0, 1, {}, root));
  std::vector<Hash32> extra{root};
  CHECK_FALSE(verify_leaf_inclusion(one[0], 0, 1, extra, root));
}

// ---------------------------------------------------------------- vectors

namespace {

using rapidjson::Value;
using Writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

void str(Writer& w, const std::string& s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void write_hex_array(Writer& w, const auto& items) {
  w.StartArray();
  for (const auto& i : items) str(w, to_hex(i));
  w.EndArray();
}

void write_inclusion(Writer& w, const std::string& name, const Bytes& leaf, uint64_t index,
                     uint64_t size, const std::vector<Hash32>& path, const Hash32& root,
                     bool valid) {
  w.StartObject();
  w.Key("name"), str(w, name);
  w.Key("leaf"), str(w, to_hex(leaf));
  w.Key("leaf_index"), w.Uint64(index);
  w.Key("tree_size"), w.Uint64(size);
  w.Key("path"), write_hex_array(w, path);
  w.Key("root"), str(w, to_hex(root));
  w.Key("valid"), w.Bool(valid);
  w.EndObject();
}

// The contents of tests/vectors/merkle.json.
std::string generate_vectors() {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.SetIndent(' ', 1);
  w.StartObject();
  w.Key("description");
  str(w,
      "RFC 6962 / RFC 9162 section 2.1 Merkle tree hash, used for txs_root (leaves = raw 32-byte "
      "transaction ids) and results_root. leaf hash = SHA-256(0x00 || leaf), node = "
      "SHA-256(0x01 || left || right), n > 1 leaves split at the largest power of two below n, "
      "empty tree = SHA-256 of nothing. trees[]: {name, leaves: [hex of each leaf's bytes], "
      "root: hex}. inclusion[]: {name, leaf: hex of the leaf's bytes (hash it as a leaf first), "
      "leaf_index, tree_size, path: [hex sibling hashes, leaf end first], root, valid}; valid "
      "is true iff RFC 9162 section 2.1.3.2's verification algorithm accepts the case.");
  w.Key("trees");
  w.StartArray();
  auto ct = ct_leaves();
  for (size_t n = 0; n <= 8; ++n) {
    std::span<const Bytes> leaves(ct.data(), n);
    w.StartObject();
    w.Key("name"), str(w, "certificate-transparency leaves, size " + std::to_string(n));
    w.Key("leaves"), write_hex_array(w, leaves);
    w.Key("root"), str(w, to_hex(merkle_root(leaves)));
    w.EndObject();
  }
  std::vector<Bytes> ids;
  for (int i = 0; i < 3; ++i) {
    Hash32 id = sha256("tx " + std::to_string(i));
    ids.emplace_back(id.begin(), id.end());
  }
  auto big = counter_leaves(1000);
  for (auto [name, leaves] :
       {std::pair{std::string("txs_root of 3 transaction ids"), &ids},
        std::pair{std::string("1000 leaves: 4-byte big-endian 0..999"), &big}}) {
    w.StartObject();
    w.Key("name"), str(w, name);
    w.Key("leaves"), write_hex_array(w, *leaves);
    w.Key("root"), str(w, to_hex(merkle_root(*leaves)));
    w.EndObject();
  }
  w.EndArray();

  w.Key("inclusion");
  w.StartArray();
  for (size_t n = 1; n <= 8; ++n) {
    std::span<const Bytes> leaves(ct.data(), n);
    for (size_t i = 0; i < n; ++i) {
      write_inclusion(w, "size " + std::to_string(n) + " index " + std::to_string(i), ct[i], i, n,
                      *inclusion_proof(leaves, i), merkle_root(leaves), true);
    }
  }
  Hash32 big_root = merkle_root(big);
  for (size_t i : {0, 1, 255, 511, 512, 767, 998, 999}) {
    write_inclusion(w, "1000 leaves, index " + std::to_string(i), big[i], i, 1000,
                    *inclusion_proof(big, i), big_root, true);
  }
  std::span<const Bytes> seven(ct.data(), 7);
  Hash32 root7 = merkle_root(seven);
  auto path = *inclusion_proof(seven, 5);
  write_inclusion(w, "wrong index", ct[5], 4, 7, path, root7, false);
  write_inclusion(w, "wrong tree size", ct[5], 5, 9, path, root7, false);
  write_inclusion(w, "index equal to tree size", ct[5], 7, 7, path, root7, false);
  auto truncated = path;
  truncated.pop_back();
  write_inclusion(w, "truncated path", ct[5], 5, 7, truncated, root7, false);
  auto longer = path;
  longer.push_back(path[0]);
  write_inclusion(w, "path one hash too long", ct[5], 5, 7, longer, root7, false);
  auto tampered = path;
  tampered[1][31] ^= 1;
  write_inclusion(w, "tampered sibling hash", ct[5], 5, 7, tampered, root7, false);
  write_inclusion(w, "other leaf", ct[4], 5, 7, path, root7, false);
  write_inclusion(w, "empty path, size 2", ct[0], 0, 2, {}, merkle_root(std::span(ct.data(), 2)),
                  false);
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString()) + "\n";
}

std::string vectors_path() {
  const char* dir = std::getenv("IMI_VECTORS_DIR");
  return std::string(dir ? dir : "tests/vectors") + "/merkle.json";
}

std::vector<Hash32> hashes(const Value& arr) {
  std::vector<Hash32> out;
  for (const auto& v : arr.GetArray()) out.push_back(hash_hex(v.GetString()));
  return out;
}

}  // namespace

TEST_CASE("merkle vectors: the file is what the generator writes (IMI_WRITE_VECTORS=1 rewrites)") {
  std::string generated = generate_vectors();
  if (std::getenv("IMI_WRITE_VECTORS")) std::ofstream(vectors_path()) << generated;
  std::ifstream in(vectors_path());
  REQUIRE(in);
  std::stringstream file;
  file << in.rdbuf();
  CHECK(file.str() == generated);
}

TEST_CASE("merkle vectors: every case verifies as marked") {
  std::ifstream in(vectors_path());
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  rapidjson::Document doc;
  doc.Parse(text.str().c_str());
  REQUIRE_FALSE(doc.HasParseError());
  size_t trees = 0, valid = 0, invalid = 0;
  for (const auto& t : doc["trees"].GetArray()) {
    CAPTURE(t["name"].GetString());
    std::vector<Bytes> leaves;
    for (const auto& l : t["leaves"].GetArray()) leaves.push_back(hex(l.GetString()));
    CHECK(to_hex(merkle_root(leaves)) == t["root"].GetString());
    CHECK(merkle_root(leaves) == ref_root(leaves));
    ++trees;
  }
  for (const auto& c : doc["inclusion"].GetArray()) {
    CAPTURE(c["name"].GetString());
    bool ok = verify_leaf_inclusion(hex(c["leaf"].GetString()), c["leaf_index"].GetUint64(),
                                    c["tree_size"].GetUint64(), hashes(c["path"]),
                                    hash_hex(c["root"].GetString()));
    CHECK(ok == c["valid"].GetBool());
    ++(c["valid"].GetBool() ? valid : invalid);
  }
  CHECK(trees == 11);
  CHECK(valid == 36 + 8);
  CHECK(invalid == 8);
}

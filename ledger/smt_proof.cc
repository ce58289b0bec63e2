#include "ledger/smt_proof.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include "base/sha256.h"

namespace imi::ledger {
namespace {

Status json_error(const std::string& what) {
  return Status::error("state.proof_json",
                       "state proof JSON " + what +
                           R"(; expected {"leaf":null|{"path":hex64,"value_hash":hex64},)"
                           R"("siblings":[hex64,...]} with lowercase hex)");
}

std::optional<Hash32> hex32(const rapidjson::Value& v) {
  if (!v.IsString()) return std::nullopt;
  std::string_view s(v.GetString(), v.GetStringLength());
  if (!is_lower_hex(s, 64)) return std::nullopt;
  return from_hex_fixed<32>(s);
}

// True if the first `bits` bits of a and b agree.
bool same_prefix(const Hash32& a, const Hash32& b, size_t bits) {
  size_t whole = bits / 8;
  for (size_t i = 0; i < whole; ++i)
    if (a[i] != b[i]) return false;
  size_t rest = bits % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

Hash32 state_path(std::string_view app, std::string_view key) {
  return sha256_concat({as_bytes(app), as_bytes("/"), as_bytes(key)});
}

Hash32 state_leaf_hash(const Hash32& path, const Hash32& value_hash) {
  const uint8_t prefix = 0x00;
  return sha256_concat({ByteView(&prefix, 1), path, value_hash});
}

Hash32 state_internal_hash(const Hash32& left, const Hash32& right) {
  const uint8_t prefix = 0x01;
  return sha256_concat({ByteView(&prefix, 1), left, right});
}

Status verify_state_proof(const Hash32& root, std::string_view app, std::string_view key,
                          const std::optional<std::string_view>& value, const StateProof& proof) {
  const size_t depth = proof.siblings.size();
  if (depth > kStateProofMaxSiblings) {
    return Status::error("state.proof_too_long",
                         "a state proof has at most 256 siblings; this one has " +
                             std::to_string(depth) + ", so it is not a proof from this tree");
  }
  const Hash32 path = state_path(app, key);
  if (proof.leaf && !same_prefix(proof.leaf->path, path, depth)) {
    return Status::error("state.proof_leaf_misplaced",
                         "the proof's leaf cannot sit where the key's path ends (its path "
                         "differs within the first " +
                             std::to_string(depth) + " bits)");
  }
  if (value) {
    if (!proof.leaf || proof.leaf->path != path || proof.leaf->value_hash != sha256(*value)) {
      return Status::error("state.proof_not_membership",
                           "the proof does not end at a leaf of " + std::string(app) + "/" +
                               std::string(key) + " holding the given value");
    }
  } else if (proof.leaf && proof.leaf->path == path) {
    return Status::error("state.proof_not_absence", "the proof shows that " + std::string(app) +
                                                        "/" + std::string(key) +
                                                        " is present, not absent");
  }

  Hash32 h =
      proof.leaf ? state_leaf_hash(proof.leaf->path, proof.leaf->value_hash) : empty_subtree_hash();
  for (size_t i = depth; i-- > 0;) {
    h = path_bit(path, i) == 0 ? state_internal_hash(h, proof.siblings[i])
                               : state_internal_hash(proof.siblings[i], h);
  }
  if (h != root) {
    return Status::error("state.proof_root_mismatch",
                         "the proof's hashes do not lead to the state root " + to_hex(root));
  }
  return Status::ok();
}

std::string state_proof_to_json(const StateProof& proof) {
  std::string out = R"({"leaf":)";
  if (proof.leaf) {
    out += R"({"path":")" + to_hex(proof.leaf->path) + R"(","value_hash":")" +
           to_hex(proof.leaf->value_hash) + R"("})";
  } else {
    out += "null";
  }
  out += R"(,"siblings":[)";
  for (size_t i = 0; i < proof.siblings.size(); ++i) {
    if (i > 0) out += ',';
    out += '"' + to_hex(proof.siblings[i]) + '"';
  }
  out += "]}";
  return out;
}

Result<StateProof> state_proof_from_json(std::string_view text) {
  if (text.size() > kStateProofMaxJsonBytes) return json_error("is larger than 32 KiB");
  rapidjson::Document doc;
  // Iterative parsing: nesting depth cannot exhaust the stack.
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (doc.HasParseError()) {
    return json_error(std::string("is not valid JSON (") +
                      rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
                      std::to_string(doc.GetErrorOffset()) + ")");
  }
  // Exactly two members, both known: rejects unknown and duplicate members.
  if (!doc.IsObject() || doc.MemberCount() != 2)
    return json_error("must be an object of 2 members");
  const rapidjson::Document& cdoc = doc;  // const iterators: no ambiguous operator== under clang
  auto siblings = cdoc.FindMember("siblings");
  auto leaf = cdoc.FindMember("leaf");
  if (siblings == cdoc.MemberEnd() || leaf == cdoc.MemberEnd()) {
    return json_error("must have exactly the members leaf and siblings");
  }
  if (!siblings->value.IsArray()) return json_error("member siblings must be an array");

  StateProof proof;
  const auto& arr = siblings->value;
  if (arr.Size() > kStateProofMaxSiblings) {
    return Status::error(
        "state.proof_too_long",
        "a state proof has at most 256 siblings; this one has " + std::to_string(arr.Size()));
  }
  proof.siblings.reserve(arr.Size());
  for (const auto& s : arr.GetArray()) {
    auto h = hex32(s);
    if (!h) return json_error("has a sibling that is not 64 lowercase hex characters");
    proof.siblings.push_back(*h);
  }

  const auto& l = leaf->value;
  if (l.IsNull()) return proof;
  if (!l.IsObject() || l.MemberCount() != 2) {
    return json_error("member leaf must be null or an object of 2 members");
  }
  auto path = l.FindMember("path");
  auto value_hash = l.FindMember("value_hash");
  if (path == l.MemberEnd() || value_hash == l.MemberEnd()) {
    return json_error("member leaf must have exactly the members path and value_hash");
  }
  auto p = hex32(path->value);
  auto v = hex32(value_hash->value);
  if (!p || !v) return json_error("has a leaf hash that is not 64 lowercase hex characters");
  proof.leaf = StateProofLeaf{*p, *v};
  return proof;
}

}  // namespace imi::ledger

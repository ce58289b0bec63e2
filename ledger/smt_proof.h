// Sparse Merkle state tree: hashing rules, proofs and the standalone
// verifier (DESIGN "state tree"). A client that trusts only a state root
// checks a proof with this header alone; it needs no store.
//
//   path          = SHA-256(UTF-8 "<app>/<key>"), 256 bits, most significant first
//   leaf hash     = SHA-256(0x00 ‖ path ‖ SHA-256(value bytes)), value bytes = JCS of the value
//   internal hash = SHA-256(0x01 ‖ left ‖ right)
//   empty subtree = 32 zero bytes; a subtree with exactly one leaf hashes to that leaf's hash
//
// A proof lists the sibling hashes from the root down to where the key's path
// ends (siblings[0] is the root's other child), plus the leaf found there:
// the key's own leaf (membership), another leaf whose path shares the first
// siblings.size() bits (absence), or nothing (absence: an empty subtree).
//
// JSON form (API and tests/vectors/state_proofs.json), canonical member order:
//   {"leaf":null | {"path":hex64,"value_hash":hex64},"siblings":[hex64,...]}
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace imi::ledger {

// Deeper than this no two distinct paths can still agree.
constexpr size_t kStateProofMaxSiblings = 256;
// Longest JSON proof state_proof_from_json accepts (256 siblings fit easily).
constexpr size_t kStateProofMaxJsonBytes = 32 * 1024;

struct StateProofLeaf {
  Hash32 path{};
  Hash32 value_hash{};
  bool operator==(const StateProofLeaf&) const = default;
};

struct StateProof {
  std::vector<Hash32> siblings;        // root end first
  std::optional<StateProofLeaf> leaf;  // nullopt: the path ends in an empty subtree
  bool operator==(const StateProof&) const = default;
};

// SHA-256 of "<app>/<key>".
Hash32 state_path(std::string_view app, std::string_view key);
// Bit `depth` (0 = most significant bit of byte 0) of a path.
inline int path_bit(const Hash32& path, size_t depth) {
  return (path[depth / 8] >> (7 - depth % 8)) & 1;
}
Hash32 state_leaf_hash(const Hash32& path, const Hash32& value_hash);
Hash32 state_internal_hash(const Hash32& left, const Hash32& right);
inline Hash32 empty_subtree_hash() { return Hash32{}; }

// Checks that `proof` shows, against `root`, that app/key holds exactly
// `value` (its JCS bytes), or, when `value` is nullopt, that app/key is absent.
// Errors: state.proof_too_long (more than 256 siblings), state.proof_leaf_misplaced
// (the leaf's path does not share the first siblings.size() bits with the key's),
// state.proof_not_membership / state.proof_not_absence (the leaf does not say
// what was claimed), state.proof_root_mismatch (hashes do not lead to `root`).
Status verify_state_proof(const Hash32& root, std::string_view app, std::string_view key,
                          const std::optional<std::string_view>& value, const StateProof& proof);

// Canonical (JCS) JSON text of a proof.
std::string state_proof_to_json(const StateProof& proof);
// Parses the JSON form. Errors: state.proof_json (not JSON, wrong shape, unknown
// or duplicate members, hex not lowercase or not 64 characters, too large),
// state.proof_too_long.
Result<StateProof> state_proof_from_json(std::string_view text);

}  // namespace imi::ledger

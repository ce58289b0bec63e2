// The validator set and its hash (DESIGN "validators hash", "Consensus").
//
// A validator is a DID (the account, which never changes) and its current
// Ed25519 key. The set is sorted by DID (byte order of the ASCII string), so
//   n = size, f = ⌊(n−1)/3⌋, q = ⌊2n/3⌋+1, primary(view) = set[view mod n].
// validators hash = SHA-256(JCS([{"id":DID,"key":hex}, ...] sorted by id)), the
// "validators" member of a block header, naming the set that signs the next
// block.
//
// Error codes: validators.empty, validators.bad_id (not a did:imi),
// validators.invalid_key (not a valid Ed25519 key), validators.duplicate (one
// DID twice), validators.duplicate_key (one key for two DIDs), and for JSON
// input validators.bad_json (not an array of {"id","key"} objects).
// An immutable value; thread-safe for concurrent reads.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "identity/keys.h"

namespace imi::ledger {

struct Validator {
  std::string id;           // did:imi
  identity::PublicKey key;  // current key
};

class ValidatorSet {
 public:
  // Sorts `validators` by id and checks them (codes above).
  static Result<ValidatorSet> make(std::vector<Validator> validators);
  // From the JSON array form [{"id","key"}, ...], in any order.
  static Result<ValidatorSet> from_json(const rapidjson::Value& array);

  // Sorted by id.
  const std::vector<Validator>& validators() const { return validators_; }
  size_t n() const { return validators_.size(); }
  size_t f() const { return (n() - 1) / 3; }
  size_t q() const { return 2 * n() / 3 + 1; }
  const Validator& primary(uint64_t view) const { return validators_[view % n()]; }
  // The validator with DID `id`, or nullptr.
  const Validator* find(std::string_view id) const;
  // Index of `id` in the sorted set, or -1.
  int64_t index_of(std::string_view id) const;

  // JCS of the array of {"id","key"} sorted by id.
  std::string canonical() const;
  // SHA-256(canonical()), computed once.
  const Hash32& hash() const { return hash_; }

 private:
  ValidatorSet() = default;
  std::vector<Validator> validators_;
  Hash32 hash_{};
};

}  // namespace imi::ledger

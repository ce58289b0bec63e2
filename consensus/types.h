// Core value types of the PBFT engine (DESIGN "Consensus"): validators and
// their sets, quorum arithmetic, and the limits every input is checked
// against. Blocks are opaque to consensus: a 32-byte block id plus proposal
// bytes that only the application interprets.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace imi::consensus {

// A validator's DID: "did:imi:" + 40 lowercase hex characters.
using ValidatorId = std::string;
using Signature = std::array<uint8_t, 64>;
using PublicKey = std::array<uint8_t, 32>;

// Largest integer JCS carries exactly (DESIGN "canonical form").
inline constexpr uint64_t kMaxSafeInteger = (uint64_t{1} << 53) - 1;

// True if `id` is a well-formed did:imi.
bool is_valid_validator_id(std::string_view id);
// True if `chain` is 1..64 characters of [a-z0-9._-] starting with [a-z0-9] (the ledger's rule), so
// its JCS form needs no escaping.
bool is_valid_chain_id(std::string_view chain);

// f = floor((n-1)/3) and q = floor(2n/3)+1 for any n >= 1 (n need not be 3f+1).
uint64_t max_faulty(uint64_t n);
uint64_t quorum(uint64_t n);

struct Validator {
  ValidatorId id;
  PublicKey key{};
  bool operator==(const Validator&) const = default;
};

// A validator set, kept sorted by id with distinct ids. Immutable value.
class ValidatorSet {
 public:
  ValidatorSet() = default;
  // Errors: "consensus.bad_validator_set" (empty, too many, bad or duplicate ids).
  static Result<ValidatorSet> create(std::vector<Validator> validators);

  size_t size() const { return validators_.size(); }
  uint64_t quorum() const { return consensus::quorum(validators_.size()); }
  uint64_t max_faulty() const { return consensus::max_faulty(validators_.size()); }
  const std::vector<Validator>& validators() const { return validators_; }
  // The primary of view v: set[v mod n].
  const ValidatorId& primary(uint64_t view) const { return validators_[view % size()].id; }
  // nullptr if `id` is not a member.
  const Validator* find(std::string_view id) const;
  bool contains(std::string_view id) const { return find(id) != nullptr; }
  bool operator==(const ValidatorSet&) const = default;

 private:
  std::vector<Validator> validators_;
};

// Which set signs each height: entry (h, S) means S is in force from height h
// until the next entry. Set changes committed at height h take effect at
// h + kValidatorSetDelay or later.
inline constexpr uint64_t kValidatorSetDelay = 2;

class ValidatorSchedule {
 public:
  ValidatorSchedule() = default;
  explicit ValidatorSchedule(ValidatorSet initial) { sets_[0] = std::move(initial); }
  // nullptr if no set is known for `height`.
  const ValidatorSet* at(uint64_t height) const;
  // Adds S in force from `height` (replacing an entry at the same height).
  void add(uint64_t height, ValidatorSet set) { sets_[height] = std::move(set); }
  // Drops entries that no height >= `height` uses.
  void prune_below(uint64_t height);
  const std::map<uint64_t, ValidatorSet>& entries() const { return sets_; }

 private:
  std::map<uint64_t, ValidatorSet> sets_;
};

// Size limits of everything a peer can send (STYLE: put a limit on everything).
struct Limits {
  size_t payload_bytes_max = 16 * 1024 * 1024;  // proposal bytes (one block)
  size_t validators_max = 256;                  // members of one set; also list lengths
};

}  // namespace imi::consensus

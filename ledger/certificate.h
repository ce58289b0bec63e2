// Commit certificates (DESIGN "Contracts": commit certificate).
//
// Wire form, an object with exactly these members:
//   {"height","view","block","sigs":[{"validator":DID,"sig":hex128}, ...]}
//   height, view  integers 0..2^53−1
//   block         the committed block's id, 64 lowercase hex
//   sigs          commit votes, strictly sorted by validator (byte order),
//                 each from a distinct member of the validator set, at least
//                 q = ⌊2n/3⌋+1 of them, each a `vote` signature:
//                   Ed25519 over "IMI/vote/v1\n" + JCS({"block","chain",
//                   "height","phase":"commit","view"})
//
// Error codes, checked in this order:
//   json.*              not strict JSON (ledger/json.h)
//   cert.not_object, cert.missing_field, cert.unknown_field
//   cert.bad_height, cert.bad_view, cert.bad_block   malformed members
//   cert.bad_sigs       "sigs" is not an array of {"validator","sig"} with a
//                       did:imi and 128 lowercase hex
//   cert.too_many_sigs  more entries than sigs_max (decode only)
//   -- validate() --
//   cert.wrong_height   height is not the expected height
//   cert.wrong_block    block is not the expected block id
//   cert.unsorted       an entry's validator sorts before the previous one
//   cert.duplicate      a validator appears twice (adjacent once sorted)
//   cert.not_member     a validator is not in the set
//   cert.no_quorum      fewer than q entries
//   cert.bad_signature  an entry's signature does not verify under that
//                       validator's key
// Immutable value; thread-safe for concurrent reads.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "identity/keys.h"
#include "ledger/validators.h"

namespace imi::ledger {

// JCS({"block","chain","height","phase":"commit","view"}): what a commit vote
// signs after the "IMI/vote/v1\n" tag.
std::string commit_vote_canonical(std::string_view chain, uint64_t height, uint64_t view,
                                  const Hash32& block);
identity::Signature sign_commit_vote(const identity::KeyPair& key, std::string_view chain,
                                     uint64_t height, uint64_t view, const Hash32& block);

struct CommitSig {
  std::string validator;  // did:imi
  identity::Signature sig;
  bool operator==(const CommitSig&) const = default;
};

struct CommitCertificate {
  uint64_t height = 0;
  uint64_t view = 0;
  Hash32 block{};
  std::vector<CommitSig> sigs;

  // A decoder never accepts more entries than this: far above any real
  // validator set, it bounds the work an attacker can ask for.
  static constexpr size_t kSigsMax = 1024;

  // Decodes and checks the form (codes up to cert.too_many_sigs).
  static Result<CommitCertificate> from_json(const rapidjson::Value& value);
  static Result<CommitCertificate> decode(std::string_view text);
  // JCS of the certificate.
  std::string canonical() const;

  // Checks the certificate for block `block_id` at `height` on `chain`
  // against `set` (codes from cert.wrong_height on).
  Status validate(const ValidatorSet& set, std::string_view chain, uint64_t height,
                  const Hash32& block_id) const;

  // Sorts `sigs` by validator: a certificate assembled from votes in arrival
  // order becomes canonical.
  void sort_sigs();
  bool operator==(const CommitCertificate&) const = default;
};

}  // namespace imi::ledger

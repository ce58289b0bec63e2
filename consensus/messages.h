// Engine messages, their wire encoding and their validation.
//
// Wire encoding (version 1), all integers big-endian:
//   message   = u8 version (=1) | u8 type | body; no trailing bytes allowed
//   type      = 1 Proposal | 2 Vote | 3 ViewChange | 4 NewView | 5 Checkpoint | 6 Decided
//   u64       = 8 bytes; heights and views are <= 2^53-1, heights >= 1
//   hash      = 32 raw bytes; sig = 64 raw bytes
//   did       = u8 length (48) | ASCII "did:imi:" + 40 lowercase hex
//   payload   = u32 length | bytes (<= Limits::payload_bytes_max)
//   list<T>   = u16 count (<= Limits::validators_max) | T...
//   sig_entry = did | sig; lists of sig_entry strictly sorted by did (distinct)
//   Proposal  = u64 height | u64 view | hash block | payload | did proposer | sig
//   Vote      = u64 height | u64 view | hash block | u8 phase (1 prepare, 2 commit) | did | sig
//   Prepared  = u64 view | hash block | payload | sig proposal_sig | list<sig_entry> prepares
//   ViewChange= u64 height | u64 view | did | u8 has_prepared (0|1) | [Prepared] | sig
//   NewView   = u64 height | u64 view | list<ViewChange> (sorted by did) | Proposal
//   Checkpoint= u64 height | hash block | did | sig
//   Decided   = CommitCertificate = u64 height | u64 view | hash block | list<sig_entry>
// The chain id is not on the wire: every signature covers it, so a message
// from another chain fails verification.
//
// decode() checks structure (lengths, formats, ordering, cross-field rules);
// verify_*() check membership, primaries, quorums and signatures against the
// validator set in force at the message's height.
#pragma once

#include <optional>
#include <variant>
#include <vector>

#include "consensus/canonical.h"
#include "consensus/signer.h"
#include "consensus/types.h"

namespace imi::consensus {

struct SigEntry {
  ValidatorId validator;
  Signature sig{};
  bool operator==(const SigEntry&) const = default;
};

// DESIGN Contract "commit certificate": sigs sorted by validator, distinct
// members of the set in force at `height`, at least q, each a vote signature
// over {"block","chain","height","phase":"commit","view"}.
struct CommitCertificate {
  uint64_t height = 0;
  uint64_t view = 0;
  Hash32 block{};
  std::vector<SigEntry> sigs;
  bool operator==(const CommitCertificate&) const = default;
};

struct Proposal {
  uint64_t height = 0;
  uint64_t view = 0;
  Hash32 block{};
  Bytes payload;  // opaque block bytes; the application checks they hash to `block`
  ValidatorId proposer;
  Signature sig{};
  bool operator==(const Proposal&) const = default;
};

struct Vote {
  uint64_t height = 0;
  uint64_t view = 0;
  Hash32 block{};
  Phase phase = Phase::kPrepare;
  ValidatorId validator;
  Signature sig{};
  bool operator==(const Vote&) const = default;
};

// q prepare votes for (height, view, block) plus the original proposal
// signature of primary(view) over the payload, so the bytes a new primary
// re-proposes are exactly the ones first proposed.
struct PreparedCert {
  uint64_t view = 0;
  Hash32 block{};
  Bytes payload;
  Signature proposal_sig{};
  std::vector<SigEntry> prepares;
  bool operator==(const PreparedCert&) const = default;
};

struct ViewChange {
  uint64_t height = 0;
  uint64_t view = 0;  // the view being changed to
  ValidatorId validator;
  std::optional<PreparedCert> prepared;  // the highest prepared certificate held at `height`
  Signature sig{};
  bool operator==(const ViewChange&) const = default;
};

struct NewView {
  uint64_t height = 0;
  uint64_t view = 0;
  std::vector<ViewChange> view_changes;  // >= q, sorted by validator
  Proposal proposal;                     // signed by primary(view)
  bool operator==(const NewView&) const = default;
};

struct Checkpoint {
  uint64_t height = 0;
  Hash32 block{};
  ValidatorId validator;
  Signature sig{};
  bool operator==(const Checkpoint&) const = default;
};

// A commit certificate sent to a peer that is still working on that height.
struct Decided {
  CommitCertificate cert;
  bool operator==(const Decided&) const = default;
};

using Message = std::variant<Proposal, Vote, ViewChange, NewView, Checkpoint, Decided>;

Bytes encode(const Message& m);
Bytes encode_certificate(const CommitCertificate& c);
// Errors: "consensus.malformed" with a message naming the bad field.
Result<Message> decode(ByteView wire, const Limits& limits = {});
Result<CommitCertificate> decode_certificate(ByteView wire, const Limits& limits = {});

// Signature checks against `set` (the set in force at the message's height).
// Errors: "consensus.not_validator", "consensus.wrong_primary",
// "consensus.bad_signature", "consensus.no_quorum", "consensus.bad_new_view".
Status verify_proposal(const Proposal& p, std::string_view chain, const ValidatorSet& set,
                       const Verifier& verifier);
Status verify_vote(const Vote& v, std::string_view chain, const ValidatorSet& set,
                   const Verifier& verifier);
Status verify_prepared(uint64_t height, const PreparedCert& pc, std::string_view chain,
                       const ValidatorSet& set, const Verifier& verifier);
Status verify_view_change(const ViewChange& vc, std::string_view chain, const ValidatorSet& set,
                          const Verifier& verifier);
Status verify_new_view(const NewView& nv, std::string_view chain, const ValidatorSet& set,
                       const Verifier& verifier);
Status verify_checkpoint(const Checkpoint& c, std::string_view chain, const ValidatorSet& set,
                         const Verifier& verifier);
// For block sync and auditors: checks the Contract above.
Status verify_commit_certificate(const CommitCertificate& cert, std::string_view chain,
                                 const ValidatorSet& set, const Verifier& verifier);

// The new-view rule: among view changes, the prepared certificate with the
// highest view (nullptr if none). A new primary must re-propose its block.
const PreparedCert* highest_prepared(const std::vector<ViewChange>& view_changes);

}  // namespace imi::consensus

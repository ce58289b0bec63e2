// The canonical JSON (RFC 8785, JCS) of the few fixed-shape objects consensus
// signs. consensus/ may not depend on ledger/json, and these objects only hold
// integers (<= 2^53-1), lowercase hex and a chain id restricted to [a-z0-9._-],
// so a dedicated encoder writes them with keys already in sorted order and no
// escaping needed. Callers validate inputs first (see messages.h).
#pragma once

#include <optional>
#include <string>

#include "consensus/types.h"

namespace imi::consensus {

enum class Phase : uint8_t { kPrepare = 1, kCommit = 2 };
std::string_view phase_name(Phase p);  // "prepare" | "commit"

// {"block","chain","height","phase","view"}: the vote Contract
// (a commit vote has phase "commit"), signed with "IMI/vote/v1".
std::string vote_canonical(std::string_view chain, uint64_t height, uint64_t view,
                           const Hash32& block, Phase phase);

// {"block","chain","height","payload","view"}, payload = hex SHA-256 of the
// proposal bytes; signed with "IMI/proposal/v1".
std::string proposal_canonical(std::string_view chain, uint64_t height, uint64_t view,
                               const Hash32& block, const Hash32& payload_digest);

// {"block","chain","height"}; signed with "IMI/checkpoint/v1".
std::string checkpoint_canonical(std::string_view chain, uint64_t height, const Hash32& block);

struct PreparedRef {
  uint64_t view = 0;
  Hash32 block{};
  bool operator==(const PreparedRef&) const = default;
};
// {"chain","height","prepared":null|{"block","view"},"view"}; signed with
// "IMI/viewchange/v1".
std::string view_change_canonical(std::string_view chain, uint64_t height, uint64_t view,
                                  const std::optional<PreparedRef>& prepared);

}  // namespace imi::consensus

// The engine's durable state: what it has committed itself to at the height in
// progress. The node writes it (synced) before sending any message of the same
// Ready, and passes the last one written back to Engine::create on restart.
#pragma once

#include <optional>
#include <vector>

#include "consensus/messages.h"

namespace imi::consensus {

struct DurableState {
  uint64_t height = 0;         // height in progress
  uint64_t view = 0;           // current view (never goes back)
  uint64_t start_view = 0;     // the view this height began in
  bool view_changing = false;  // sent a ViewChange for `view`, no NewView yet
  uint64_t stable_height = 0;  // stable checkpoint
  Hash32 stable_block{};
  std::vector<Message> spoken;  // own proposals, votes, view changes, new views at `height`
  std::optional<PreparedCert> prepared;  // highest prepared certificate held at `height`
  bool operator==(const DurableState&) const = default;
};

// Binary form: u8 version (1) | u64 height | u64 view | u64 start_view |
// u8 view_changing | u64 stable_height | hash stable_block | u16 count |
// (u32 length | encode(Message))... | u8 has_prepared | [Prepared].
Bytes encode_durable(const DurableState& s);
// Errors: "consensus.bad_durable_state" (corrupt or truncated).
Result<DurableState> decode_durable(ByteView bytes, const Limits& limits = {});

}  // namespace imi::consensus

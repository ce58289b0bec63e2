// The simulator's application: a toy ledger whose blocks carry transaction
// numbers, a block time and optionally a validator-set change. Blocks are
// opaque to the engine: block id = SHA-256(payload).
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/bytes.h"

namespace imi::sim {

struct BlockBody {
  uint64_t height = 0;
  Hash32 parent{};
  uint64_t time_ms = 0;
  uint32_t proposer = 0;
  std::vector<uint64_t> txs;                        // strictly increasing
  std::optional<std::vector<uint32_t>> set_change;  // node indices, strictly increasing
  bool bad = false;                                 // a block the application must reject
  std::string salt;  // lets a Byzantine primary make a second, different valid block
};

Bytes encode_body(const BlockBody& b);
std::optional<BlockBody> parse_body(ByteView payload);
Hash32 block_id(ByteView payload);

// The application's check of a block on top of (height - 1, parent):
// well-formed, linked, not marked bad, transactions new and published.
bool app_valid(const BlockBody& b, uint64_t height, const Hash32& parent,
               const std::set<uint64_t>& included, uint64_t published);

}  // namespace imi::sim

// Validity limits: the caps that decide whether a transaction or a block is
// valid (DESIGN "validity limits"). Genesis sets them and governance may change
// them at a named height, so every node applies the same numbers to the same
// block; a node's config may only tighten what its own mempool admits.
// The defaults below are what a genesis file gets when it names none.
// A plain value type; thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ledger/json.h"

namespace imi::ledger {

struct ValidityLimits {
  // Length in bytes of a transaction's canonical form (JCS of the whole
  // transaction, "sig" included). Text decoders also refuse any input longer
  // than this before parsing it, whitespace included, so send JCS.
  size_t tx_bytes_max = 64 * 1024;
  // Length in bytes of a block's canonical wire form
  // JCS({"header":...,"txs":[...]}); text decoders also refuse longer input.
  size_t block_bytes_max = 16 * 1024 * 1024;
  // Transactions in one block.
  size_t block_txs_max = 10000;
  // Nesting of arrays and objects inside one transaction (the transaction
  // object itself is one level).
  int json_depth_max = 16;
  // Bytes of one JSON string value or key.
  size_t json_string_bytes_max = 16 * 1024;
  // Members of one JSON object or elements of one array, except a block's
  // "txs" array, which block_txs_max bounds.
  size_t json_members_max = 1024;

  // The strict-parser limits for a document of at most `bytes_max` bytes
  // whose arrays may hold up to `members_max` elements and which nests
  // `extra_depth` levels above a transaction (a block holds its transactions
  // two levels down: the block object and its "txs" array). The record
  // decoders then check each transaction against the exact limits above.
  JsonLimits json(size_t bytes_max, int extra_depth, size_t members_max) const {
    JsonLimits j;
    j.max_bytes = bytes_max;
    j.max_depth = json_depth_max + extra_depth;
    j.max_string_bytes = json_string_bytes_max;
    j.max_members = members_max > json_members_max ? members_max : json_members_max;
    return j;
  }
};

}  // namespace imi::ledger

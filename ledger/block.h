// Block headers, blocks and transaction results (DESIGN "Contracts": block
// header, txs_root, results_root).
//
// Header, an object with exactly these members:
//   {"v":1,"chain","height","prev","time","proposer","txs_root",
//    "results_root","state_root","validators","tx_count"}
//   v             the integer 1
//   chain         chain id (see is_valid_chain_id)
//   height        integer 0..2^53−1; the genesis block is height 0
//   prev          id of the block at height−1, 64 lowercase hex; 64 zeros at
//                 height 0 (and only there)
//   time          milliseconds since the Unix epoch, integer 0..2^53−1
//   proposer      did:imi of the validator that proposed the block (genesis
//                 names the primary of view 0 of the genesis set)
//   txs_root      RFC 6962 root over the raw 32-byte transaction ids in order
//   results_root  RFC 6962 root over JCS({"code","events"}) of each result
//   state_root    sparse Merkle root of the state after this block
//   validators    validators hash of the set that signs the next block
//   tx_count      number of transactions
// block id = SHA-256(JCS(header)). The view is not in the header, so a block
// re-proposed in a later view keeps its id.
//
// Block wire form (on disk, on the wire, in the API):
//   {"header":{...},"txs":[transaction, ...]}
// with its size taken as the bytes of its JCS.
//
// Error codes:
//   json.*                   not strict JSON (ledger/json.h)
//   block.too_large          longer than block_bytes_max (text or JCS)
//   block.not_object, block.missing_field, block.unknown_field
//                            the block or header object has other members
//   block.bad_version, block.bad_chain, block.bad_height, block.bad_prev,
//   block.bad_time, block.bad_proposer, block.bad_txs_root,
//   block.bad_results_root, block.bad_state_root, block.bad_validators,
//   block.bad_tx_count       that header member is malformed (bad_prev also
//                            for genesis prev not zero or zero prev above 0)
//   block.bad_txs            "txs" is not an array
//   block.too_many_txs       more than block_txs_max transactions
//   tx.* (message "txs[i]: ...")  a transaction fails its own decoding or
//                            validation (ledger/transaction.h)
//   block.wrong_chain        header chain is not this chain
//   block.tx_count_mismatch  tx_count differs from the number of txs
//   block.txs_root_mismatch  txs_root differs from the transactions' root
//   result.*                 a result record is malformed (see TxResult)
// Immutable values; thread-safe for concurrent reads.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "ledger/limits.h"
#include "ledger/transaction.h"

namespace imi::ledger {

struct BlockHeader {
  std::string chain;
  uint64_t height = 0;
  Hash32 prev{};
  uint64_t time_ms = 0;
  std::string proposer;
  Hash32 txs_root{};
  Hash32 results_root{};
  Hash32 state_root{};
  Hash32 validators{};
  uint64_t tx_count = 0;

  // Decodes and checks the form of a header object (codes block.*).
  static Result<BlockHeader> from_json(const rapidjson::Value& value);
  static Result<BlockHeader> decode(std::string_view text);
  // Checks the form of a header built in code (same rules as from_json).
  Status check_form() const;

  // JCS of the header.
  std::string canonical() const;
  // SHA-256(canonical()).
  Hash32 id() const;
  bool operator==(const BlockHeader&) const = default;
};

// The result of executing one transaction: a code (0 = success, apps define
// the others) and the events it emitted. Its results_root leaf is
// JCS({"code":code,"events":events}); the free-text message is kept beside
// it for the API and never hashed, so rewording one is not a fork.
// A fired deadline's result (ledger/app.h "Deadlines") has the same shape
// plus the deadline that fired: JCS({"code","deadline":{"app","key","time"},
// "events"}); a block's results are its transactions' in block order, then
// its fired deadlines' in firing order (the header's tx_count says where the
// transactions' end).
// Error codes: result.not_object, result.missing_field, result.unknown_field,
// result.bad_code, result.bad_events (not an array of strict JSON values),
// result.bad_deadline.
struct FiredDeadline {
  std::string app, key;
  uint64_t time_ms = 0;
  bool operator==(const FiredDeadline&) const = default;
};

class TxResult {
 public:
  // `events` must be an array of strict JSON values (integers only).
  static Result<TxResult> make(int64_t code, const rapidjson::Value& events,
                               std::string message = {});
  // An empty event list.
  static TxResult of_code(int64_t code, std::string message = {});
  // A fired deadline's result.
  static Result<TxResult> make_deadline(FiredDeadline deadline, int64_t code,
                                        const rapidjson::Value& events, std::string message = {});
  // From the hashed form {"code","events"}; the message is not in it.
  static Result<TxResult> from_json(const rapidjson::Value& value, std::string message = {});
  static Result<TxResult> decode(std::string_view text, std::string message = {});

  int64_t code() const { return code_; }
  const rapidjson::Value& events() const { return *events_; }
  const std::string& message() const { return message_; }
  // The deadline this result is of; nullopt for a transaction's result.
  const std::optional<FiredDeadline>& deadline() const { return deadline_; }
  // JCS({"code","events"}) (with "deadline" for a deadline's): the results_root leaf.
  const std::string& canonical() const { return canonical_; }

 private:
  TxResult() = default;
  int64_t code_ = 0;
  std::shared_ptr<const rapidjson::Document> events_;
  std::string canonical_;
  std::string message_;
  std::optional<FiredDeadline> deadline_;
};

// RFC 6962 roots (ledger/merkle.h).
Hash32 compute_txs_root(std::span<const Transaction> txs);
Hash32 compute_results_root(std::span<const TxResult> results);

// Transactions a node has already decoded (its mempool), offered to
// Block::decode so that each transaction is decoded once per node (issue 7).
class KnownTxs {
 public:
  virtual ~KnownTxs() = default;
  // The transaction from `from` with `nonce` this node holds, if any. It must
  // have been decoded under limits at least as tight as the block's.
  virtual std::optional<Transaction> find_known(const std::string& from, uint64_t nonce) const = 0;
};

class Block {
 public:
  // Builds a block from a header whose tx_count and txs_root are filled in
  // from `txs` here.
  static Block make(BlockHeader header, std::vector<Transaction> txs);

  // Decodes the wire form and checks its form and limits: sizes, counts and
  // every transaction's form. Does not check the chain, the roots or any
  // signature: see validate().
  static Result<Block> decode(std::string_view text, const ValidityLimits& limits);
  // Same, but a transaction whose text in the block is exactly the JCS of the
  // one `known` holds for its sender and nonce is that one, not decoded
  // again (one text, one value, one id). Any other is decoded as above.
  static Result<Block> decode(std::string_view text, const ValidityLimits& limits,
                              const KnownTxs* known);

  // Everything a block must satisfy without state: header chain is `chain`,
  // tx_count and txs_root match the transactions, and each transaction is of
  // this chain with a valid signature (the first failure is returned).
  Status validate(std::string_view chain) const;

  const BlockHeader& header() const { return header_; }
  const std::vector<Transaction>& txs() const { return txs_; }
  Hash32 id() const { return header_.id(); }
  // JCS of {"header":...,"txs":[...]}.
  std::string canonical() const;
  // canonical().size() without building it.
  size_t canonical_size() const;

 private:
  Block() = default;
  BlockHeader header_;
  std::vector<Transaction> txs_;
};

}  // namespace imi::ledger

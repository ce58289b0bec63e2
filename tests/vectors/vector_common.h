// What the vector generator and the C++ vector tests share: the fixed seeds,
// the limits and chain the vectors use, the order in which a verifier checks
// a transaction, a block and a certificate, and the files' descriptions.
#pragma once

#include <rapidjson/document.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "base/sha256.h"
#include "identity/keys.h"
#include "ledger/block.h"
#include "ledger/certificate.h"
#include "ledger/limits.h"
#include "ledger/transaction.h"

namespace imi::vectors {

inline constexpr std::string_view kChain = "imi-test";

// Seed i = SHA-256("imi/vectors/seed/<i>").
inline identity::Seed seed(int i) {
  return sha256(std::string_view("imi/vectors/seed/" + std::to_string(i)));
}

// Reads tests/vectors/<name> (directory from IMI_VECTORS_DIR). An empty
// document if the file is missing or not JSON: tests check IsObject().
inline rapidjson::Document load(std::string_view name) {
  const char* dir = std::getenv("IMI_VECTORS_DIR");
  std::ifstream f(std::string(dir ? dir : "tests/vectors") + "/" + std::string(name));
  std::stringstream ss;
  ss << f.rdbuf();
  rapidjson::Document d;
  d.Parse(ss.str().c_str(), ss.str().size());
  if (d.HasParseError()) d.SetNull();
  return d;
}

inline std::string_view sv(const rapidjson::Value& v) {
  return std::string_view(v.GetString(), v.GetStringLength());
}

// Small limits, so that "too large" and "too many" cases stay readable.
inline ledger::ValidityLimits limits() {
  ledger::ValidityLimits l;
  l.tx_bytes_max = 1024;
  l.block_bytes_max = 4096;
  l.block_txs_max = 4;
  l.json_depth_max = 6;
  l.json_string_bytes_max = 512;
  l.json_members_max = 16;
  return l;
}

// decode, then chain and signature, then (for a first transaction) the
// sender rule: the first failing code, or ok.
inline Status check_tx(std::string_view text, bool first) {
  auto tx = ledger::Transaction::decode(text, limits());
  if (!tx) return tx.status();
  IMI_RETURN_IF_ERROR(tx->validate(kChain));
  if (first) IMI_RETURN_IF_ERROR(tx->check_first_sender());
  return Status::ok();
}

inline Status check_block(std::string_view text) {
  auto b = ledger::Block::decode(text, limits());
  if (!b) return b.status();
  return b->validate(kChain);
}

inline constexpr std::string_view kTransactionsDescription =
    "Signed transactions (DESIGN Contracts: transaction, signed bytes, sender rule, binary in "
    "JSON). Top level: chain = the chain id the verifier runs; limits = the validity limits "
    "in force (tx_bytes_max: bytes of the text and of its JCS; json_depth_max: nesting, the "
    "transaction object is depth 1; json_string_bytes_max: bytes of one string or key after "
    "unescaping; json_members_max: members of one object or array). valid[]: name; seed = "
    "Ed25519 seed (hex) of the signing key; key = its public key; from; first = whether the "
    "sender rule for a first transaction applies (from must be did(key)); chain, nonce, app, "
    "op, args = the transaction's members; signed_bytes = \"IMI/tx/v1\\n\" + JCS of the "
    "transaction without sig; sig = Ed25519(seed, signed_bytes), deterministic; tx = JCS of "
    "the whole signed transaction; id = hex SHA-256(tx). invalid[]: name; text = the input; "
    "first as above; error = the expected error code. A verifier checks in this order: text "
    "longer than tx_bytes_max (tx.too_large); strict JSON (json.* codes as in jcs.json); "
    "tx.not_object; nesting/member/string limits (json.too_deep, json.too_many_members, "
    "json.string_too_long); members: an unknown one (tx.unknown_field) before a missing one "
    "(tx.missing_field); then each member in the order v (tx.bad_version), chain "
    "(tx.bad_chain: 1..64 of [a-z0-9._-] starting with [a-z0-9]), from (tx.bad_from: "
    "did:imi: + 40 lowercase hex), key (tx.bad_key: 64 lowercase hex; tx.invalid_key: not a "
    "point of the prime-order subgroup, libsodium crypto_core_ed25519_is_valid_point), nonce "
    "(tx.bad_nonce: integer 0..2^53-1), app and op (tx.bad_app, tx.bad_op: 1..32 of [a-z0-9_] "
    "starting with [a-z]), args (tx.bad_args: an object), sig (tx.bad_sig: 128 lowercase "
    "hex); JCS longer than tx_bytes_max (tx.too_large); chain differs from the top-level "
    "chain (tx.wrong_chain); strict Ed25519 verification of sig over signed_bytes "
    "(tx.bad_signature); if first, from != did(key) (tx.key_mismatch).";

inline constexpr std::string_view kBlocksDescription =
    "Block headers, blocks, results and validator sets (DESIGN Contracts: block header, "
    "txs_root, results_root, validators hash). Top level: chain, limits as in "
    "transactions.json (block_bytes_max: bytes of the block text and of its JCS; "
    "block_txs_max: transactions per block). validator_sets[]: name; input = array of "
    "{id,key} in any order; canonical = JCS of that array sorted by id (byte order); hash = "
    "hex SHA-256(canonical); n, f = floor((n-1)/3), q = floor(2n/3)+1; primary = the id of "
    "set[view mod n] for views 0..n. results[]: name; results = [{code,events}] in block "
    "order; leaves = JCS of each; root = RFC 6962 root over the leaves (the empty list's root "
    "is SHA-256 of nothing). headers[]: name; header = the header object; canonical = its "
    "JCS; id = hex SHA-256(canonical). blocks[]: name; text = the block's wire form "
    "{\"header\":{...},\"txs\":[...]}; valid blocks carry id (the header's id) and tx_ids "
    "(hex ids of their transactions, whose raw 32 bytes are the txs_root leaves); invalid ones "
    "carry error. A verifier checks in this order: text longer than block_bytes_max "
    "(block.too_large); strict JSON; block.not_object; members of the block then of the "
    "header (block.unknown_field before block.missing_field); each header member in the "
    "order v, chain, height, prev, time, proposer, txs_root, results_root, state_root, "
    "validators, tx_count (code block.bad_<member>; prev must be 64 zeros exactly when height "
    "is 0; proposer a did:imi; integers 0..2^53-1; hashes 64 lowercase hex); txs not an array "
    "(block.bad_txs); more than block_txs_max transactions (block.too_many_txs); each "
    "transaction's decoding as in transactions.json, limits counted from the transaction "
    "object; JCS of the block longer than block_bytes_max (block.too_large); then header "
    "chain differs (block.wrong_chain); tx_count differs (block.tx_count_mismatch); txs_root "
    "differs (block.txs_root_mismatch); each transaction's chain and signature (tx.* codes).";

inline constexpr std::string_view kCertificatesDescription =
    "Commit certificates (DESIGN Contracts: commit certificate, signed bytes). Top level: "
    "chain; seeds = Ed25519 seeds of the validators (hex), which the cases may reference by "
    "index; validators = the set as [{id,key}] (sorted by id); q = its quorum; height, block = "
    "what each certificate must certify. votes[]: view, canonical = JCS of "
    "{block,chain,height,phase:\"commit\",view}, which a commit vote signs after the tag "
    "\"IMI/vote/v1\\n\". cases[]: name; cert = the certificate's text; error = the expected "
    "code, absent when valid. A verifier checks in this order: strict JSON; cert.not_object; "
    "members (cert.unknown_field before cert.missing_field); height (cert.bad_height), view "
    "(cert.bad_view), block (cert.bad_block), sigs (cert.bad_sigs: an array of "
    "{validator,sig} with a did:imi and 128 lowercase hex, at most 1024 entries, else "
    "cert.too_many_sigs); height differs (cert.wrong_height); block differs "
    "(cert.wrong_block); scanning neighbours, a validator sorting before the previous one "
    "(cert.unsorted) or equal to it (cert.duplicate); a validator not in the set "
    "(cert.not_member); fewer than q entries (cert.no_quorum); a signature that does not "
    "verify under that validator's key (cert.bad_signature).";

}  // namespace imi::vectors

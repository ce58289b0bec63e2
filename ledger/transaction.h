// Transactions (DESIGN "Contracts": transaction, signed bytes, sender rule).
//
// Wire form, always an object with exactly these members:
//   {"v":1,"chain","from","key","nonce","app","op","args","sig"}
//   v      the integer 1
//   chain  chain id: 1..64 characters of [a-z0-9._-], starting with [a-z0-9]
//   from   the sender's account, a did:imi ("did:imi:" + 40 lowercase hex)
//   key    the signing public key, 64 lowercase hex, a valid Ed25519 point
//          in the prime-order subgroup
//   nonce  integer 0..2^53−1, per sender, starting at 0
//   app    application name: 1..32 characters of [a-z0-9_], starting with [a-z]
//   op     operation name, same charset and length as app
//   args   an object, the app's arguments
//   sig    Ed25519 signature, 128 lowercase hex, over the signed bytes
// and one optional member:
//   on_behalf_of  a did:imi other than from: the principal the sender acts
//          for under a delegation (ledger/delegation.h); absent otherwise,
//          so a transaction without it is byte for byte what it always was
// signed bytes = "IMI/tx/v1\n" + JCS(transaction without "sig")
// id           = SHA-256(JCS(whole transaction, "sig" included)); shown as hex
// size         = bytes of JCS(whole transaction), at most tx_bytes_max
//
// Sender rule: an account exists from its first transaction, whose `from`
// must be did(`key`) (key_matches_from(), check_first_sender()). After that,
// `key` must be one of `from`'s current keys when the transaction executes;
// that part needs state, so the executor checks it, not this module.
//
// Error codes (each message names the field and what to do):
//   json.*              the text is not strict JSON (see ledger/json.h)
//   tx.too_large        longer than tx_bytes_max (text before parsing, or JCS)
//   json.too_deep, json.too_many_members, json.string_too_long
//                       beyond the JSON limits of ValidityLimits, counted from
//                       the transaction object (depth 1), also inside a block
//   tx.not_object       the top-level value is not an object
//   tx.missing_field    a member is missing
//   tx.unknown_field    a member not listed above
//   tx.bad_version      v is not the integer 1
//   tx.bad_chain        chain is not a chain id as above
//   tx.bad_from         from is not a did:imi
//   tx.bad_key          key is not 64 lowercase hex
//   tx.invalid_key      key is not a valid Ed25519 public key
//   tx.bad_nonce        nonce is not an integer in 0..2^53−1
//   tx.bad_app, tx.bad_op  not a name as above
//   tx.bad_args         args is not an object
//   tx.bad_sig          sig is not 128 lowercase hex
//   tx.bad_on_behalf_of on_behalf_of is not a did:imi, or equals from
//   tx.wrong_chain      chain differs from the chain this node runs
//   tx.bad_signature    sig does not verify under key (strict Ed25519)
//   tx.key_mismatch     a first transaction whose from is not did(key)
//
// A Transaction is an immutable value holding its parsed document, its
// canonical bytes and its id, each computed once at decode. Copies share all
// of it (one reference count), so the mempool, a block and its executed
// results hold one transaction without copying its strings (issue 7: every
// per-transaction step once per node). Thread-safe for concurrent reads.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"
#include "identity/keys.h"
#include "ledger/limits.h"

namespace imi::ledger {

// True for a chain id: 1..64 of [a-z0-9._-], starting with [a-z0-9].
bool is_valid_chain_id(std::string_view chain);
// True for an app or op name: 1..32 of [a-z0-9_], starting with [a-z].
bool is_valid_name(std::string_view name);

class Transaction {
 public:
  // Decodes and checks the form of a transaction sent as JSON text. Does not
  // check the chain, the signature or the sender rule (see below), so a
  // caller can decode cheaply and verify later, in a batch or a thread pool.
  static Result<Transaction> decode(std::string_view text, const ValidityLimits& limits);
  // Same for a transaction already parsed (copies it into its own document).
  // Checks nesting, member counts and string lengths itself.
  static Result<Transaction> from_json(const rapidjson::Value& value, const ValidityLimits& limits);
  // Same for `value` living inside `doc` (e.g. an element of a block's "txs"),
  // which the transaction keeps alive instead of copying.
  static Result<Transaction> from_json(std::shared_ptr<const rapidjson::Document> doc,
                                       const rapidjson::Value& value, const ValidityLimits& limits);

  // The JCS of the whole transaction: its encoding on disk and on the wire.
  const std::string& canonical() const { return d_->canonical; }
  // SHA-256 of canonical(); the txs_root leaf.
  const Hash32& id() const { return d_->id; }
  std::string id_hex() const { return to_hex(d_->id); }
  // JCS of the transaction without "sig" (the signed bytes after the tag).
  const std::string& unsigned_canonical() const { return d_->unsigned_canonical; }
  // "IMI/tx/v1\n" + unsigned_canonical().
  std::string signed_bytes() const;

  const std::string& chain() const { return d_->chain; }
  const std::string& from() const { return d_->from; }
  const identity::PublicKey& key() const { return d_->key; }
  uint64_t nonce() const { return d_->nonce; }
  const std::string& app() const { return d_->app; }
  const std::string& op() const { return d_->op; }
  // The principal named by "on_behalf_of", empty if none.
  const std::string& on_behalf_of() const { return d_->on_behalf_of; }
  // Whom the transaction acts for: on_behalf_of if present, else from.
  const std::string& actor() const { return d_->on_behalf_of.empty() ? d_->from : d_->on_behalf_of; }
  // The "args" object; lives as long as any copy of this transaction.
  const rapidjson::Value& args() const;
  const identity::Signature& sig() const { return d_->sig; }
  // The whole transaction object as decoded; lives as long as any copy.
  const rapidjson::Value& json() const { return *d_->value; }

  // tx.wrong_chain unless chain() == expected.
  Status check_chain(std::string_view expected) const;
  // tx.bad_signature unless sig verifies over the signed bytes under key.
  Status verify_signature() const;
  // The stateless half of the sender rule: from == did(key).
  bool key_matches_from() const;
  // tx.key_mismatch unless key_matches_from(); for a sender's first transaction.
  Status check_first_sender() const;
  // check_chain, then verify_signature: everything a transaction must pass
  // whatever the state (the size and form were checked by decode).
  Status validate(std::string_view expected_chain) const;

 private:
  struct Data {
    // The document holding the transaction (possibly a whole block); value
    // points into it.
    std::shared_ptr<const rapidjson::Document> doc;
    const rapidjson::Value* value = nullptr;
    std::string canonical;
    std::string unsigned_canonical;
    Hash32 id{};
    std::string chain;
    std::string from;
    identity::PublicKey key{};
    uint64_t nonce = 0;
    std::string app;
    std::string op;
    std::string on_behalf_of;
    identity::Signature sig{};
  };
  explicit Transaction(std::shared_ptr<const Data> d) : d_(std::move(d)) {}

  std::shared_ptr<const Data> d_;  // never null
};

// Builds and signs a transaction for a client: from = did(key's public key).
// `args` must be an object of strict JSON (no floats); errors as decode.
Result<Transaction> make_transaction(const identity::KeyPair& key, std::string_view chain,
                                     uint64_t nonce, std::string_view app, std::string_view op,
                                     const rapidjson::Value& args,
                                     const ValidityLimits& limits = {});
// Same with an explicit `from` (a later transaction of an account whose key
// was rotated): key signs, from names the account.
Result<Transaction> make_transaction_from(const identity::KeyPair& key, std::string_view from,
                                          std::string_view chain, uint64_t nonce,
                                          std::string_view app, std::string_view op,
                                          const rapidjson::Value& args,
                                          const ValidityLimits& limits = {});
// Same, sent on behalf of `principal` (a delegate's transaction); an empty
// principal is a plain transaction.
Result<Transaction> make_transaction_for(const identity::KeyPair& key, std::string_view from,
                                         std::string_view principal, std::string_view chain,
                                         uint64_t nonce, std::string_view app,
                                         std::string_view op, const rapidjson::Value& args,
                                         const ValidityLimits& limits = {});

}  // namespace imi::ledger

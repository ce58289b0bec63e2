#include "ledger/transaction.h"

#include <cassert>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <utility>

#include "base/sha256.h"
#include "ledger/json.h"

namespace imi::ledger {
namespace {

constexpr size_t kChainIdMax = 64;
constexpr size_t kNameMax = 32;

// Replaces the code of a failed accessor with the field's own code, keeping
// the accessor's message (which names the field and the problem).
Status recode(const Status& s, std::string_view code) {
  return Status::error(std::string(code), s.message());
}

// Checks the JSON limits of one transaction counted from its own object
// (depth 1), so a transaction inside a block obeys exactly the limits it
// would obey alone. Iterative: nesting in a hostile value cannot exhaust the
// stack.
Status check_shape(const rapidjson::Value& root, const ValidityLimits& limits) {
  struct Item {
    const rapidjson::Value* v;
    int depth;
  };
  std::vector<Item> stack{{&root, 1}};
  while (!stack.empty()) {
    Item it = stack.back();
    stack.pop_back();
    const rapidjson::Value& v = *it.v;
    if (v.IsString()) {
      if (v.GetStringLength() > limits.json_string_bytes_max)
        return Status::error("json.string_too_long",
                             "a string is longer than json_string_bytes_max (" +
                                 std::to_string(limits.json_string_bytes_max) + " bytes)");
      continue;
    }
    if (!v.IsObject() && !v.IsArray()) continue;
    if (it.depth > limits.json_depth_max)
      return Status::error("json.too_deep", "transaction nests deeper than json_depth_max (" +
                                                std::to_string(limits.json_depth_max) + ")");
    if (v.IsObject()) {
      if (v.MemberCount() > limits.json_members_max)
        return Status::error("json.too_many_members",
                             "an object has more than json_members_max members");
      for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
        if (m->name.GetStringLength() > limits.json_string_bytes_max)
          return Status::error("json.string_too_long",
                               "a key is longer than json_string_bytes_max");
        stack.push_back({&m->value, it.depth + 1});
      }
    } else {
      if (v.Size() > limits.json_members_max)
        return Status::error("json.too_many_members",
                             "an array has more than json_members_max elements");
      for (auto e = v.Begin(); e != v.End(); ++e) stack.push_back({&*e, it.depth + 1});
    }
  }
  return Status::ok();
}

Status too_large(size_t size, const ValidityLimits& limits) {
  return Status::error("tx.too_large", "transaction is " + std::to_string(size) +
                                           " bytes, more than tx_bytes_max (" +
                                           std::to_string(limits.tx_bytes_max) + ")");
}

}  // namespace

bool is_valid_chain_id(std::string_view chain) {
  if (chain.empty() || chain.size() > kChainIdMax) return false;
  for (size_t i = 0; i < chain.size(); ++i) {
    char c = chain[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

bool is_valid_name(std::string_view name) {
  if (name.empty() || name.size() > kNameMax) return false;
  if (name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

Result<Transaction> Transaction::decode(std::string_view text, const ValidityLimits& limits) {
  if (text.size() > limits.tx_bytes_max) return too_large(text.size(), limits);
  auto parsed = parse_strict(text, limits.json(limits.tx_bytes_max, 0, limits.json_members_max));
  if (!parsed) return parsed.status();
  auto doc = std::make_shared<rapidjson::Document>(std::move(parsed).value());
  const rapidjson::Value& root = *doc;
  return from_json(std::move(doc), root, limits);
}

Result<Transaction> Transaction::from_json(const rapidjson::Value& value,
                                           const ValidityLimits& limits) {
  auto doc = std::make_shared<rapidjson::Document>();
  doc->CopyFrom(value, doc->GetAllocator());
  const rapidjson::Value& root = *doc;
  return from_json(std::move(doc), root, limits);
}

Result<Transaction> Transaction::from_json(std::shared_ptr<const rapidjson::Document> doc,
                                           const rapidjson::Value& value,
                                           const ValidityLimits& limits) {
  if (!value.IsObject())
    return Status::error("tx.not_object", "a transaction must be a JSON object");
  IMI_RETURN_IF_ERROR(check_shape(value, limits));
  Status members = expect_members(
      value, {"v", "chain", "from", "key", "nonce", "app", "op", "args", "sig"}, {"on_behalf_of"});
  if (!members.is_ok()) {
    std::string_view code = members.code();
    if (code.starts_with("json.")) code.remove_prefix(5);
    return Status::error("tx." + std::string(code), members.message());
  }

  auto tx = std::make_shared<Data>();
  auto v = get_int(value, "v");
  if (!v || *v != 1)
    return Status::error("tx.bad_version", "\"v\" must be the integer 1 (transaction format v1)");

  auto chain = get_string(value, "chain");
  if (!chain) return recode(chain.status(), "tx.bad_chain");
  if (!is_valid_chain_id(*chain))
    return Status::error("tx.bad_chain",
                         "\"chain\" must be 1..64 of [a-z0-9._-] starting with [a-z0-9]");
  tx->chain = std::string(*chain);

  auto from = get_string(value, "from");
  if (!from) return recode(from.status(), "tx.bad_from");
  if (!identity::is_valid_did(*from))
    return Status::error("tx.bad_from", "\"from\" must be did:imi: followed by 40 lowercase hex");
  tx->from = std::string(*from);

  auto key = get_hex32(value, "key");
  if (!key) return recode(key.status(), "tx.bad_key");
  tx->key = *key;
  if (!identity::is_valid_public_key(tx->key))
    return Status::error("tx.invalid_key",
                         "\"key\" is not a valid Ed25519 public key (small order, "
                         "non-canonical or outside the prime-order subgroup)");

  auto nonce = get_uint(value, "nonce");
  if (!nonce) return recode(nonce.status(), "tx.bad_nonce");
  tx->nonce = *nonce;

  auto app = get_string(value, "app");
  if (!app) return recode(app.status(), "tx.bad_app");
  if (!is_valid_name(*app))
    return Status::error("tx.bad_app", "\"app\" must be 1..32 of [a-z0-9_] starting with [a-z]");
  tx->app = std::string(*app);

  auto op = get_string(value, "op");
  if (!op) return recode(op.status(), "tx.bad_op");
  if (!is_valid_name(*op))
    return Status::error("tx.bad_op", "\"op\" must be 1..32 of [a-z0-9_] starting with [a-z]");
  tx->op = std::string(*op);

  auto args = get_object(value, "args");
  if (!args) return recode(args.status(), "tx.bad_args");

  if (has_field(value, "on_behalf_of")) {
    auto principal = get_string(value, "on_behalf_of");
    if (!principal || !identity::is_valid_did(*principal) || *principal == tx->from)
      return Status::error("tx.bad_on_behalf_of",
                           "\"on_behalf_of\" must be a did:imi other than \"from\": the resident "
                           "the sender acts for under a delegation");
    tx->on_behalf_of = std::string(*principal);
  }

  auto sig = get_hex64(value, "sig");
  if (!sig) return recode(sig.status(), "tx.bad_sig");
  tx->sig = *sig;

  tx->canonical = jcs(value);
  if (tx->canonical.size() > limits.tx_bytes_max) return too_large(tx->canonical.size(), limits);
  // The members are the nine above (and perhaps "on_behalf_of", which sorts
  // before them), so in JCS order the text ends with "sig" then "v" (which is 1): the signed text is the canonical one
  // without its `,"sig":"<128 hex>"`, cut out instead of serialised again.
  static constexpr std::string_view kTail = "\",\"v\":1}";
  static constexpr std::string_view kSigKey = ",\"sig\":\"";
  const size_t sig_at = tx->canonical.size() - kTail.size() - 128 - kSigKey.size();
  tx->unsigned_canonical.reserve(sig_at + 6);
  tx->unsigned_canonical.append(tx->canonical, 0, sig_at);
  tx->unsigned_canonical.append(",\"v\":1}");
  assert(tx->unsigned_canonical == jcs_without(value, "sig"));
  tx->id = sha256(tx->canonical);
  tx->doc = std::move(doc);
  tx->value = &value;
  return Transaction(std::move(tx));
}

const rapidjson::Value& Transaction::args() const { return (*d_->value)["args"]; }

std::string Transaction::signed_bytes() const {
  return identity::signed_bytes(identity::Domain::kTx, d_->unsigned_canonical);
}

Status Transaction::check_chain(std::string_view expected) const {
  if (d_->chain == expected) return Status::ok();
  return Status::error("tx.wrong_chain", "transaction is for chain \"" + d_->chain +
                                             "\" but this is chain \"" + std::string(expected) +
                                             "\"; sign it for this chain");
}

Status Transaction::verify_signature() const {
  if (identity::verify(identity::Domain::kTx, d_->key, d_->unsigned_canonical, d_->sig))
    return Status::ok();
  return Status::error("tx.bad_signature",
                       "\"sig\" does not verify under \"key\" over \"IMI/tx/v1\\n\" + JCS of the "
                       "transaction without \"sig\"; re-sign it");
}

bool Transaction::key_matches_from() const { return identity::did_from_key(d_->key) == d_->from; }

Status Transaction::check_first_sender() const {
  if (key_matches_from()) return Status::ok();
  return Status::error("tx.key_mismatch",
                       "a first transaction must have \"from\" = did(\"key\"), got \"" + d_->from +
                           "\" for key " + to_hex(d_->key));
}

Status Transaction::validate(std::string_view expected_chain) const {
  IMI_RETURN_IF_ERROR(check_chain(expected_chain));
  return verify_signature();
}

Result<Transaction> make_transaction(const identity::KeyPair& key, std::string_view chain,
                                     uint64_t nonce, std::string_view app, std::string_view op,
                                     const rapidjson::Value& args, const ValidityLimits& limits) {
  return make_transaction_from(key, key.did(), chain, nonce, app, op, args, limits);
}

Result<Transaction> make_transaction_from(const identity::KeyPair& key, std::string_view from,
                                          std::string_view chain, uint64_t nonce,
                                          std::string_view app, std::string_view op,
                                          const rapidjson::Value& args,
                                          const ValidityLimits& limits) {
  return make_transaction_for(key, from, {}, chain, nonce, app, op, args, limits);
}

Result<Transaction> make_transaction_for(const identity::KeyPair& key, std::string_view from,
                                         std::string_view principal, std::string_view chain,
                                         uint64_t nonce, std::string_view app,
                                         std::string_view op, const rapidjson::Value& args,
                                         const ValidityLimits& limits) {
  // Write the unsigned transaction as text and parse it strictly, so that
  // args the caller built by hand (a float, say) get the decoder's error
  // instead of reaching the canonical writer.
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&w](std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  };
  w.StartObject();
  w.Key("v");
  w.Int(1);
  w.Key("chain");
  str(chain);
  w.Key("from");
  str(from);
  w.Key("key");
  str(to_hex(key.public_key()));
  w.Key("nonce");
  w.Uint64(nonce);
  if (!principal.empty()) {
    w.Key("on_behalf_of");
    str(principal);
  }
  w.Key("app");
  str(app);
  w.Key("op");
  str(op);
  w.Key("args");
  args.Accept(w);
  w.Key("sig");
  str(std::string(128, '0'));
  w.EndObject();

  auto draft = parse_strict(std::string_view(buf.GetString(), buf.GetSize()),
                            limits.json(limits.tx_bytes_max, 0, limits.json_members_max));
  if (!draft) return draft.status();
  rapidjson::Document& doc = draft.value();
  identity::Signature sig = key.sign(identity::Domain::kTx, jcs_without(doc, "sig"));
  std::string sig_hex = to_hex(sig);
  doc["sig"].SetString(sig_hex.data(), static_cast<rapidjson::SizeType>(sig_hex.size()),
                       doc.GetAllocator());
  auto shared = std::make_shared<rapidjson::Document>(std::move(doc));
  const rapidjson::Value& root = *shared;
  return Transaction::from_json(std::move(shared), root, limits);
}

}  // namespace imi::ledger

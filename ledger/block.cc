#include "ledger/block.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cassert>
#include <utility>

#include "base/sha256.h"
#include "ledger/json.h"
#include "ledger/merkle.h"

namespace imi::ledger {
namespace {

Status recode(const Status& s, std::string code) {
  return Status::error(std::move(code), s.message());
}

// "json.missing_field" → "<prefix>.missing_field", for the member checks.
Status reprefix(const Status& s, std::string_view prefix) {
  std::string_view code = s.code();
  if (code.starts_with("json.")) code.remove_prefix(5);
  return Status::error(std::string(prefix) + "." + std::string(code), s.message());
}

Result<uint64_t> header_uint(const rapidjson::Value& v, std::string_view field) {
  auto r = get_uint(v, field);
  if (!r) return recode(r.status(), "block.bad_" + std::string(field));
  return *r;
}

Result<Hash32> header_hash(const rapidjson::Value& v, std::string_view field) {
  auto r = get_hex32(v, field);
  if (!r) return recode(r.status(), "block.bad_" + std::string(field));
  return *r;
}

void add_string(rapidjson::Document& d, const char* name, std::string_view s) {
  rapidjson::Value v;
  v.SetString(s.data(), static_cast<rapidjson::SizeType>(s.size()), d.GetAllocator());
  d.AddMember(rapidjson::StringRef(name), v, d.GetAllocator());
}

void add_hash(rapidjson::Document& d, const char* name, const Hash32& h) {
  add_string(d, name, to_hex(h));
}

void add_uint(rapidjson::Document& d, const char* name, uint64_t x) {
  d.AddMember(rapidjson::StringRef(name), rapidjson::Value(static_cast<int64_t>(x)),
              d.GetAllocator());
}

Status block_too_large(size_t size, const ValidityLimits& limits) {
  return Status::error("block.too_large", "block is " + std::to_string(size) +
                                              " bytes, more than block_bytes_max (" +
                                              std::to_string(limits.block_bytes_max) + ")");
}

Status check_prev(uint64_t height, const Hash32& prev) {
  const bool zero_prev = prev == Hash32{};
  if (height == 0 && !zero_prev)
    return Status::error("block.bad_prev",
                         "the genesis block (height 0) must have prev = 64 zeros");
  if (height != 0 && zero_prev)
    return Status::error("block.bad_prev", "only the genesis block may have prev = 64 zeros");
  return Status::ok();
}

Status in_tx(size_t i, const Status& s) {
  return Status::error(s.code(), "txs[" + std::to_string(i) + "]: " + s.message());
}

}  // namespace

// ---- BlockHeader ----------------------------------------------------------

Result<BlockHeader> BlockHeader::from_json(const rapidjson::Value& value) {
  if (!value.IsObject())
    return Status::error("block.not_object", "a block header must be a JSON object");
  Status members =
      expect_members(value, {"v", "chain", "height", "prev", "time", "proposer", "txs_root",
                             "results_root", "state_root", "validators", "tx_count"});
  if (!members.is_ok()) return reprefix(members, "block");
  BlockHeader h;
  auto v = get_int(value, "v");
  if (!v || *v != 1)
    return Status::error("block.bad_version", "header \"v\" must be the integer 1");
  auto chain = get_string(value, "chain");
  if (!chain) return recode(chain.status(), "block.bad_chain");
  h.chain = std::string(*chain);
  if (!is_valid_chain_id(h.chain))
    return Status::error("block.bad_chain",
                         "header \"chain\" must be 1..64 of [a-z0-9._-] starting with [a-z0-9]");
  auto height = header_uint(value, "height");
  if (!height) return height.status();
  h.height = *height;
  auto prev = header_hash(value, "prev");
  if (!prev) return prev.status();
  h.prev = *prev;
  IMI_RETURN_IF_ERROR(check_prev(h.height, h.prev));
  auto time = header_uint(value, "time");
  if (!time) return time.status();
  h.time_ms = *time;
  auto proposer = get_string(value, "proposer");
  if (!proposer) return recode(proposer.status(), "block.bad_proposer");
  h.proposer = std::string(*proposer);
  if (!identity::is_valid_did(h.proposer))
    return Status::error("block.bad_proposer", "header \"proposer\" must be a did:imi");
  auto txs_root = header_hash(value, "txs_root");
  if (!txs_root) return txs_root.status();
  h.txs_root = *txs_root;
  auto results_root = header_hash(value, "results_root");
  if (!results_root) return results_root.status();
  h.results_root = *results_root;
  auto state_root = header_hash(value, "state_root");
  if (!state_root) return state_root.status();
  h.state_root = *state_root;
  auto validators = header_hash(value, "validators");
  if (!validators) return validators.status();
  h.validators = *validators;
  auto tx_count = header_uint(value, "tx_count");
  if (!tx_count) return tx_count.status();
  h.tx_count = *tx_count;
  IMI_RETURN_IF_ERROR(h.check_form());
  return h;
}

Result<BlockHeader> BlockHeader::decode(std::string_view text) {
  auto doc = parse_strict(text);
  if (!doc) return doc.status();
  return from_json(*doc);
}

Status BlockHeader::check_form() const {
  if (!is_valid_chain_id(chain))
    return Status::error("block.bad_chain",
                         "header \"chain\" must be 1..64 of [a-z0-9._-] starting with [a-z0-9]");
  if (height > static_cast<uint64_t>(kJsonMaxSafeInteger))
    return Status::error("block.bad_height", "header \"height\" must be at most 2^53-1");
  IMI_RETURN_IF_ERROR(check_prev(height, prev));
  if (time_ms > static_cast<uint64_t>(kJsonMaxSafeInteger))
    return Status::error("block.bad_time", "header \"time\" must be at most 2^53-1");
  if (!identity::is_valid_did(proposer))
    return Status::error("block.bad_proposer", "header \"proposer\" must be a did:imi");
  if (tx_count > static_cast<uint64_t>(kJsonMaxSafeInteger))
    return Status::error("block.bad_tx_count", "header \"tx_count\" must be at most 2^53-1");
  return Status::ok();
}

std::string BlockHeader::canonical() const {
  rapidjson::Document d;
  d.SetObject();
  add_uint(d, "v", 1);
  add_string(d, "chain", chain);
  add_uint(d, "height", height);
  add_hash(d, "prev", prev);
  add_uint(d, "time", time_ms);
  add_string(d, "proposer", proposer);
  add_hash(d, "txs_root", txs_root);
  add_hash(d, "results_root", results_root);
  add_hash(d, "state_root", state_root);
  add_hash(d, "validators", validators);
  add_uint(d, "tx_count", tx_count);
  return jcs(d);
}

Hash32 BlockHeader::id() const { return sha256(canonical()); }

// ---- TxResult -------------------------------------------------------------

Result<TxResult> TxResult::make(int64_t code, const rapidjson::Value& events, std::string message) {
  rapidjson::Document d;
  d.SetObject();
  d.AddMember("code", rapidjson::Value(code), d.GetAllocator());
  rapidjson::Value ev;
  ev.CopyFrom(events, d.GetAllocator());
  d.AddMember("events", ev, d.GetAllocator());
  return from_json(d, std::move(message));
}

TxResult TxResult::of_code(int64_t code, std::string message) {
  rapidjson::Value empty(rapidjson::kArrayType);
  auto r = make(code, empty, std::move(message));
  assert(r.is_ok() && "a result with no events is always well formed");
  return std::move(r).value();
}

Result<TxResult> TxResult::make_deadline(FiredDeadline deadline, int64_t code,
                                         const rapidjson::Value& events, std::string message) {
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  d.AddMember("code", rapidjson::Value(code), a);
  rapidjson::Value dl(rapidjson::kObjectType);
  dl.AddMember("app", rapidjson::Value(deadline.app.c_str(), a), a);
  dl.AddMember("key", rapidjson::Value(deadline.key.c_str(), a), a);
  dl.AddMember("time", rapidjson::Value(static_cast<int64_t>(deadline.time_ms)), a);
  d.AddMember("deadline", dl, a);
  rapidjson::Value ev;
  ev.CopyFrom(events, a);
  d.AddMember("events", ev, a);
  return from_json(d, std::move(message));
}

Result<TxResult> TxResult::from_json(const rapidjson::Value& value, std::string message) {
  if (!value.IsObject())
    return Status::error("result.not_object", "a result must be {\"code\",\"events\"}");
  Status members = expect_members(value, {"code", "events"}, {"deadline"});
  if (!members.is_ok()) return reprefix(members, "result");
  std::optional<FiredDeadline> deadline;
  if (has_field(value, "deadline")) {
    auto dl = get_object(value, "deadline");
    auto bad = Status::error("result.bad_deadline", "deadline must be {\"app\",\"key\",\"time\"}");
    if (!dl || !expect_members(**dl, {"app", "key", "time"}).is_ok()) return bad;
    auto app = get_string(**dl, "app");
    auto key = get_string(**dl, "key");
    auto time = get_uint(**dl, "time");
    if (!app || !key || !time || !is_valid_name(*app)) return bad;
    deadline = FiredDeadline{std::string(*app), std::string(*key), *time};
  }
  auto code = get_int(value, "code");
  if (!code) return recode(code.status(), "result.bad_code");
  auto events = get_array(value, "events");
  if (!events) return recode(events.status(), "result.bad_events");
  // Re-parsing the serialised events checks them under the strict rules
  // (a double put in by an app is an error here, not an assertion in jcs).
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  (*events)->Accept(w);
  auto parsed = parse_strict(std::string_view(buf.GetString(), buf.GetSize()));
  if (!parsed) return recode(parsed.status(), "result.bad_events");
  TxResult r;
  r.code_ = *code;
  r.events_ = std::make_shared<const rapidjson::Document>(std::move(parsed).value());
  if (deadline) {
    rapidjson::Document d(rapidjson::kObjectType);
    auto& a = d.GetAllocator();
    d.AddMember("app", rapidjson::Value(deadline->app.c_str(), a), a);
    d.AddMember("key", rapidjson::Value(deadline->key.c_str(), a), a);
    d.AddMember("time", rapidjson::Value(static_cast<int64_t>(deadline->time_ms)), a);
    r.canonical_ = "{\"code\":" + std::to_string(r.code_) + ",\"deadline\":" + jcs(d) +
                   ",\"events\":" + jcs(*r.events_) + "}";
  } else {
    r.canonical_ = "{\"code\":" + std::to_string(r.code_) + ",\"events\":" + jcs(*r.events_) + "}";
  }
  r.deadline_ = std::move(deadline);
  r.message_ = std::move(message);
  return r;
}

Result<TxResult> TxResult::decode(std::string_view text, std::string message) {
  auto doc = parse_strict(text);
  if (!doc) return doc.status();
  return from_json(*doc, std::move(message));
}

// ---- roots ----------------------------------------------------------------

Hash32 compute_txs_root(std::span<const Transaction> txs) {
  std::vector<Hash32> ids;
  ids.reserve(txs.size());
  for (const Transaction& tx : txs) ids.push_back(tx.id());
  return merkle_root(std::span<const Hash32>(ids));
}

Hash32 compute_results_root(std::span<const TxResult> results) {
  std::vector<Hash32> leaves;
  leaves.reserve(results.size());
  for (const TxResult& r : results) leaves.push_back(merkle_leaf_hash(as_bytes(r.canonical())));
  return merkle_root_from_leaf_hashes(std::move(leaves));
}

// ---- Block ----------------------------------------------------------------

Block Block::make(BlockHeader header, std::vector<Transaction> txs) {
  Block b;
  header.tx_count = txs.size();
  header.txs_root = compute_txs_root(txs);
  b.header_ = std::move(header);
  b.txs_ = std::move(txs);
  return b;
}

Result<Block> Block::decode(std::string_view text, const ValidityLimits& limits) {
  return decode(text, limits, nullptr);
}

namespace {

// The transaction `known` holds for `value`'s sender and nonce if its JCS is
// exactly `text`, the transaction's text in the block: the same text parses
// to the same value, so it is that transaction (a proposer's block is JCS,
// so its transactions' texts are their canonical forms).
std::optional<Transaction> known_tx(const KnownTxs& known, const rapidjson::Value& value,
                                    std::string_view text) {
  if (!value.IsObject()) return std::nullopt;
  auto from = value.FindMember("from");
  auto nonce = value.FindMember("nonce");
  if (from == value.MemberEnd() || !from->value.IsString() || nonce == value.MemberEnd() ||
      !nonce->value.IsUint64())
    return std::nullopt;
  auto tx = known.find_known(std::string(from->value.GetString(), from->value.GetStringLength()),
                             nonce->value.GetUint64());
  if (!tx || tx->canonical() != text) return std::nullopt;
  return tx;
}

}  // namespace

Result<Block> Block::decode(std::string_view text, const ValidityLimits& limits,
                            const KnownTxs* known) {
  if (text.size() > limits.block_bytes_max) return block_too_large(text.size(), limits);
  // Transactions sit two levels down (block object, "txs" array); each is
  // then checked against the exact per-transaction limits.
  std::vector<std::string_view> spans;  // each transaction's text, for `known`
  auto parsed = parse_strict(text, limits.json(limits.block_bytes_max, 2, limits.block_txs_max + 1),
                             known != nullptr ? 2 : -1, spans);
  if (!parsed) return parsed.status();
  auto doc = std::make_shared<rapidjson::Document>(std::move(parsed).value());
  const rapidjson::Value& root = *doc;
  if (!root.IsObject())
    return Status::error("block.not_object", "a block must be {\"header\":{...},\"txs\":[...]}");
  Status members = expect_members(root, {"header", "txs"});
  if (!members.is_ok()) return reprefix(members, "block");
  auto header = BlockHeader::from_json(root["header"]);
  if (!header) return header.status();
  const rapidjson::Value& txs = root["txs"];
  if (!txs.IsArray()) return Status::error("block.bad_txs", "block \"txs\" must be an array");
  if (txs.Size() > limits.block_txs_max)
    return Status::error("block.too_many_txs", "block has " + std::to_string(txs.Size()) +
                                                   " transactions, more than block_txs_max (" +
                                                   std::to_string(limits.block_txs_max) + ")");
  Block b;
  b.header_ = std::move(header).value();
  b.txs_.reserve(txs.Size());
  for (rapidjson::SizeType i = 0; i < txs.Size(); ++i) {
    if (known != nullptr && spans.size() == txs.Size()) {
      if (auto k = known_tx(*known, txs[i], spans[i])) {
        b.txs_.push_back(std::move(*k));
        continue;
      }
    }
    auto tx = Transaction::from_json(doc, txs[i], limits);
    if (!tx) return in_tx(i, tx.status());
    b.txs_.push_back(std::move(tx).value());
  }
  size_t size = b.canonical_size();
  if (size > limits.block_bytes_max) return block_too_large(size, limits);
  return b;
}

Status Block::validate(std::string_view chain) const {
  if (header_.chain != chain)
    return Status::error("block.wrong_chain", "block is for chain \"" + header_.chain +
                                                  "\" but this is chain \"" + std::string(chain) +
                                                  "\"");
  if (header_.tx_count != txs_.size())
    return Status::error("block.tx_count_mismatch",
                         "header tx_count is " + std::to_string(header_.tx_count) +
                             " but the block holds " + std::to_string(txs_.size()) +
                             " transactions");
  if (compute_txs_root(txs_) != header_.txs_root)
    return Status::error("block.txs_root_mismatch",
                         "header txs_root is not the RFC 6962 root of the transaction ids");
  for (size_t i = 0; i < txs_.size(); ++i) {
    Status s = txs_[i].validate(chain);
    if (!s.is_ok()) return in_tx(i, s);
  }
  return Status::ok();
}

std::string Block::canonical() const {
  std::string out;
  out.reserve(canonical_size());
  out += "{\"header\":";
  out += header_.canonical();
  out += ",\"txs\":[";
  for (size_t i = 0; i < txs_.size(); ++i) {
    if (i > 0) out += ',';
    out += txs_[i].canonical();
  }
  out += "]}";
  return out;
}

size_t Block::canonical_size() const {
  // {"header": + header + ,"txs":[ + txs joined by ',' + ]}
  size_t size = 10 + header_.canonical().size() + 8 + 2;
  for (const Transaction& tx : txs_) size += tx.canonical().size();
  if (!txs_.empty()) size += txs_.size() - 1;
  return size;
}

}  // namespace imi::ledger

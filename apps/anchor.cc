#include "apps/anchor.h"

#include <variant>

#include "ledger/json.h"

namespace imi::apps {
namespace {

using ledger::TxOutcome;

struct AnchorArgs {
  std::string hash_hex;
  std::optional<std::string> note;
};

// Parses the args of op "anchor", or says what is wrong with them.
std::variant<AnchorArgs, TxOutcome> parse_args(const ledger::Transaction& tx) {
  if (tx.op() != "anchor") {
    return TxOutcome::fail(ledger::kCodeUnknownOp, "anchor has no op " + tx.op());
  }
  const rapidjson::Value& args = tx.args();
  if (!ledger::expect_members(args, {"hash"}, {"note"}).is_ok()) {
    return TxOutcome::fail(ledger::kCodeBadArgs,
                           "args must be {\"hash\": hex64, \"note\"?: string}");
  }
  auto hash = ledger::get_hex32(args, "hash");
  if (!hash) return TxOutcome::fail(ledger::kCodeBadArgs, "hash must be 64 lowercase hex");
  AnchorArgs out{to_hex(*hash), std::nullopt};
  if (ledger::has_field(args, "note")) {
    auto note = ledger::get_string(args, "note");
    if (!note || note->size() > kAnchorNoteBytesMax) {
      return TxOutcome::fail(
          ledger::kCodeBadArgs,
          "note must be a string of at most " + std::to_string(kAnchorNoteBytesMax) + " bytes");
    }
    out.note = std::string(*note);
  }
  return out;
}

rapidjson::Value str(std::string_view s, rapidjson::Document::AllocatorType& a) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

}  // namespace

Result<TxOutcome> AnchorApp::check(const ledger::Transaction& tx, const ledger::BlockContext&,
                                   const ledger::StateReader& state) const {
  auto parsed = parse_args(tx);
  if (auto* fail = std::get_if<TxOutcome>(&parsed)) return *fail;
  const auto& args = std::get<AnchorArgs>(parsed);
  auto existing = state.get(kAnchorApp, args.hash_hex);
  if (!existing) return existing.status();
  if (existing->has_value()) {
    return TxOutcome::fail(kAnchorCodeDuplicate, args.hash_hex + " is already anchored");
  }
  return TxOutcome::success();
}

Result<TxOutcome> AnchorApp::apply(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                   ledger::AppState& state) const {
  auto checked = check(tx, ctx, state);
  if (!checked || !checked->ok()) return checked;
  auto args = std::get<AnchorArgs>(parse_args(tx));
  rapidjson::Document rec(rapidjson::kObjectType);
  auto& a = rec.GetAllocator();
  rec.AddMember("by", str(tx.from(), a), a);
  rec.AddMember("height", rapidjson::Value(static_cast<int64_t>(ctx.height)), a);
  rec.AddMember("time", rapidjson::Value(static_cast<int64_t>(ctx.time_ms)), a);
  rec.AddMember("tx", str(tx.id_hex(), a), a);
  if (args.note) rec.AddMember("note", str(*args.note, a), a);
  IMI_RETURN_IF_ERROR(state.put(kAnchorApp, args.hash_hex, rec));

  rapidjson::Document ev(rapidjson::kObjectType);
  ev.AddMember("hash", str(args.hash_hex, ev.GetAllocator()), ev.GetAllocator());
  ev.AddMember("type", "anchored", ev.GetAllocator());
  state.emit(ev);
  return TxOutcome::success();
}

Result<std::optional<AnchorRecord>> anchor_lookup(const ledger::StateReader& state,
                                                  const Hash32& hash) {
  auto doc = state.get_json(kAnchorApp, to_hex(hash));
  if (!doc) return doc.status();
  if (!doc->has_value()) return std::optional<AnchorRecord>();
  const rapidjson::Value& v = **doc;
  auto corrupt =
      Status::error("state.corrupt_value", "anchor record " + to_hex(hash) + " is malformed");
  if (!ledger::expect_members(v, {"by", "height", "time", "tx"}, {"note"}).is_ok()) return corrupt;
  auto by = ledger::get_string(v, "by");
  auto height = ledger::get_uint(v, "height");
  auto time = ledger::get_uint(v, "time");
  auto tx = ledger::get_hex32(v, "tx");
  if (!by || !height || !time || !tx) return corrupt;
  AnchorRecord r{std::string(*by), *height, *time, *tx, std::nullopt};
  if (ledger::has_field(v, "note")) {
    auto note = ledger::get_string(v, "note");
    if (!note) return corrupt;
    r.note = std::string(*note);
  }
  return std::optional<AnchorRecord>(std::move(r));
}

}  // namespace imi::apps

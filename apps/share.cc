// The share app: parameters, dispatch, deadlines, queries and the record
// helpers the ops share. The ops live in share_loans.cc and share_urgent.cc.
#include "apps/share.h"

#include <algorithm>
#include <charconv>

#include "apps/share_internal.h"
#include "identity/keys.h"
#include "ledger/genesis.h"
#include "ledger/transaction.h"

namespace imi::apps {
namespace share_detail {

void set(rapidjson::Value& obj, std::string_view name, rapidjson::Value value, Alloc& a) {
  auto it = obj.FindMember(rapidjson::StringRef(name.data(), name.size()));
  if (it != obj.MemberEnd()) {
    it->value = value;
  } else {
    obj.AddMember(str(name, a), value, a);
  }
}

std::string str_of(const rapidjson::Value& obj, std::string_view name) {
  auto it = obj.FindMember(rapidjson::StringRef(name.data(), name.size()));
  if (it == obj.MemberEnd() || !it->value.IsString()) return {};
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

int64_t int_of(const rapidjson::Value& obj, std::string_view name, int64_t def) {
  auto it = obj.FindMember(rapidjson::StringRef(name.data(), name.size()));
  if (it == obj.MemberEnd() || !it->value.IsInt64()) return def;
  return it->value.GetInt64();
}

bool bool_of(const rapidjson::Value& obj, std::string_view name) {
  auto it = obj.FindMember(rapidjson::StringRef(name.data(), name.size()));
  return it != obj.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}

bool is_valid_label(std::string_view s) { return ledger::is_valid_name(s); }

bool is_valid_committee(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '-';
  });
}

bool is_valid_id(std::string_view s) {
  return s.size() == 32 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::optional<TxOutcome> expect_args(const rapidjson::Value& args,
                                     std::initializer_list<std::string_view> required,
                                     std::initializer_list<std::string_view> optional) {
  Status s = ledger::expect_members(args, required, optional);
  if (s.is_ok()) return std::nullopt;
  // The json.* message names the field.
  return TxOutcome::fail(ledger::kCodeBadArgs, "args: " + s.message());
}

Result<std::string> string_arg(const rapidjson::Value& args, std::string_view field,
                               bool (*valid)(std::string_view)) {
  auto v = ledger::get_string(args, field);
  if (!v || (valid && !valid(*v))) return Status::error("bad", std::string(field) + ": malformed");
  return std::string(*v);
}

Result<std::string> id_arg(const rapidjson::Value& args, std::string_view field) {
  return string_arg(args, field, &is_valid_id);
}

Result<std::optional<rapidjson::Document>> read(const ledger::StateReader& state,
                                                std::string_view key) {
  return state.get_json(kShareApp, key);
}

Status write(ledger::AppState& w, std::string_view key, const rapidjson::Value& value) {
  return w.put(kShareApp, key, value);
}

Status write_ref(ledger::AppState& w, std::string_view key, std::string_view id) {
  rapidjson::Document d(rapidjson::kObjectType);
  d.AddMember("id", str(id, d.GetAllocator()), d.GetAllocator());
  return write(w, key, d);
}

Status erase(ledger::AppState& w, std::string_view key) { return w.erase(kShareApp, key); }

Result<rapidjson::Document> read_count(const ledger::StateReader& state, std::string_view did) {
  auto doc = read(state, "count/" + std::string(did));
  if (!doc) return doc.status();
  if (doc->has_value()) return std::move(**doc);
  rapidjson::Document d(rapidjson::kObjectType);
  d.AddMember("open_listings", 0, d.GetAllocator());
  d.AddMember("urgent", rapidjson::Value(rapidjson::kArrayType), d.GetAllocator());
  return d;
}

Status add_open_listings(ledger::AppState& w, std::string_view did, int64_t delta) {
  auto c = read_count(w, did);
  if (!c) return c.status();
  int64_t n = std::max<int64_t>(0, int_of(*c, "open_listings") + delta);
  set(*c, "open_listings", num(n), c->GetAllocator());
  return write(w, "count/" + std::string(did), *c);
}

Status add_reputation(ledger::AppState& w, std::string_view did,
                      std::initializer_list<std::pair<std::string_view, int64_t>> deltas) {
  const std::string key = "reputation/" + std::string(did);
  auto doc = read(w, key);
  if (!doc) return doc.status();
  rapidjson::Document r(rapidjson::kObjectType);
  if (doc->has_value()) r = std::move(**doc);
  auto& a = r.GetAllocator();
  for (std::string_view f :
       {"late_returns", "loans_completed", "on_time_returns", "ratings_count", "ratings_sum"}) {
    if (!r.HasMember(rapidjson::StringRef(f.data(), f.size()))) set(r, f, num(0), a);
  }
  for (const auto& [field, delta] : deltas) set(r, field, num(int_of(r, field) + delta), a);
  return write(w, key, r);
}

void emit(ledger::AppState& w, rapidjson::Document& ev, std::string_view type) {
  set(ev, "type", str(type, ev.GetAllocator()), ev.GetAllocator());
  w.emit(ev);
}

namespace {

struct ParamField {
  std::string_view name;
  uint64_t ShareParams::*field;
};
constexpr ParamField kParamFields[] = {
    {"availability_bytes_max", &ShareParams::availability_bytes_max},
    {"description_bytes_max", &ShareParams::description_bytes_max},
    {"loan_duration_ms_max", &ShareParams::loan_duration_ms_max},
    {"open_listings_per_did_max", &ShareParams::open_listings_per_did_max},
    {"responders_per_cell_max", &ShareParams::responders_per_cell_max},
    {"sealed_bytes_max", &ShareParams::sealed_bytes_max},
    {"title_bytes_max", &ShareParams::title_bytes_max},
    {"urgent_expiry_ms_max", &ShareParams::urgent_expiry_ms_max},
    {"urgent_expiry_ms_min", &ShareParams::urgent_expiry_ms_min},
    {"urgent_per_did_per_hour_max", &ShareParams::urgent_per_did_per_hour_max},
};

Status bad_params(std::string message) {
  return Status::error("share.bad_params", "genesis apps.share: " + std::move(message));
}

// Reads parameters over `p` from `obj`; an error names the member.
Status params_from_json(const rapidjson::Value& obj, ShareParams& p) {
  if (!obj.IsObject()) return bad_params("must be an object");
  for (const auto& m : obj.GetObject()) {
    std::string_view name(m.name.GetString(), m.name.GetStringLength());
    auto f = std::find_if(std::begin(kParamFields), std::end(kParamFields),
                          [&](const ParamField& pf) { return pf.name == name; });
    if (f == std::end(kParamFields)) return bad_params("unknown parameter " + std::string(name));
    if (!m.value.IsInt64() || m.value.GetInt64() <= 0)
      return bad_params(std::string(name) + " must be a positive integer");
    p.*(f->field) = static_cast<uint64_t>(m.value.GetInt64());
  }
  if (p.urgent_expiry_ms_min > p.urgent_expiry_ms_max)
    return bad_params("urgent_expiry_ms_min must not exceed urgent_expiry_ms_max");
  return Status::ok();
}

rapidjson::Document params_to_json(const ShareParams& p) {
  rapidjson::Document d(rapidjson::kObjectType);
  for (const auto& f : kParamFields)
    d.AddMember(str(f.name, d.GetAllocator()), num(static_cast<int64_t>(p.*(f.field))),
                d.GetAllocator());
  return d;
}

Result<ShareParams> read_params(const ledger::StateReader& state) {
  ShareParams p;
  auto doc = read(state, "params");
  if (!doc) return doc.status();
  if (!doc->has_value()) return p;
  Status s = params_from_json(**doc, p);
  if (!s.is_ok()) return Status::error("state.corrupt_value", s.message());
  return p;
}

Result<TxOutcome> run(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                      const ledger::StateReader& state, ledger::AppState* w) {
  auto params = read_params(state);
  if (!params) return params.status();
  Op op{tx, ctx, state, w, *params};
  if (!tx.args().IsObject()) return bad("args", "must be an object");
  const std::string& name = tx.op();
  if (name == "list") return op_list(op);
  if (name == "unlist") return op_unlist(op);
  if (name == "request") return op_request(op);
  if (name == "accept" || name == "decline" || name == "cancel" || name == "handover" ||
      name == "return" || name == "rate")
    return op_loan_step(op);
  if (name == "certify") return op_certify(op);
  if (name == "uncertify") return op_uncertify(op);
  if (name == "register_responder" || name == "unregister_responder") return op_responder(op);
  if (name == "urgent") return op_urgent(op);
  if (name == "respond" || name == "arrived" || name == "close_urgent") return op_urgent_step(op);
  return TxOutcome::fail(ledger::kCodeUnknownOp, "share has no op " + name);
}

// "<prefix>/.../<id>" -> "<record>/<id>" for the query helpers.
std::string last_segment(const ledger::IndexEntry& e) { return e.key.substr(e.key.rfind('/') + 1); }
std::string to_listing(const ledger::IndexEntry& e) { return "listing/" + last_segment(e); }
std::string to_loan(const ledger::IndexEntry& e) { return "loan/" + last_segment(e); }
std::string to_urgent(const ledger::IndexEntry& e) { return "urgent/" + last_segment(e); }

Result<std::string> query_param(const ledger::QueryParams& params, std::string_view name,
                                bool (*valid)(std::string_view), std::string_view what) {
  auto it = params.find(name);
  if (it == params.end() || !valid(it->second))
    return Status::error("query.bad_param", std::string(name) + " must be " + std::string(what));
  return it->second;
}

bool valid_did(std::string_view s) { return identity::is_valid_did(s); }

bool parse_coord(std::string_view s, int& out) {
  if (s.empty() || s.size() > 4 || (s.size() > 1 && s[0] == '0')) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool parse_cell(std::string_view cell, int& row, int& col) {
  if (cell.size() < 4 || cell[0] != 'r') return false;
  size_t c = cell.find('c');
  if (c == std::string_view::npos) return false;
  return parse_coord(cell.substr(1, c - 1), row) && parse_coord(cell.substr(c + 1), col);
}

}  // namespace
}  // namespace share_detail

using namespace share_detail;

bool is_valid_cell(std::string_view cell) {
  int row = 0, col = 0;
  return parse_cell(cell, row, col);
}

std::vector<std::string> cell_and_neighbours(std::string_view cell) {
  std::vector<std::string> out;
  int row = 0, col = 0;
  if (!parse_cell(cell, row, col)) return out;
  for (int r = row - 1; r <= row + 1; ++r) {
    for (int c = col - 1; c <= col + 1; ++c) {
      if (r < 0 || c < 0 || r > 9999 || c > 9999) continue;
      out.push_back("r" + std::to_string(r) + "c" + std::to_string(c));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status ShareApp::init_genesis(const ledger::Genesis& genesis, ledger::AppState& state) const {
  auto given = genesis.app_params(kShareApp);
  if (!given) return bad_params(given.status().message());
  ShareParams p;
  if (given->has_value()) IMI_RETURN_IF_ERROR(params_from_json(**given, p));
  return write(state, "params", params_to_json(p));
}

Result<TxOutcome> ShareApp::check(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                  const ledger::StateReader& state) const {
  return run(tx, ctx, state, nullptr);
}

Result<TxOutcome> ShareApp::apply(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                  ledger::AppState& state) const {
  return run(tx, ctx, state, &state);
}

Result<TxOutcome> ShareApp::on_deadline(std::string_view key, const ledger::BlockContext& ctx,
                                        ledger::AppState& state) const {
  if (key.starts_with("loan/")) return loan_deadline(key.substr(5), ctx, state);
  if (key.starts_with("urgent/")) return urgent_deadline(key.substr(7), ctx, state);
  return TxOutcome::fail(ledger::kCodeNotFound, "share has no deadline " + std::string(key));
}

Result<ledger::QueryPage> ShareApp::query(std::string_view name, const ledger::QueryParams& params,
                                          std::string_view cursor, size_t limit,
                                          const ledger::IndexReader& index) const {
  if (name == "listings" || name == "urgent") {
    auto cell = query_param(params, "cell", &is_valid_cell, "a cell r<row>c<col>");
    if (!cell) return cell.status();
    if (name == "listings")
      return ledger::scan_query(index, kShareApp, "open/" + *cell + "/", cursor, limit,
                                &to_listing);
    return ledger::scan_query(index, kShareApp, "urgent_open/" + *cell + "/", cursor, limit,
                              &to_urgent);
  }
  if (name == "owned" || name == "loans") {
    auto did = query_param(params, "did", &valid_did, "a did:imi");
    if (!did) return did.status();
    if (name == "owned")
      return ledger::scan_query(index, kShareApp, "owned/" + *did + "/", cursor, limit,
                                &to_listing);
    return ledger::scan_query(index, kShareApp, "loans/" + *did + "/", cursor, limit, &to_loan);
  }
  if (name == "responders") {
    auto skill = query_param(params, "skill", &is_valid_label, "a skill name");
    if (!skill) return skill.status();
    auto cell = query_param(params, "cell", &is_valid_cell, "a cell r<row>c<col>");
    if (!cell) return cell.status();
    return ledger::scan_query(index, kShareApp, "responder/" + *skill + "/" + *cell + "/", cursor,
                              limit);
  }
  return Status::error("query.unknown",
                       "share has no query " + std::string(name) +
                           " (queries: listings, owned, loans, urgent, responders)");
}

}  // namespace imi::apps

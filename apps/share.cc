// The share app: parameters, dispatch, deadlines, queries and the record
// helpers the ops share. The ops live in share_loans.cc and share_urgent.cc.
#include "apps/share.h"

#include <algorithm>
#include <charconv>

#include "apps/share_internal.h"
#include "ledger/genesis.h"
#include "ledger/transaction.h"

namespace imi::apps {
namespace share_detail {

bool is_valid_label(std::string_view s) { return ledger::is_valid_name(s); }

bool is_valid_committee(std::string_view s) { return util::is_valid_token(s, true); }

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

namespace {

using ParamField = util::ParamField<ShareParams>;
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

Status bad_params(std::string message) { return util::bad_params(kShareApp, std::move(message)); }

// Reads parameters over `p` from `obj`; an error names the member.
Status params_from_json(const rapidjson::Value& obj, ShareParams& p) {
  IMI_RETURN_IF_ERROR(
      util::params_from_json<ShareParams>(kShareApp, std::span(kParamFields), obj, p));
  if (p.urgent_expiry_ms_min > p.urgent_expiry_ms_max)
    return bad_params("urgent_expiry_ms_min must not exceed urgent_expiry_ms_max");
  return Status::ok();
}

Result<ShareParams> read_params(const ledger::StateReader& state) {
  return util::load_params<ShareParams>(state, kShareApp, &params_from_json);
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
using util::last_segment;
std::string to_listing(const ledger::IndexEntry& e) { return "listing/" + last_segment(e); }
std::string to_loan(const ledger::IndexEntry& e) { return "loan/" + last_segment(e); }
std::string to_urgent(const ledger::IndexEntry& e) { return "urgent/" + last_segment(e); }

using util::is_valid_did;
using util::query_param;

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
  return util::init_params<ShareParams>(genesis, state, kShareApp, std::span(kParamFields),
                                        &params_from_json);
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
    auto did = query_param(params, "did", &is_valid_did, "a did:imi");
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

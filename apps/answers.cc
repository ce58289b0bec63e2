#include "apps/answers.h"

#include <sodium.h>

#include <algorithm>

#include "apps/governance.h"
#include "base/sha256.h"
#include "identity/base64url.h"
#include "identity/sealed.h"
#include "ledger/executor_account.h"
#include "ledger/json.h"

namespace imi::apps {
namespace {

using ledger::TxOutcome;
constexpr size_t kQuestionBytesMax = 512;

rapidjson::Value str(std::string_view s, rapidjson::Document::AllocatorType& a) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

rapidjson::Document opening_json(const AnswerOpening& o) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("answer", o.answer, a);
  d.AddMember("case", str(o.case_id, a), a);
  d.AddMember("question", str(o.question, a), a);
  d.AddMember("salt", str(to_hex(o.salt), a), a);
  return d;
}

std::string record_key(std::string_view case_id, std::string_view commitment_hex) {
  return "answer/" + std::string(case_id) + "/" + std::string(commitment_hex);
}

Result<bool> has_any_role(const ledger::StateReader& state, std::string_view did) {
  for (auto role : kAnswerRoles) {
    auto has = has_role(state, did, role);
    if (!has) return has.status();
    if (*has) return true;
  }
  return false;
}

Result<TxOutcome> run(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                      const ledger::StateReader& state, ledger::AppState* w) {
  if (tx.op() != "answer")
    return TxOutcome::fail(ledger::kCodeUnknownOp, "answers has no op " + tx.op());
  const auto& args = tx.args();
  if (!ledger::expect_members(args, {"answer", "sealed"}).is_ok()) {
    return TxOutcome::fail(ledger::kCodeBadArgs, "args must be {\"answer\": {...}, \"sealed\"}");
  }
  const auto& s = args["answer"];
  if (!ledger::expect_members(
           s, {"authority", "authority_key", "case", "commitment", "department", "sig"})
           .is_ok()) {
    return TxOutcome::fail(ledger::kCodeBadArgs,
                           "answer must be {authority, authority_key, case, commitment, "
                           "department, sig}");
  }
  auto authority = ledger::get_string(s, "authority");
  auto key = ledger::get_hex32(s, "authority_key");
  auto case_id = ledger::get_string(s, "case");
  auto commitment = ledger::get_hex32(s, "commitment");
  auto department = ledger::get_string(s, "department");
  auto sig = ledger::get_hex64(s, "sig");
  auto sealed = ledger::get_string(args, "sealed");
  auto sealed_raw = sealed ? identity::base64url_decode(*sealed) : std::nullopt;
  if (!authority || !key || !case_id || !is_valid_case_id(*case_id) || !commitment || !department ||
      !sig || !sealed_raw || sealed_raw->size() > kAnswerSealedBytesMax ||
      sealed_raw->size() < identity::kSealedOverheadBytes) {
    return TxOutcome::fail(ledger::kCodeBadArgs,
                           "answer fields malformed (case id, hex64 commitment and key, "
                           "base64url sealed box of at most 1024 bytes)");
  }
  auto is_authority = has_any_role(state, *authority);
  if (!is_authority) return is_authority.status();
  auto is_department = has_role(state, *department, "department");
  if (!is_department) return is_department.status();
  if (!*is_authority || !*is_department) {
    return TxOutcome::fail(ledger::kCodeForbidden,
                           "the authority needs an answering role and the department the role "
                           "\"department\"");
  }
  auto account = ledger::read_account(state, *authority);
  if (!account) return account.status();
  if (!account->has_value() || !(*account)->has_key(*key) ||
      !identity::verify(identity::Domain::kAnswer, *key, ledger::jcs_without(s, "sig"), *sig)) {
    return TxOutcome::fail(kAnswerCodeBadSignature,
                           "the answer is not signed by a current key of its authority");
  }
  const std::string rkey = record_key(*case_id, to_hex(*commitment));
  auto existing = state.get(kAnswersApp, rkey);
  if (!existing) return existing.status();
  if (existing->has_value()) return TxOutcome::fail(ledger::kCodeConflict, "already answered");
  if (!w) return TxOutcome::success();
  rapidjson::Document rec(rapidjson::kObjectType);
  auto& a = rec.GetAllocator();
  rec.AddMember("authority", str(*authority, a), a);
  rec.AddMember("department", str(*department, a), a);
  rec.AddMember("height", rapidjson::Value(static_cast<int64_t>(ctx.height)), a);
  rec.AddMember("time", rapidjson::Value(static_cast<int64_t>(ctx.time_ms)), a);
  IMI_RETURN_IF_ERROR(w->put(kAnswersApp, rkey, rec));
  rapidjson::Document ev(rapidjson::kObjectType);
  ev.AddMember("case", str(*case_id, ev.GetAllocator()), ev.GetAllocator());
  ev.AddMember("type", "answered", ev.GetAllocator());
  w->emit(ev);
  return TxOutcome::success();
}

}  // namespace

Result<TxOutcome> AnswersApp::check(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                    const ledger::StateReader& state) const {
  return run(tx, ctx, state, nullptr);
}
Result<TxOutcome> AnswersApp::apply(const ledger::Transaction& tx, const ledger::BlockContext& ctx,
                                    ledger::AppState& state) const {
  return run(tx, ctx, state, &state);
}

bool is_valid_case_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '-';
  });
}

Hash32 answer_commitment(const AnswerOpening& opening) {
  return sha256(ledger::jcs(opening_json(opening)));
}

Result<rapidjson::Document> make_answer_args(const identity::KeyPair& authority,
                                             AnswerOpening opening, std::string_view department_did,
                                             const identity::PublicKey& department_key) {
  if (!is_valid_case_id(opening.case_id) || opening.question.size() > kQuestionBytesMax) {
    return Status::error("answers.bad_request",
                         "case id must be 1..64 of [A-Za-z0-9._:-] and "
                         "the question at most 512 bytes");
  }
  if (opening.salt == Hash32{}) {
    if (sodium_init() < 0) std::abort();
    randombytes_buf(opening.salt.data(), opening.salt.size());
  }
  auto sealed = identity::seal(department_key, as_bytes(ledger::jcs(opening_json(opening))));
  if (!sealed) return sealed.status();
  rapidjson::Document args(rapidjson::kObjectType);
  auto& a = args.GetAllocator();
  rapidjson::Value s(rapidjson::kObjectType);
  s.AddMember("authority", str(authority.did(), a), a);
  s.AddMember("authority_key", str(to_hex(authority.public_key()), a), a);
  s.AddMember("case", str(opening.case_id, a), a);
  s.AddMember("commitment", str(to_hex(answer_commitment(opening)), a), a);
  s.AddMember("department", str(department_did, a), a);
  auto sig = authority.sign(identity::Domain::kAnswer, ledger::jcs(s));
  s.AddMember("sig", str(to_hex(sig), a), a);
  args.AddMember("answer", s, a);
  args.AddMember("sealed", str(identity::base64url_encode(*sealed), a), a);
  return args;
}

Result<AnswerOpening> open_answer(const identity::KeyPair& department,
                                  std::string_view sealed_b64) {
  auto raw = identity::base64url_decode(sealed_b64);
  if (!raw) return Status::error("answers.bad_opening", "sealed must be base64url");
  auto plain = identity::open_sealed(department, *raw);
  if (!plain) return plain.status();
  auto doc = ledger::parse_strict(
      std::string_view(reinterpret_cast<const char*>(plain->data()), plain->size()));
  auto bad = Status::error("answers.bad_opening", "the opening is not an answer opening");
  if (!doc || !ledger::expect_members(*doc, {"answer", "case", "question", "salt"}).is_ok()) {
    return bad;
  }
  auto answer = ledger::get_bool(*doc, "answer");
  auto case_id = ledger::get_string(*doc, "case");
  auto question = ledger::get_string(*doc, "question");
  auto salt = ledger::get_hex32(*doc, "salt");
  if (!answer || !case_id || !question || !salt) return bad;
  return AnswerOpening{std::string(*case_id), std::string(*question), *answer, *salt};
}

Result<std::optional<AnswerRecord>> find_answer(const ledger::StateReader& state,
                                                const AnswerOpening& opening) {
  if (!is_valid_case_id(opening.case_id)) return std::optional<AnswerRecord>();
  auto doc =
      state.get_json(kAnswersApp, record_key(opening.case_id, to_hex(answer_commitment(opening))));
  if (!doc) return doc.status();
  if (!doc->has_value()) return std::optional<AnswerRecord>();
  auto authority = ledger::get_string(**doc, "authority");
  auto department = ledger::get_string(**doc, "department");
  auto height = ledger::get_uint(**doc, "height");
  if (!authority || !department || !height) {
    return Status::error("state.corrupt_value", "answer record malformed");
  }
  return std::optional<AnswerRecord>(
      AnswerRecord{std::string(*authority), std::string(*department), *height});
}

}  // namespace imi::apps

#include "ledger/certificate.h"

#include <algorithm>

#include "ledger/json.h"

namespace imi::ledger {
namespace {

Status recode(const Status& s, std::string code) {
  return Status::error(std::move(code), s.message());
}

}  // namespace

std::string commit_vote_canonical(std::string_view chain, uint64_t height, uint64_t view,
                                  const Hash32& block) {
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  std::string block_hex = to_hex(block);
  d.AddMember("chain",
              rapidjson::Value(chain.data(), static_cast<rapidjson::SizeType>(chain.size()), a), a);
  d.AddMember("height", rapidjson::Value(static_cast<int64_t>(height)), a);
  d.AddMember("view", rapidjson::Value(static_cast<int64_t>(view)), a);
  d.AddMember("block", rapidjson::Value(block_hex.data(), 64, a), a);
  d.AddMember("phase", "commit", a);
  return jcs(d);
}

identity::Signature sign_commit_vote(const identity::KeyPair& key, std::string_view chain,
                                     uint64_t height, uint64_t view, const Hash32& block) {
  return key.sign(identity::Domain::kVote, commit_vote_canonical(chain, height, view, block));
}

Result<CommitCertificate> CommitCertificate::from_json(const rapidjson::Value& value) {
  if (!value.IsObject())
    return Status::error("cert.not_object", "a commit certificate must be a JSON object");
  Status members = expect_members(value, {"height", "view", "block", "sigs"});
  if (!members.is_ok()) {
    std::string_view code = members.code();
    if (code.starts_with("json.")) code.remove_prefix(5);
    return Status::error("cert." + std::string(code), members.message());
  }
  CommitCertificate c;
  auto height = get_uint(value, "height");
  if (!height) return recode(height.status(), "cert.bad_height");
  c.height = *height;
  auto view = get_uint(value, "view");
  if (!view) return recode(view.status(), "cert.bad_view");
  c.view = *view;
  auto block = get_hex32(value, "block");
  if (!block) return recode(block.status(), "cert.bad_block");
  c.block = *block;
  auto sigs = get_array(value, "sigs");
  if (!sigs) return recode(sigs.status(), "cert.bad_sigs");
  const rapidjson::Value& arr = **sigs;
  if (arr.Size() > kSigsMax)
    return Status::error("cert.too_many_sigs",
                         "a certificate holds at most " + std::to_string(kSigsMax) + " signatures");
  c.sigs.reserve(arr.Size());
  for (rapidjson::SizeType i = 0; i < arr.Size(); ++i) {
    const std::string where = "sigs[" + std::to_string(i) + "]: ";
    Status m = expect_members(arr[i], {"validator", "sig"});
    if (!m.is_ok()) return Status::error("cert.bad_sigs", where + m.message());
    auto validator = get_string(arr[i], "validator");
    if (!validator) return Status::error("cert.bad_sigs", where + validator.status().message());
    if (!identity::is_valid_did(*validator))
      return Status::error("cert.bad_sigs", where + "\"validator\" must be a did:imi");
    auto sig = get_hex64(arr[i], "sig");
    if (!sig) return Status::error("cert.bad_sigs", where + sig.status().message());
    c.sigs.push_back(CommitSig{std::string(*validator), *sig});
  }
  return c;
}

Result<CommitCertificate> CommitCertificate::decode(std::string_view text) {
  JsonLimits limits;
  limits.max_bytes = 256 + kSigsMax * 512;
  limits.max_depth = 3;
  limits.max_members = kSigsMax + 1;
  auto doc = parse_strict(text, limits);
  if (!doc) return doc.status();
  return from_json(*doc);
}

std::string CommitCertificate::canonical() const {
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  std::string block_hex = to_hex(block);
  d.AddMember("height", rapidjson::Value(static_cast<int64_t>(height)), a);
  d.AddMember("view", rapidjson::Value(static_cast<int64_t>(view)), a);
  d.AddMember("block", rapidjson::Value(block_hex.data(), 64, a), a);
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const CommitSig& s : sigs) {
    rapidjson::Value e(rapidjson::kObjectType);
    std::string sig_hex = to_hex(s.sig);
    e.AddMember("validator",
                rapidjson::Value(s.validator.data(),
                                 static_cast<rapidjson::SizeType>(s.validator.size()), a),
                a);
    e.AddMember("sig", rapidjson::Value(sig_hex.data(), 128, a), a);
    arr.PushBack(e, a);
  }
  d.AddMember("sigs", arr, a);
  return jcs(d);
}

Status CommitCertificate::validate(const ValidatorSet& set, std::string_view chain,
                                   uint64_t expected_height, const Hash32& block_id) const {
  if (height != expected_height)
    return Status::error("cert.wrong_height", "certificate is for height " +
                                                  std::to_string(height) + ", expected " +
                                                  std::to_string(expected_height));
  if (block != block_id)
    return Status::error("cert.wrong_block", "certificate is for block " + to_hex(block) +
                                                 ", expected " + to_hex(block_id));
  for (size_t i = 1; i < sigs.size(); ++i) {
    if (sigs[i].validator < sigs[i - 1].validator)
      return Status::error("cert.unsorted", "sigs must be sorted by validator; " +
                                                sigs[i].validator + " comes after " +
                                                sigs[i - 1].validator);
    if (sigs[i].validator == sigs[i - 1].validator)
      return Status::error("cert.duplicate", sigs[i].validator + " signs twice");
  }
  for (const CommitSig& s : sigs)
    if (set.find(s.validator) == nullptr)
      return Status::error("cert.not_member", s.validator + " is not in the validator set");
  if (sigs.size() < set.q())
    return Status::error("cert.no_quorum", "certificate has " + std::to_string(sigs.size()) +
                                               " signatures, the quorum is " +
                                               std::to_string(set.q()));
  const std::string vote = commit_vote_canonical(chain, height, view, block);
  for (const CommitSig& s : sigs) {
    if (!identity::verify(identity::Domain::kVote, set.find(s.validator)->key, vote, s.sig))
      return Status::error("cert.bad_signature",
                           "the commit vote of " + s.validator + " does not verify");
  }
  return Status::ok();
}

void CommitCertificate::sort_sigs() {
  std::sort(sigs.begin(), sigs.end(),
            [](const CommitSig& a, const CommitSig& b) { return a.validator < b.validator; });
}

}  // namespace imi::ledger

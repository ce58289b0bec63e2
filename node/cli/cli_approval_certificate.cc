// imi approval issue-certificate: the deciding department issues the
// certificate of an approved case as an SD-JWT VC to the applicant's DID
// (its key-1) with its own key, off chain, with an entry of its status list
// (identity app; created with `imi credential list-create`), writes it to
// --out for the applicant, and records on chain only its SHA-256 and the
// status entry (op issue_certificate). The claims (--claims) travel in the
// file only, each selectively disclosable; the matter and case are added.
#include <sodium.h>

#include <chrono>
#include <cstdio>

#include "apps/identity_registry_status.h"
#include "base/sha256.h"
#include "identity/keystore.h"
#include "identity/sdjwt.h"
#include "ledger/json.h"
#include "node/cli/cli_app.h"
#include "node/cli/cli_approval.h"
#include "node/cli/cli_share.h"
#include "node/home.h"

namespace imi::cli::approval {

namespace sdjwt = identity::sdjwt;

CaseInfo read_case(const Ctx& ctx, const std::string& id) {
  CaseInfo out;
  if (id.empty()) {
    out.exit = fail(kExitUsage, "this command needs --case ID");
    return out;
  }
  share::StateAnswer s = share::get_state(ctx, "approval", "case/" + id);
  if (s.exit != kExitOk) {
    out.exit = s.exit;
  } else if (s.absent() || !s.value().IsObject()) {
    out.exit = fail(kExitRejected, "no case " + id);
  } else {
    out.value.CopyFrom(s.value(), out.value.GetAllocator());
  }
  return out;
}

int issue_certificate(const Ctx& ctx, const node::CliArgs& a) {
  for (const char* o : {"--case", "--status-list", "--out", "--key"})
    if (a.get(o).empty()) return fail(kExitUsage, std::string("issue-certificate needs ") + o);
  CaseInfo c = read_case(ctx, a.get("--case"));
  if (c.exit != kExitOk) return c.exit;
  if (str(c.value, "decision") != "approved")
    return fail(kExitRejected, "case " + a.get("--case") + " is not approved");
  auto pw = password(ctx);
  if (!pw) return fail(kExitLocal, pw.status().message());
  auto key = identity::load_keystore(a.get("--key"), *pw);
  if (!key) return fail(kExitLocal, key.status().to_string());

  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  sdjwt::IssueRequest req;
  req.vct = a.get("--vct", "imi:approval:" + str(c.value, "matter"));
  req.iat = now;
  req.issuer = key->did();
  req.issuer_kid = sdjwt::make_kid(req.issuer, 1);
  req.holder_kid = sdjwt::make_kid(str(c.value, "applicant"), 1);
  if (a.has("--valid-days")) {
    uint64_t d = 0;
    if (!parse_u64(a.get("--valid-days"), d) || d == 0 || d > 36600)
      return fail(kExitUsage, "--valid-days must be from 1 to 36600");
    req.nbf = now;
    req.exp = now + static_cast<int64_t>(d) * 86400;
  }
  req.disclosable.push_back(sdjwt::string_claim("matter", str(c.value, "matter")));
  req.disclosable.push_back(sdjwt::string_claim("case", a.get("--case")));
  if (a.has("--claims")) {
    auto claims = ledger::parse_strict(a.get("--claims"));
    if (!claims || !claims->IsObject())
      return fail(kExitUsage, "--claims must be a JSON object, e.g. '{\"address\":\"...\"}'");
    for (const auto& m : claims->GetObject())
      req.disclosable.push_back(
          {std::string(m.name.GetString(), m.name.GetStringLength()), ledger::jcs(m.value)});
  }

  // The status entry: an index at random says nothing about the holder.
  const std::string list = a.get("--status-list");
  if (!apps::is_valid_list_id(list))
    return fail(kExitUsage, "--status-list must be 1 to 32 of [a-z0-9_-]");
  share::StateAnswer l = share::get_state(ctx, "identity", "list/" + req.issuer + "/" + list);
  if (l.exit != kExitOk) return l.exit;
  if (l.absent() || !l.value().HasMember("size") || !l.value()["size"].IsUint64())
    return fail(kExitRejected, "no status list " + list + " of " + req.issuer +
                                   "; create it with `imi credential list-create`");
  const uint64_t size = l.value()["size"].GetUint64();
  uint64_t idx = 0;
  const std::string idx_text = a.get("--status-index", "random");
  if (idx_text == "random") {
    idx = randombytes_uniform(static_cast<uint32_t>(size));
  } else if (!parse_u64(idx_text, idx) || idx >= size) {
    return fail(kExitUsage,
                "--status-index must be `random` or below the list's size " + std::to_string(size));
  }
  const std::string uri = apps::status_list_uri("identity", req.issuer, list);
  req.status = sdjwt::StatusRef{uri, idx};

  auto cred = sdjwt::issue(*key, req);
  if (!cred) return fail(kExitUsage, cred.status().message());
  if (Status s = node::write_file_atomic(a.get("--out"), *cred + "\n", 0600); !s)
    return fail(kExitLocal, s.to_string());
  const std::string hash = to_hex(sha256(*cred));
  std::fprintf(ctx.json ? stderr : stdout,
               "certificate: %s (hand it to the applicant; it holds the claims)\n"
               "holder:      %s\nsha256:      %s\nstatus:      %s index %llu\n",
               a.get("--out").c_str(), req.holder_kid.c_str(), hash.c_str(), uri.c_str(),
               static_cast<unsigned long long>(idx));

  app::Doc args(rapidjson::kObjectType);
  app::put(args, "case", a.get("--case"));
  app::put(args, "hash", hash);
  app::put(args, "status_list", uri);
  app::put(args, "index", idx);
  return share::send_op(ctx, a, "approval", "issue_certificate", args);
}

}  // namespace imi::cli::approval

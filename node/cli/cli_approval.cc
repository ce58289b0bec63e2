// imi approval: the one-door approval service (apps/approval.h) from the
// command line. One subcommand per op, its options mapping to the op's
// args; every op takes --key FILE, --for DID (a delegate acting for the
// applicant), --wait and --json. The certificate lives in
// cli_approval_certificate.cc, the queries and `show` in
// cli_approval_query.cc.
//
// Materials never go on chain as they are: add-material --file hashes a
// document and anchors the hash first; --presentation seals an SD-JWT
// presentation to the case's current department with a salted commitment
// (cli_app.h), the opening staying with the applicant. verify-material
// --check is the department's client doing the checking: it opens the box
// with the department's key (or hashes --file) and records what it found.
#include <cstdio>

#include "base/sha256.h"
#include "identity/keystore.h"
#include "ledger/json.h"
#include "node/cli/cli_app.h"
#include "node/cli/cli_approval.h"
#include "node/cli/cli_share.h"
#include "node/home.h"

namespace imi::cli {

namespace {

using app::Arg;
using app::Doc;
using app::put;
using share::send_op;

constexpr size_t kDocumentBytesMax = 64u << 20;

const char* kUsage =
    "  approval define-matter --file MATTER.json              (catalogue role)\n"
    "  approval open-case --matter M [--applicant DID [--window W]]\n"
    "                                the applicant (or a delegate, --for) or a window clerk\n"
    "  approval accept-case --case C [--window W]             (window role)\n"
    "  approval add-material --case C --material M\n"
    "        (--file DOC | --hash HEX | --presentation FILE [--opening-out FILE])\n"
    "                                a document is hashed and anchored first; a presentation\n"
    "                                is sealed to the case's department (opening kept here)\n"
    "  approval verify-material --case C --material M (--ok | --not-ok | --check [--file DOC])\n"
    "  approval ask --case C --question Q\n"
    "  approval record-answer --case C --question Q --commitment HEX\n"
    "  approval consent-reuse|reuse-answer --case C --question Q --from-case C0\n"
    "  approval return-case --case C --missing M,...\n"
    "  approval approve --case C | reject --case C --reason CODE\n"
    "  approval issue-certificate --case C --status-list ID [--status-index N|random]\n"
    "        [--claims JSON] [--vct TYPE] [--valid-days D] --out FILE\n"
    "                                issue the SD-JWT VC to the applicant (offline) and record\n"
    "                                its SHA-256 and status entry on chain\n"
    "  approval rate --case C --score 1..5 | withdraw --case C\n"
    "                                every op takes --key FILE [--for DID] [--wait]\n"
    "  approval matters | cases --applicant D | waiting --department D | open --matter M\n"
    "        [--cursor X] [--limit N]\n"
    "  approval stats --matter M [--department D] --from DAY --to DAY\n"
    "                                counts, median/p90 durations, ratings (DAY: YYYY-MM-DD,\n"
    "                                today, or days since 1970-01-01)\n"
    "  approval show case|matter ID  one record with its state root\n";

bool op_args(const node::CliArgs& a, std::string_view op, std::initializer_list<Arg> list,
             Doc& args) {
  return app::copy_args(a, "approval " + std::string(op), list, args);
}

// Anchors the SHA-256 of `file` with the key (already anchored by anyone
// is fine: the anchor app keeps the first) and returns it in hex.
int anchor_document(const Ctx& ctx, const node::CliArgs& a, std::string& hash) {
  auto text = node::read_small_file(a.get("--file"), kDocumentBytesMax);
  if (!text) return fail(kExitLocal, text.status().message());
  hash = to_hex(sha256(*text));
  auto pw = password(ctx);
  if (!pw) return fail(kExitLocal, pw.status().message());
  auto key = identity::load_keystore(a.get("--key"), *pw);
  if (!key) return fail(kExitLocal, key.status().to_string());
  Doc args(rapidjson::kObjectType);
  put(args, "hash", hash);
  Submission sub = submit_tx(ctx, *key, {}, "anchor", "anchor", args, true);
  if (sub.exit != kExitOk) return sub.exit;
  auto d = parse(sub.reply.body);
  const std::string code = d.IsObject() && d.HasMember("result") ? str(d["result"], "code") : "";
  if (str(d, "status") != "committed" || (code != "0" && code != "100"))
    return fail(kExitTxFailed, "anchoring " + hash + " failed: " + sub.reply.body);
  std::fprintf(ctx.json ? stderr : stdout, "anchored: %s (%s)%s\n", hash.c_str(),
               a.get("--file").c_str(), code == "100" ? " (already anchored)" : "");
  return kExitOk;
}

int op_add_material(const Ctx& ctx, const node::CliArgs& a, Doc& args) {
  if (!op_args(a, "add-material", {{"case", "--case", true}, {"material", "--material", true}},
               args))
    return kExitUsage;
  const int given = a.has("--file") + a.has("--hash") + a.has("--presentation");
  if (given != 1)
    return fail(kExitUsage,
                "add-material takes one of --file DOC, --hash HEX, --presentation FILE");
  if (a.has("--presentation")) {
    approval::CaseInfo c = approval::read_case(ctx, a.get("--case"));
    if (c.exit != kExitOk) return c.exit;
    if (int rc = app::seal_presentation(ctx, a.get("--presentation"), c.department(),
                                        a.get("--opening-out"), args);
        rc != kExitOk)
      return rc;
  } else if (a.has("--file")) {
    if (a.get("--key").empty()) return fail(kExitUsage, "add-material needs --key FILE");
    std::string hash;
    if (int rc = anchor_document(ctx, a, hash); rc != kExitOk) return rc;
    put(args, "hash", hash);
  } else {
    put(args, "hash", a.get("--hash"));
  }
  return send_op(ctx, a, "approval", "add_material", args);
}

// verify-material --check: the department's client checks the material as
// given on chain and records the outcome (a failed check is recorded as
// ok false; a check that could not run records nothing).
int op_verify_material(const Ctx& ctx, const node::CliArgs& a, Doc& args) {
  if (!op_args(a, "verify-material", {{"case", "--case", true}, {"material", "--material", true}},
               args))
    return kExitUsage;
  const int given = a.has("--ok") + a.has("--not-ok") + a.has("--check");
  if (given != 1) return fail(kExitUsage, "verify-material takes one of --ok, --not-ok, --check");
  bool ok = a.has("--ok");
  if (a.has("--check")) {
    auto m = share::get_state(ctx, "approval",
                              "material/" + a.get("--case") + "/" + a.get("--material"));
    if (m.exit != kExitOk) return m.exit;
    if (m.absent()) return fail(kExitRejected, "that material was not given");
    int rc = kExitOk;
    if (m.value().HasMember("sealed")) {
      rc = app::check_sealed_presentation(ctx, a, str(m.value(), "sealed"),
                                          str(m.value(), "commitment"));
    } else {
      if (!a.has("--file"))
        return fail(kExitUsage, "checking a document needs --file DOC (the copy shown to you)");
      auto text = node::read_small_file(a.get("--file"), kDocumentBytesMax);
      if (!text) return fail(kExitLocal, text.status().message());
      const std::string hash = to_hex(sha256(*text));
      auto anchored = share::get_state(ctx, "anchor", hash);
      if (anchored.exit != kExitOk) return anchored.exit;
      if (hash != str(m.value(), "hash"))
        rc = fail(kExitRejected, "the document's SHA-256 is not the material's hash");
      else if (anchored.absent())
        rc = fail(kExitRejected, "the document's hash is not anchored");
      else
        std::fprintf(ctx.json ? stderr : stdout, "document %s matches, anchored by %s at %s\n",
                     hash.c_str(), str(anchored.value(), "by").c_str(),
                     str(anchored.value(), "height").c_str());
    }
    if (rc != kExitOk && rc != kExitRejected) return rc;
    ok = rc == kExitOk;
  }
  args.AddMember("ok", ok, args.GetAllocator());
  const int rc = send_op(ctx, a, "approval", "verify_material", args);
  return rc == kExitOk && !ok ? kExitRejected : rc;
}

int run_approval(const Ctx& ctx, const node::CliArgs& a) {
  if (a.positional.size() < 2) return fail(kExitUsage, std::string("use:\n") + kUsage);
  const std::string& sub = a.positional[1];
  if (approval::is_query(sub)) return approval::run_query(ctx, a, sub);
  if (sub == "show") return approval::run_show(ctx, a);
  if (a.positional.size() != 2)
    return fail(kExitUsage, "approval " + sub + " takes no further words (options only)");

  Doc args(rapidjson::kObjectType);
  const Arg kase = {"case", "--case", true};
  const Arg question = {"question", "--question", true};
  auto simple = [&](std::string_view op, std::initializer_list<Arg> list) {
    if (!op_args(a, sub, list, args)) return kExitUsage;
    return send_op(ctx, a, "approval", op, args);
  };
  if (sub == "define-matter") {
    if (a.get("--file").empty()) return fail(kExitUsage, "define-matter needs --file MATTER.json");
    auto text = node::read_small_file(a.get("--file"), 256 * 1024);
    if (!text) return fail(kExitLocal, text.status().message());
    auto def = ledger::parse_strict(*text);
    if (!def || !def->IsObject())
      return fail(kExitUsage, a.get("--file") + " is not a JSON object (see docs/approval.md)");
    return send_op(ctx, a, "approval", "define_matter", *def);
  }
  if (sub == "open-case")
    return simple("open_case", {{"matter", "--matter", true},
                                {"applicant", "--applicant", false},
                                {"window", "--window", false}});
  if (sub == "accept-case") return simple("accept_case", {kase, {"window", "--window", false}});
  if (sub == "add-material") return op_add_material(ctx, a, args);
  if (sub == "verify-material") return op_verify_material(ctx, a, args);
  if (sub == "ask") return simple("ask", {kase, question});
  if (sub == "record-answer")
    return simple("record_answer", {kase, question, {"commitment", "--commitment", true}});
  if (sub == "consent-reuse" || sub == "reuse-answer")
    return simple(sub == "consent-reuse" ? "consent_reuse" : "reuse_answer",
                  {kase, question, {"from_case", "--from-case", true}});
  if (sub == "return-case") {
    if (a.get("--missing").empty()) return fail(kExitUsage, "return-case needs --missing M,...");
    args.AddMember("missing", app::list_of(a.get("--missing"), args.GetAllocator()),
                   args.GetAllocator());
    return simple("return_case", {kase});
  }
  if (sub == "approve") return simple("approve", {kase});
  if (sub == "reject") return simple("reject", {kase, {"reason", "--reason", true}});
  if (sub == "issue-certificate") return approval::issue_certificate(ctx, a);
  if (sub == "rate") {
    uint64_t score = 0;
    if (!parse_u64(a.get("--score"), score) || score < 1 || score > 5)
      return fail(kExitUsage, "approval rate needs --score 1..5");
    put(args, "score", score);
    return simple("rate", {kase});
  }
  if (sub == "withdraw") return simple("withdraw", {kase});
  return fail(kExitUsage, "unknown approval subcommand " + sub + "; use:\n" + kUsage);
}

}  // namespace

Command approval_command() {
  Command c;
  c.name = "approval";
  c.usage = kUsage;
  c.value_options = {"--file",        "--matter",   "--applicant",   "--window",
                     "--case",        "--material", "--hash",        "--presentation",
                     "--opening-out", "--question", "--commitment",  "--from-case",
                     "--missing",     "--reason",   "--status-list", "--status-index",
                     "--claims",      "--vct",      "--valid-days",  "--score",
                     "--department",  "--from",     "--to",          "--for",
                     "--cursor",      "--limit"};
  c.flags = {"--ok", "--not-ok", "--check"};
  c.run = run_approval;
  return c;
}

}  // namespace imi::cli

// imi share: the community sharing app (apps/share.h) from the command line.
// One subcommand per op, its flags mapping to the op's args; queries and
// `show` live in cli_share_query.cc. Every op takes --key FILE, --for DID (a
// delegate acting for a principal), --wait and --json.
//
// `request` on a listing with requirements seals the resident's SD-JWT
// presentation to the lender's current key and commits to it (cli_app.h);
// only sealed and commitment go on chain. The lender's `accept --check`
// opens the box with its key, checks the commitment and has a node verify
// the presentation.
#include <cstdio>

#include "node/cli/cli_app.h"
#include "node/cli/cli_share.h"

namespace imi::cli {

namespace {

using share::send_op;

const char* kUsage =
    "  share list --kind lend|give|skill --category C --title T --committee ID --cell rRcC\n"
    "        [--description T] [--availability T] [--requires TYPE,...]\n"
    "  share unlist --listing ID\n"
    "  share request --listing ID [--until MS|+7d] [--presentation FILE [--opening-out FILE]]\n"
    "  share accept --loan ID [--check | --requirements-checked]\n"
    "  share decline|cancel|handover|return --loan ID\n"
    "  share rate --loan ID --score 1..5\n"
    "  share certify --did DID --skill S --expires MS|+365d      (a skill_issuer)\n"
    "  share uncertify --did DID --skill S\n"
    "  share register-responder|unregister-responder --skill S --cell rRcC\n"
    "  share urgent --skill S --cell rRcC --committee ID --expires-in 10m\n"
    "  share respond|arrived|close-urgent --urgent ID\n"
    "                                send a share op; every op takes --key FILE [--for DID]\n"
    "                                [--wait]; prints the record id (first 32 hex of the tx id)\n"
    "  share listings --cell C | owned --did D | loans --did D | urgent --cell C\n"
    "        | responders --skill S --cell C   [--cursor X] [--limit N]\n"
    "  share reputation --did D | show listing|loan|urgent ID | params\n"
    "                                read the share app's committed state\n";

using app::Arg;
using app::Doc;
using app::put;

bool op_args(const node::CliArgs& a, std::string_view op, std::initializer_list<Arg> list,
             Doc& args) {
  return app::copy_args(a, "share " + std::string(op), list, args);
}

// share request: seals the presentation (if any) to the lender's current key
// and commits to it (cli_app.h).
int op_request(const Ctx& ctx, const node::CliArgs& a, Doc& args) {
  if (!op_args(a, "request", {{"listing", "--listing", true}}, args)) return kExitUsage;
  if (a.has("--until")) {
    uint64_t until = 0;
    if (!share::parse_time_ms(a.get("--until"), until))
      return fail(kExitUsage, "--until is ms since the epoch or +DURATION (e.g. +7d)");
    put(args, "until", until);
  }
  if (!a.has("--presentation")) return send_op(ctx, a, "share", "request", args);

  auto listing = share::get_state(ctx, "share", "listing/" + a.get("--listing"));
  if (listing.exit != kExitOk) return listing.exit;
  if (listing.absent()) return fail(kExitRejected, "no listing " + a.get("--listing"));
  const std::string owner = str(listing.value(), "owner");
  if (int rc =
          app::seal_presentation(ctx, a.get("--presentation"), owner, a.get("--opening-out"), args);
      rc != kExitOk)
    return rc;
  return send_op(ctx, a, "share", "request", args);
}

// share accept --check: the lender's client opens and checks the loan's
// sealed presentation.
int check_requirements(const Ctx& ctx, const node::CliArgs& a) {
  auto loan = share::get_state(ctx, "share", "loan/" + a.get("--loan"));
  if (loan.exit != kExitOk) return loan.exit;
  if (loan.absent()) return fail(kExitRejected, "no loan " + a.get("--loan"));
  return app::check_sealed_presentation(ctx, a, str(loan.value(), "sealed"),
                                        str(loan.value(), "commitment"));
}

int run_share(const Ctx& ctx, const node::CliArgs& a) {
  if (a.positional.size() < 2) return fail(kExitUsage, std::string("use:\n") + kUsage);
  const std::string& sub = a.positional[1];
  // "urgent" is the op with --key/--skill/--expires-in, else the query.
  const bool urgent_op =
      sub == "urgent" && (a.has("--key") || a.has("--skill") || a.has("--expires-in"));
  if (share::is_share_query(sub) && !urgent_op) return share::run_share_query(ctx, a, sub);
  if (sub == "show") return share::run_share_show(ctx, a);
  if (a.positional.size() != 2)
    return fail(kExitUsage, "share " + sub + " takes no further words (options only)");

  Doc args(rapidjson::kObjectType);
  const std::initializer_list<Arg> loan = {{"loan", "--loan", true}};
  const std::initializer_list<Arg> urgent = {{"urgent", "--urgent", true}};
  const std::initializer_list<Arg> skill_cell = {{"skill", "--skill", true},
                                                 {"cell", "--cell", true}};
  auto simple = [&](std::string_view op, std::initializer_list<Arg> list) {
    if (!op_args(a, sub, list, args)) return kExitUsage;
    return send_op(ctx, a, "share", op, args);
  };
  if (sub == "list") {
    if (!op_args(a, sub,
                 {{"kind", "--kind", true},
                  {"category", "--category", true},
                  {"title", "--title", true},
                  {"description", "--description", false},
                  {"committee", "--committee", true},
                  {"cell", "--cell", true},
                  {"availability", "--availability", false}},
                 args))
      return kExitUsage;
    if (a.has("--requires"))
      args.AddMember("requires", app::list_of(a.get("--requires"), args.GetAllocator()),
                     args.GetAllocator());
    return send_op(ctx, a, "share", "list", args);
  }
  if (sub == "unlist") return simple("unlist", {{"listing", "--listing", true}});
  if (sub == "request") return op_request(ctx, a, args);
  if (sub == "accept") {
    if (!op_args(a, sub, loan, args)) return kExitUsage;
    if (a.has("--check")) {
      if (int rc = check_requirements(ctx, a); rc != kExitOk) return rc;
    }
    if (a.has("--check") || a.has("--requirements-checked"))
      args.AddMember("requirements_checked", true, args.GetAllocator());
    return send_op(ctx, a, "share", "accept", args);
  }
  for (const char* op : {"decline", "cancel", "handover", "return"})
    if (sub == op) return simple(op, loan);
  if (sub == "rate") {
    uint64_t score = 0;
    if (!parse_u64(a.get("--score"), score) || score < 1 || score > 5)
      return fail(kExitUsage, "share rate needs --score 1..5");
    put(args, "score", score);
    return simple("rate", loan);
  }
  if (sub == "certify") {
    uint64_t expires = 0;
    if (!share::parse_time_ms(a.get("--expires"), expires))
      return fail(kExitUsage, "share certify needs --expires MS or +DURATION (e.g. +365d)");
    put(args, "expires", expires);
    return simple("certify", {{"did", "--did", true}, {"skill", "--skill", true}});
  }
  if (sub == "uncertify")
    return simple("uncertify", {{"did", "--did", true}, {"skill", "--skill", true}});
  if (sub == "register-responder") return simple("register_responder", skill_cell);
  if (sub == "unregister-responder") return simple("unregister_responder", skill_cell);
  if (sub == "urgent") {
    uint64_t n = 0;
    if (!share::parse_duration_ms(a.get("--expires-in"), n))
      return fail(kExitUsage, "share urgent needs --expires-in DURATION (e.g. 10m, 60000)");
    put(args, "expires_in_ms", n);
    return simple(
        "urgent",
        {{"skill", "--skill", true}, {"cell", "--cell", true}, {"committee", "--committee", true}});
  }
  if (sub == "respond") return simple("respond", urgent);
  if (sub == "arrived") return simple("arrived", urgent);
  if (sub == "close-urgent") return simple("close_urgent", urgent);
  return fail(kExitUsage, "unknown share subcommand " + sub + "; use:\n" + kUsage);
}

}  // namespace

Command share_command() {
  Command c;
  c.name = "share";
  c.usage = kUsage;
  c.value_options = {
      "--kind",         "--category", "--title",   "--description", "--committee",   "--cell",
      "--availability", "--requires", "--listing", "--until",       "--opening-out", "--loan",
      "--score",        "--did",      "--skill",   "--expires",     "--expires-in",  "--urgent",
      "--for",          "--cursor",   "--limit"};
  c.flags = {"--check", "--requirements-checked"};
  c.run = run_share;
  return c;
}

}  // namespace imi::cli

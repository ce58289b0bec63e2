// imi answer: an authority answers a department's yes/no question with the
// answers app (apps/answers.h) from its own data. The opening (answer, case,
// question text, fresh salt) is committed, signed with the authority's key
// and sealed to the department's current key; only the commitment, the
// signature and the sealed box go on chain. For an approval case the
// answers-app case id is "<case>:<question>" and the question text is read
// from the case's matter; the printed commitment is what the department
// records (imi approval record-answer --commitment).
#include <cstdio>

#include "apps/answers.h"
#include "identity/keystore.h"
#include "node/cli/cli_app.h"
#include "node/cli/cli_approval.h"
#include "node/cli/cli_share.h"

namespace imi::cli {

namespace {

const char* kUsage =
    "  answer --case C [--question Q] --department DID (--yes | --no) [--text T] --key FILE\n"
    "        [--wait]                answer a department's question (an answering authority);\n"
    "                                with --question, C is an approval case and the answers\n"
    "                                case is C:Q; prints the commitment the department records\n";

// The question's text from the approval case's matter version, or "" when
// it cannot be found (the caller falls back to the question id).
std::string question_text(const Ctx& ctx, const std::string& case_id, const std::string& q) {
  auto c = share::get_state(ctx, "approval", "case/" + case_id);
  if (c.exit != kExitOk || c.absent()) return {};
  auto m = share::get_state(
      ctx, "approval", "matter/" + str(c.value(), "matter") + "/v/" + str(c.value(), "version"));
  if (m.exit != kExitOk || m.absent() || !m.value().HasMember("questions") ||
      !m.value()["questions"].IsArray())
    return {};
  for (const auto& x : m.value()["questions"].GetArray())
    if (str(x, "id") == q) return str(x, "text");
  return {};
}

int run_answer(const Ctx& ctx, const node::CliArgs& a) {
  if (a.positional.size() != 1) return fail(kExitUsage, std::string("use:\n") + kUsage);
  for (const char* o : {"--case", "--department", "--key"})
    if (a.get(o).empty()) return fail(kExitUsage, std::string("answer needs ") + o);
  if (a.has("--yes") == a.has("--no")) return fail(kExitUsage, "answer needs --yes or --no");
  if (a.has("--for")) return fail(kExitUsage, "an authority answers for itself (no --for)");
  const std::string department = a.get("--department");
  if (!identity::is_valid_did(department))
    return fail(kExitUsage, "--department must be a did:imi");
  apps::AnswerOpening opening;
  opening.case_id = a.get("--case");
  opening.question = a.get("--text");
  if (a.has("--question")) {
    opening.case_id += ":" + a.get("--question");
    if (opening.question.empty())
      opening.question = question_text(ctx, a.get("--case"), a.get("--question"));
    if (opening.question.empty()) opening.question = a.get("--question");
  }
  opening.answer = a.has("--yes");
  auto dept_key = app::current_key(ctx, department);
  if (!dept_key)
    return fail(dept_key.status().code() == "cli.unreachable" ? kExitUnreachable : kExitRejected,
                dept_key.status().message());
  auto pw = password(ctx);
  if (!pw) return fail(kExitLocal, pw.status().message());
  auto key = identity::load_keystore(a.get("--key"), *pw);
  if (!key) return fail(kExitLocal, key.status().to_string());
  auto args = apps::make_answer_args(*key, opening, department, *dept_key);
  if (!args) return fail(kExitUsage, args.status().message());
  std::fprintf(ctx.json ? stderr : stdout,
               "answers case: %s\nquestion:   %s\nanswer:     %s (sealed to %s)\ncommitment: %s\n",
               opening.case_id.c_str(), opening.question.c_str(), opening.answer ? "yes" : "no",
               department.c_str(), str((*args)["answer"], "commitment").c_str());
  return share::send_op(ctx, a, "answers", "answer", *args);
}

}  // namespace

Command answer_command() {
  Command c;
  c.name = "answer";
  c.usage = kUsage;
  c.value_options = {"--case", "--question", "--department", "--text"};
  c.flags = {"--yes", "--no"};
  c.run = run_answer;
  return c;
}

}  // namespace imi::cli

// What every `imi` command shares: the global options, exit codes, one HTTP
// exchange with a node, problem+json reporting and the keystore password.
// Each command group lives in its own file (cli_<group>.cc) and is listed in
// commands() so main_imi.cc parses its options and dispatches to it.
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "identity/keys.h"
#include "ledger/transaction.h"
#include "node/cli_args.h"

namespace imi::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRejected = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnreachable = 3;
inline constexpr int kExitLocal = 4;
inline constexpr int kExitTxFailed = 5;
inline constexpr int kExitPending = 6;
inline constexpr int kExitBadEvidence = 7;  // imi evidence: a piece does not hold up

// Global options of every command.
struct Ctx {
  std::string node;  // --node URL, else $IMI_NODE, else http://127.0.0.1:8080
  bool json = false;
  std::string password_file;
};

// Prints "imi: <message>" to stderr and returns `code`.
int fail(int code, const std::string& message);

struct Reply {
  int status = 0;
  std::string body;
};

// One HTTP exchange with ctx.node (GET, or POST with a JSON body). Error
// cli.unreachable when the node cannot be reached.
Result<Reply> http(const Ctx& ctx, const std::string& method, const std::string& path,
                   const std::string& body = {}, int read_timeout_s = 30);

// Lenient parse of a node's answer (a failed parse yields a non-object).
rapidjson::Document parse(const std::string& body);
// A member as text ("" if absent); numbers in decimal, objects/arrays as JSON.
std::string str(const rapidjson::Value& v, const char* name);

// A decimal number of at most 19 digits (no sign); false otherwise.
bool parse_u64(const std::string& text, uint64_t& out);

// Prints a problem+json answer and returns the exit code it means.
int report_problem(const Reply& r);

// One page of a listing: GET `path`, whose answer must be an object with the
// array `member` ("blocks", "evidence"). If `exit` is not kExitOk, why was
// printed already (unreachable, a problem answer, or not such a page).
struct Page {
  int exit = kExitOk;
  rapidjson::Document doc;
};
Page get_page(const Ctx& ctx, const std::string& path, const char* member, int read_timeout_s = 30);

// The keystore password: --password-file, else IMI_KEY_PASSWORD. Error cli.no_password.
Result<std::string> password(const Ctx& ctx);

// A transaction signed and accepted by the node (200 with wait, else 202).
struct Submission {
  int exit = kExitOk;  // not kExitOk: failed, and the failure was already printed
  std::optional<ledger::Transaction> tx;
  uint64_t nonce = 0;
  Reply reply;
};
// Reads the chain id and, unless `nonce` is given, the next nonce of `from`
// (empty: the key's DID), signs the transaction with `key` and POSTs it
// (?wait=commit if `wait`). With a `principal`, the transaction names it in
// on_behalf_of (a delegate's transaction, ledger/delegation.h). The caller
// prints the outcome.
Submission submit_tx(const Ctx& ctx, const identity::KeyPair& key, std::string from,
                     const std::string& app, const std::string& op, const rapidjson::Value& args,
                     bool wait, std::optional<uint64_t> nonce = std::nullopt,
                     const std::string& principal = {});

// One command group, e.g. "credential".
struct Command {
  std::string name;
  std::string usage;                    // lines for `imi help`, each starting with two spaces
  std::set<std::string> value_options;  // "--issuer"
  std::set<std::string> flags;          // "--wait"
  int (*run)(const Ctx& ctx, const node::CliArgs& args) = nullptr;
};

// Defined in cli_credential.cc, cli_testnet.cc, cli_bench.cc, cli_evidence.cc,
// cli_share.cc, cli_delegation.cc, cli_approval.cc and cli_answer.cc.
Command share_command();
Command approval_command();
Command answer_command();
Command delegation_command();
Command credential_command();
Command evidence_command();
Command testnet_command();
Command bench_command();

}  // namespace imi::cli

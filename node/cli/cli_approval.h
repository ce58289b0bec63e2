// imi approval internals: the ops (cli_approval.cc), the certificate
// (cli_approval_certificate.cc) and the queries and `show`
// (cli_approval_query.cc).
#pragma once

#include <string>
#include <string_view>

#include "node/cli/cli_common.h"

namespace imi::cli::approval {

// A case's record (GET /v1/state/approval/case%2F<id>) and the current
// department it names; exit is not kExitOk when it could not be read or
// there is no such case (why was printed).
struct CaseInfo {
  int exit = kExitOk;
  rapidjson::Document value;
  std::string department() const { return str(value, "department"); }
};
CaseInfo read_case(const Ctx& ctx, const std::string& id);

// imi approval issue-certificate: issues the SD-JWT VC off chain, writes it
// and records its hash and status entry on chain.
int issue_certificate(const Ctx& ctx, const node::CliArgs& a);

// The queries and `show`; `sub` is the subcommand word.
bool is_query(std::string_view sub);
int run_query(const Ctx& ctx, const node::CliArgs& a, std::string_view sub);
int run_show(const Ctx& ctx, const node::CliArgs& a);

}  // namespace imi::cli::approval

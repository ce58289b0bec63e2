// imi: the IMI Chain command-line client (talks to a node's HTTP API).
// Run `imi help` for the commands; exit codes are listed in kUsage. Command
// groups beyond the basic ones live in node/cli/cli_<group>.cc.
#include <rapidjson/document.h>
#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "identity/keystore.h"
#include "ledger/json.h"
#include "ledger/transaction.h"
#include "node/cli/cli_common.h"
#include "node/cli_args.h"
#include "node/home.h"

namespace imi::cli {
Command consent_command();  // node/cli/cli_consent.cc
}  // namespace imi::cli

namespace {

using imi::Result;
using imi::Status;
namespace node = imi::node;
namespace ledger = imi::ledger;
namespace identity = imi::identity;
using namespace imi::cli;

const char* kUsageHead =
    "usage: imi [--node URL] [--json] COMMAND ...\n"
    "  key new --out FILE            create a key in an encrypted keystore file\n"
    "  key show FILE                 print a keystore's DID and public key\n"
    "  tx send --app A --op O --args JSON --key FILE [--wait] [--nonce N] [--from DID]\n"
    "                                sign and submit a transaction (nonce read from the node;\n"
    "                                --from: the account, when KEY is a rotated or recovered key)\n"
    "  tx get ID                     a transaction's status, result and inclusion proof\n"
    "  block get HEIGHT              a block with its header, id and commit certificate\n"
    "  block follow [--from HEIGHT] [--count N]\n"
    "                                print each block as it commits (default: from the next\n"
    "                                one, until interrupted; --json: one block per line)\n"
    "  status                        chain id, height, view, validators\n"
    "  anchor FILE --key KEY [--note TEXT] [--wait]\n"
    "                                anchor the SHA-256 of FILE on the chain\n";
const char* kUsageTail =
    "options:\n"
    "  --node URL   node API (default $IMI_NODE, else http://127.0.0.1:8080)\n"
    "  --json       print the node's JSON answer unchanged (for scripts)\n"
    "  --password-file FILE   keystore password (default: $IMI_KEY_PASSWORD)\n"
    "exit codes:\n"
    "  0 ok (with --wait: committed with result code 0)\n"
    "  1 the node rejected the request or the transaction (see the problem printed)\n"
    "  2 usage error\n"
    "  3 the node is unreachable, not ready, or failed (5xx)\n"
    "  4 local error (key file, password, file to anchor)\n"
    "  5 committed, but the application returned a nonzero result code\n"
    "  6 still pending when --wait gave up (poll with `imi tx get ID`)\n"
    "  7 imi evidence: a piece of evidence does not hold up\n";

int cmd_key(const Ctx& ctx, const node::CliArgs& a) {
  if (a.positional.size() >= 2 && a.positional[1] == "new") {
    const std::string out = a.get("--out");
    if (out.empty()) return fail(kExitUsage, "key new needs --out FILE");
    auto pw = password(ctx);
    if (!pw) return fail(kExitLocal, pw.status().message());
    identity::KeyPair key = identity::KeyPair::generate();
    if (Status s = identity::save_keystore(out, key, *pw); !s)
      return fail(kExitLocal, s.to_string());
    if (ctx.json) {
      std::printf("{\"did\":\"%s\",\"key\":\"%s\",\"file\":\"%s\"}\n", key.did().c_str(),
                  imi::to_hex(key.public_key()).c_str(), out.c_str());
    } else {
      std::printf("created %s\ndid: %s\nkey: %s\n", out.c_str(), key.did().c_str(),
                  imi::to_hex(key.public_key()).c_str());
    }
    return kExitOk;
  }
  if (a.positional.size() == 3 && a.positional[1] == "show") {
    auto text = node::read_small_file(a.positional[2], identity::kKeystoreFileBytesMax);
    if (!text) return fail(kExitLocal, text.status().message());
    auto d = parse(*text);
    std::string did = str(d, "did"), key = str(d, "public_key");
    if (did.empty() || key.empty())
      return fail(kExitLocal, a.positional[2] + " is not an imi keystore file");
    if (ctx.json)
      std::printf("{\"did\":\"%s\",\"key\":\"%s\"}\n", did.c_str(), key.c_str());
    else
      std::printf("did: %s\nkey: %s\n", did.c_str(), key.c_str());
    return kExitOk;
  }
  return fail(kExitUsage, "use `imi key new --out FILE` or `imi key show FILE`");
}

// Prints a transaction status body; returns the exit code it means.
int show_tx(const Ctx& ctx, const std::string& body) {
  auto d = parse(body);
  const std::string status = str(d, "status");
  int code = kExitOk;
  if (status == "rejected") code = kExitRejected;
  if (status == "pending") code = kExitPending;
  if (status == "committed" && d.HasMember("result") && d["result"].IsObject() &&
      str(d["result"], "code") != "0")
    code = kExitTxFailed;
  if (ctx.json) {
    std::printf("%s\n", body.c_str());
    return code;
  }
  std::printf("id:       %s\nstatus:   %s\n", str(d, "id").c_str(), status.c_str());
  if (status == "committed") {
    std::printf("height:   %s (position %s)\nblock:    %s\nresult:   code %s",
                str(d, "height").c_str(), str(d, "position").c_str(), str(d, "block_id").c_str(),
                str(d["result"], "code").c_str());
    if (d.HasMember("message")) std::printf(" (%s)", str(d, "message").c_str());
    std::printf("\nevents:   %s\n", str(d["result"], "events").c_str());
    if (d.HasMember("proof") && d["proof"].IsObject())
      std::printf("proof:    leaf %s of %s under txs_root %s\n", str(d["proof"], "index").c_str(),
                  str(d["proof"], "tree_size").c_str(), str(d["proof"], "root").c_str());
  } else if (status == "rejected" && d.HasMember("reason")) {
    std::printf("reason:   %s: %s\n", str(d["reason"], "code").c_str(),
                str(d["reason"], "message").c_str());
  }
  return code;
}

// Builds, signs and submits a transaction; prints the outcome.
int send_tx(const Ctx& ctx, const std::string& key_file, const std::string& app,
            const std::string& op, const std::string& args_json, bool wait,
            const std::string& nonce_opt, const std::string& from_opt = {}) {
  auto pw = password(ctx);
  if (!pw) return fail(kExitLocal, pw.status().message());
  auto key = identity::load_keystore(key_file, *pw);
  if (!key) return fail(kExitLocal, key.status().to_string());
  auto args = ledger::parse_strict(args_json);
  if (!args) return fail(kExitUsage, "--args is not strict JSON: " + args.status().message());
  if (!args->IsObject()) return fail(kExitUsage, "--args must be a JSON object, e.g. '{}'");

  std::optional<uint64_t> nonce;
  if (!nonce_opt.empty()) nonce = std::strtoull(nonce_opt.c_str(), nullptr, 10);
  Submission sub = submit_tx(ctx, *key, from_opt, app, op, *args, wait, nonce);
  if (sub.exit != kExitOk) return sub.exit;
  const Reply* r = &sub.reply;
  const ledger::Transaction* tx = &*sub.tx;
  if (r->status == 200) return show_tx(ctx, r->body);
  if (ctx.json) {
    std::printf("%s\n", r->body.c_str());
  } else {
    std::printf("submitted %s (nonce %llu)%s\n", tx->id_hex().c_str(),
                static_cast<unsigned long long>(sub.nonce),
                wait ? "; still pending after the wait" : "; follow it with `imi tx get ID`");
  }
  return wait ? kExitPending : kExitOk;
}

int cmd_tx(const Ctx& ctx, const node::CliArgs& a) {
  if (a.positional.size() == 2 && a.positional[1] == "send") {
    for (const char* need : {"--app", "--op", "--key"})
      if (a.get(need).empty()) return fail(kExitUsage, std::string("tx send needs ") + need);
    return send_tx(ctx, a.get("--key"), a.get("--app"), a.get("--op"), a.get("--args", "{}"),
                   a.has("--wait"), a.get("--nonce"), a.get("--from"));
  }
  if (a.positional.size() == 3 && a.positional[1] == "get") {
    if (!imi::is_lower_hex(a.positional[2], 64))
      return fail(kExitUsage, "a transaction id is 64 lowercase hex characters");
    auto r = http(ctx, "GET", "/v1/txs/" + a.positional[2]);
    if (!r) return fail(kExitUnreachable, r.status().message());
    if (r->status != 200) return report_problem(*r);
    return show_tx(ctx, r->body);
  }
  return fail(kExitUsage, "use `imi tx send ...` or `imi tx get ID`");
}

// imi block follow: a long poll on GET /v1/blocks?from=&wait_ms= (the node
// answers when the next block commits, or an empty page to ask again).
int follow_blocks(const Ctx& ctx, const node::CliArgs& a) {
  uint64_t from = 0, count = 0;
  if (a.has("--count") && !parse_u64(a.get("--count"), count))
    return fail(kExitUsage, "--count is a number of blocks (0: until interrupted)");
  if (a.has("--from")) {
    if (!parse_u64(a.get("--from"), from)) return fail(kExitUsage, "--from is a block height");
  } else {
    auto r = http(ctx, "GET", "/v1/status");
    if (!r) return fail(kExitUnreachable, r.status().message());
    if (r->status != 200) return report_problem(*r);
    auto d = parse(r->body);
    if (!parse_u64(str(d, "height"), from))
      return fail(kExitUnreachable, "the node's status has no height");
    ++from;
  }
  uint64_t printed = 0;
  for (;;) {
    Page page = get_page(
        ctx, "/v1/blocks?from=" + std::to_string(from) + "&limit=100&wait_ms=25000", "blocks", 40);
    if (page.exit != kExitOk) return page.exit;
    for (const auto& b : page.doc["blocks"].GetArray()) {
      uint64_t height = 0;
      if (!b.IsObject() || !b.HasMember("header") || !parse_u64(str(b, "height"), height))
        return fail(kExitUnreachable, "the node answered a block without a height");
      if (ctx.json) {
        std::printf("%s\n", ledger::jcs(b).c_str());
      } else {
        const auto& h = b["header"];
        std::printf("height %s  id %s  txs %s  time %s  proposer %s\n", str(b, "height").c_str(),
                    str(b, "id").c_str(), str(h, "tx_count").c_str(), str(h, "time").c_str(),
                    str(h, "proposer").c_str());
      }
      std::fflush(stdout);
      from = height + 1;
      if (++printed == count) return kExitOk;
    }
  }
}

int cmd_block(const Ctx& ctx, const node::CliArgs& a) {
  if (a.positional.size() == 2 && a.positional[1] == "follow") return follow_blocks(ctx, a);
  if (a.positional.size() != 3 || a.positional[1] != "get")
    return fail(kExitUsage, "use `imi block get HEIGHT` or `imi block follow`");
  auto r = http(ctx, "GET", "/v1/blocks/" + a.positional[2]);
  if (!r) return fail(kExitUnreachable, r.status().message());
  if (r->status != 200) return report_problem(*r);
  if (ctx.json) {
    std::printf("%s\n", r->body.c_str());
    return kExitOk;
  }
  auto d = parse(r->body);
  const auto& h = d["header"];
  std::printf(
      "height:    %s\nid:        %s\nprev:      %s\ntime:      %s\nproposer:  %s\n"
      "txs:       %s\ntxs_root:  %s\nstate:     %s\n",
      str(d, "height").c_str(), str(d, "id").c_str(), str(h, "prev").c_str(),
      str(h, "time").c_str(), str(h, "proposer").c_str(), str(h, "tx_count").c_str(),
      str(h, "txs_root").c_str(), str(h, "state_root").c_str());
  if (d["certificate"].IsObject())
    std::printf("certified: view %s, %u signature(s)\n", str(d["certificate"], "view").c_str(),
                d["certificate"]["sigs"].Size());
  else
    std::printf("certified: genesis (no certificate)\n");
  return kExitOk;
}

int cmd_status(const Ctx& ctx) {
  auto r = http(ctx, "GET", "/v1/status");
  if (!r) return fail(kExitUnreachable, r.status().message());
  if (r->status != 200) return report_problem(*r);
  if (ctx.json) {
    std::printf("%s\n", r->body.c_str());
    return kExitOk;
  }
  auto d = parse(r->body);
  std::printf("chain:      %s\nheight:     %s\nlast block: %s\nview:       %s\nprimary:    %s\n",
              str(d, "chain").c_str(), str(d, "height").c_str(), str(d, "last_block_id").c_str(),
              str(d, "view").c_str(), str(d, "primary").c_str());
  if (d.HasMember("validators") && d["validators"].IsArray())
    std::printf("validators: %u\n", d["validators"].Size());
  return kExitOk;
}

int cmd_anchor(const Ctx& ctx, const node::CliArgs& a) {
  if (a.positional.size() != 2) return fail(kExitUsage, "use `imi anchor FILE --key KEY`");
  if (a.get("--key").empty()) return fail(kExitUsage, "anchor needs --key FILE");
  std::ifstream in(a.positional[1], std::ios::binary);
  if (!in) return fail(kExitLocal, "cannot read " + a.positional[1]);
  imi::Sha256 h;
  std::vector<char> buf(1 << 16);
  while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0)
    h.update(imi::ByteView(reinterpret_cast<const uint8_t*>(buf.data()),
                           static_cast<size_t>(in.gcount())));
  const std::string hash = imi::to_hex(h.finish());
  rapidjson::Document args(rapidjson::kObjectType);
  args.AddMember("hash", rapidjson::Value(hash.c_str(), args.GetAllocator()), args.GetAllocator());
  if (a.has("--note"))
    args.AddMember("note", rapidjson::Value(a.get("--note").c_str(), args.GetAllocator()),
                   args.GetAllocator());
  if (!ctx.json) std::printf("sha256:   %s\n", hash.c_str());
  return send_tx(ctx, a.get("--key"), "anchor", "anchor", ledger::jcs(args), a.has("--wait"),
                 a.get("--nonce"));
}

std::vector<Command> extra_commands() {
  return {share_command(),      approval_command(),   answer_command(),
          delegation_command(), credential_command(), evidence_command(),
          testnet_command(),    bench_command(),      consent_command()};
}

std::string usage_text() {
  std::string u = kUsageHead;
  for (const Command& c : extra_commands()) u += c.usage;
  return u + kUsageTail;
}

}  // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) return fail(kExitLocal, "libsodium failed to initialise");
  std::vector<std::string> raw(argv + 1, argv + argc);
  std::set<std::string> value_options = {"--node",          "--app",  "--op",   "--args",
                                         "--key",           "--out",  "--note", "--nonce",
                                         "--password-file", "--from", "--count"};
  std::set<std::string> flags = {"--json", "--wait", "--help"};
  const std::vector<Command> extra = extra_commands();
  for (const Command& c : extra) {
    value_options.insert(c.value_options.begin(), c.value_options.end());
    flags.insert(c.flags.begin(), c.flags.end());
  }
  auto args = node::parse_cli_args(raw, value_options, flags);
  if (!args) return fail(kExitUsage, args.status().message() + "\n" + usage_text());
  if (args->has("--help") || args->positional.empty() || args->positional[0] == "help") {
    std::printf("%s", usage_text().c_str());
    return args->positional.empty() && !args->has("--help") ? kExitUsage : kExitOk;
  }
  Ctx ctx;
  const char* env_node = std::getenv("IMI_NODE");
  ctx.node =
      args->get("--node", env_node != nullptr && *env_node ? env_node : "http://127.0.0.1:8080");
  ctx.json = args->has("--json");
  ctx.password_file = args->get("--password-file");
  const std::string& cmd = args->positional[0];
  if (cmd == "key") return cmd_key(ctx, *args);
  if (cmd == "tx") return cmd_tx(ctx, *args);
  if (cmd == "block") return cmd_block(ctx, *args);
  if (cmd == "status") return cmd_status(ctx);
  if (cmd == "anchor") return cmd_anchor(ctx, *args);
  for (const Command& c : extra)
    if (cmd == c.name) return c.run(ctx, *args);
  return fail(kExitUsage, "unknown command " + cmd + "\n" + usage_text());
}

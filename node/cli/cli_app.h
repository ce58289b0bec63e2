// What the workflow apps' command groups (imi share, imi approval, imi
// answer, imi delegation) share beyond cli_share.h's send/query helpers:
// building args from options, a DID's current key, and the sealed
// presentation with its salted commitment that the share and approval apps
// carry (and the opening check a recipient's client runs).
//
//   opening    = JCS({"presentation": text, "salt": 64 hex, fresh})
//   sealed     = base64url(crypto_box_seal(opening, recipient key))
//   commitment = hex(SHA-256(opening))
// Only sealed and commitment go on chain; the opening (the salt) stays with
// the sender.
#pragma once

#include <rapidjson/document.h>

#include <initializer_list>
#include <string>
#include <string_view>

#include "identity/keys.h"
#include "node/cli/cli_common.h"

namespace imi::cli::app {

using Doc = rapidjson::Document;

void put(Doc& d, const char* name, const std::string& v);
void put(Doc& d, const char* name, uint64_t v);

// "a,b,,c" as a JSON array of the non-empty strings.
rapidjson::Value list_of(const std::string& csv, Doc::AllocatorType& al);

// Copies each --option given (or required) into args[name] as a string.
// False after printing "<what> needs --option" for a missing required one.
struct Arg {
  const char* name;
  const char* option;
  bool required;
};
bool copy_args(const node::CliArgs& a, std::string_view what, std::initializer_list<Arg> list,
               Doc& args);

// A DID's current public key: the last key of its DID document when the DID
// is registered, else its account's only key. cli.unreachable when the node
// cannot be asked; cli.no_key / cli.bad_answer when no key can be told.
Result<identity::PublicKey> current_key(const Ctx& ctx, const std::string& did);

// The presentation in `file` (surrounding whitespace removed) sealed to
// `to` with a fresh salt; puts "sealed" and "commitment" into args, writes
// the opening to `opening_out` (mode 0600) when not empty, and prints the
// commitment and salt (stderr with --json). Returns kExitOk or the exit code
// after printing why.
int seal_presentation(const Ctx& ctx, const std::string& file, const std::string& to_did,
                      const std::string& opening_out, Doc& args);

// The recipient's check: opens `sealed` with the keystore --key, checks it
// against `commitment` and has the node verify the presentation (audience
// and nonce from its key-binding JWT), printing each check. kExitOk only if
// all of that holds; kExitRejected (after printing why) otherwise.
int check_sealed_presentation(const Ctx& ctx, const node::CliArgs& a, const std::string& sealed,
                              const std::string& commitment);

}  // namespace imi::cli::app

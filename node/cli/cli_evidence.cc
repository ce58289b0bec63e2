// imi evidence: the equivocation evidence a node kept (GET /v1/evidence),
// each piece checked here rather than trusted: both messages signed by the
// named validator (Ed25519 over domain + "\n" + signed, with the key from the
// validator set the node reports), for one height and view (and phase), and
// for different blocks.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "identity/keys.h"
#include "node/cli/cli_common.h"

namespace imi::cli {
namespace {

// Why `piece` does not hold up, or "" if it does.
std::string check_piece(const rapidjson::Value& piece,
                        const std::map<std::string, identity::PublicKey>& keys) {
  if (!piece.IsObject()) return "not an evidence object";
  if (piece.HasMember("error")) return "the node could not read it: " + str(piece, "error");
  const std::string validator = str(piece, "validator");
  auto key = keys.find(validator);
  if (key == keys.end())
    return validator + " is not in the validator set the node reports now; check its key by hand";
  std::vector<rapidjson::Document> signed_objects;
  for (const char* which : {"first", "second"}) {
    if (!piece.HasMember(which) || !piece[which].IsObject())
      return std::string("the ") + which + " message is missing";
    const rapidjson::Value& m = piece[which];
    if (str(m, "signer") != validator)
      return std::string("the ") + which + " message is signed by another validator";
    identity::Domain domain;
    if (str(m, "domain") == identity::domain_tag(identity::Domain::kProposal))
      domain = identity::Domain::kProposal;
    else if (str(m, "domain") == identity::domain_tag(identity::Domain::kVote))
      domain = identity::Domain::kVote;
    else
      return std::string("the ") + which + " message has an unknown domain";
    auto sig = from_hex_fixed<64>(str(m, "sig"));
    const std::string text = str(m, "signed");
    if (!sig) return std::string("the ") + which + " signature is not 128 hex";
    if (!identity::verify(domain, key->second, text, *sig))
      return std::string("the ") + which + " signature does not verify under " + validator +
             "'s key";
    signed_objects.push_back(parse(text));
    if (!signed_objects.back().IsObject())
      return std::string("the ") + which + " signed text is not JSON";
  }
  const auto& a = signed_objects[0];
  const auto& b = signed_objects[1];
  for (const char* same : {"chain", "height", "view", "phase"})
    if (str(a, same) != str(b, same)) return std::string("the two messages differ in ") + same;
  if (str(a, "height") != str(piece, "height") || str(a, "view") != str(piece, "view"))
    return "the messages are for another height or view than the piece names";
  if (str(a, "block") == str(b, "block")) return "both messages are for the same block";
  return "";
}

int cmd_evidence(const Ctx& ctx, const node::CliArgs& a) {
  if (a.positional.size() != 1) return fail(kExitUsage, "use `imi evidence`");
  auto st = http(ctx, "GET", "/v1/status");
  if (!st) return fail(kExitUnreachable, st.status().message());
  if (st->status != 200) return report_problem(*st);
  std::map<std::string, identity::PublicKey> keys;
  auto status = parse(st->body);
  if (status.IsObject() && status.HasMember("validators") && status["validators"].IsArray())
    for (const auto& v : status["validators"].GetArray()) {
      if (auto k = from_hex_fixed<32>(str(v, "key"))) keys[str(v, "id")] = *k;
    }
  size_t pieces = 0;
  std::vector<std::pair<std::optional<uint64_t>, std::string>> failed;  // index, why
  std::string from = "0";
  while (!from.empty()) {
    Page got = get_page(ctx, "/v1/evidence?limit=100&from=" + from, "evidence");
    if (got.exit != kExitOk) return got.exit;
    const rapidjson::Document& page = got.doc;
    for (const auto& piece : page["evidence"].GetArray()) {
      ++pieces;
      const std::string why = check_piece(piece, keys);
      if (!why.empty())
        failed.emplace_back(
            piece.IsObject() && piece.HasMember("index") && piece["index"].IsUint64()
                ? std::optional<uint64_t>(piece["index"].GetUint64())
                : std::nullopt,
            why);
      if (ctx.json) continue;
      std::printf("evidence %s: %s, height %s, view %s: %s\n", str(piece, "index").c_str(),
                  str(piece, "validator").c_str(), str(piece, "height").c_str(),
                  str(piece, "view").c_str(),
                  why.empty() ? ("signed two " + str(piece["first"], "type") + "s, for blocks " +
                                 str(piece["first"], "block") + " and " +
                                 str(piece["second"], "block") + "; both signatures verify")
                                    .c_str()
                              : ("DOES NOT HOLD UP: " + why).c_str());
    }
    from = page.HasMember("next") && page["next"].IsUint64() ? str(page, "next") : "";
  }
  if (ctx.json) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("failed");
    w.StartArray();
    for (const auto& [index, why] : failed) {
      w.StartObject();
      w.Key("index");
      if (index)
        w.Uint64(*index);
      else
        w.Null();
      w.Key("why");
      w.String(why.c_str());
      w.EndObject();
    }
    w.EndArray();
    w.Key("pieces");
    w.Uint64(pieces);
    w.Key("verified");
    w.Uint64(pieces - failed.size());
    w.EndObject();
    std::printf("%s\n", buf.GetString());
  } else if (pieces == 0) {
    std::printf("no equivocation evidence on this node\n");
  } else {
    std::printf("%zu piece(s) of evidence, %zu verified, %zu not\n", pieces, pieces - failed.size(),
                failed.size());
  }
  return failed.empty() ? kExitOk : kExitBadEvidence;
}

}  // namespace

Command evidence_command() {
  Command c;
  c.name = "evidence";
  c.usage =
      "  evidence                      the node's equivocation evidence, each signature checked\n"
      "                                here with the validator's key (exit 7 if any fails)\n";
  c.run = cmd_evidence;
  return c;
}

}  // namespace imi::cli

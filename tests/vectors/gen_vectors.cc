// Writes transactions.json, blocks.json and certificates.json into the
// directory given as argv[1]. Every case is produced by the C++ records code
// and checked here to fail with exactly the code it is labelled with, so a
// regenerated file differs from the committed one only if behaviour changed.
// Usage: gen_vectors <tests/vectors dir>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "ledger/block.h"
#include "ledger/certificate.h"
#include "ledger/json.h"
#include "ledger/transaction.h"
#include "ledger/validators.h"
#include "tests/vectors/gen_util.h"
#include "tests/vectors/vector_common.h"

namespace imi::vectors {
namespace {

// ---- transactions.json ------------------------------------------------------

void gen_transactions(const std::string& dir) {
  Out o;
  o.doc.SetObject();
  const std::string chain(kChain);
  o.doc.AddMember("description", o.str(kTransactionsDescription), o.a());
  o.doc.AddMember("chain", o.str(chain), o.a());
  o.doc.AddMember("limits", limits_json(o), o.a());

  KeyPair k0 = KeyPair::from_seed(seed(0));
  KeyPair k1 = KeyPair::from_seed(seed(1));
  KeyPair k2 = KeyPair::from_seed(seed(2));
  KeyPair k3 = KeyPair::from_seed(seed(3));
  const std::string doc_hash = to_hex(sha256(std::string_view("residence permit scan")));

  Value valid(rapidjson::kArrayType);
  auto add_valid = [&](std::string_view name, const KeyPair& k, std::string_view from, bool first,
                       uint64_t nonce, std::string_view app, std::string_view op,
                       std::string_view args, std::string_view principal = {}) {
    Transaction tx = must_tx(
        make_transaction_for(k, from, principal, chain, nonce, app, op, o.json(args), limits()));
    expect_code(check_tx(tx.canonical(), first), "", name);
    Value c(rapidjson::kObjectType);
    c.AddMember("name", o.str(name), o.a());
    c.AddMember("seed", o.str(to_hex(k.seed())), o.a());
    c.AddMember("key", o.str(to_hex(k.public_key())), o.a());
    c.AddMember("from", o.str(from), o.a());
    c.AddMember("first", first, o.a());
    c.AddMember("chain", o.str(chain), o.a());
    c.AddMember("nonce", nonce, o.a());
    c.AddMember("app", o.str(app), o.a());
    c.AddMember("op", o.str(op), o.a());
    c.AddMember("args", o.json(args), o.a());
    if (!principal.empty()) c.AddMember("on_behalf_of", o.str(principal), o.a());
    c.AddMember("signed_bytes", o.str(tx.signed_bytes()), o.a());
    c.AddMember("sig", o.str(to_hex(tx.sig())), o.a());
    c.AddMember("tx", o.str(tx.canonical()), o.a());
    c.AddMember("id", o.str(tx.id_hex()), o.a());
    valid.PushBack(c, o.a());
  };
  add_valid("anchor, a sender's first transaction", k0, k0.did(), true, 0, "anchor", "record",
            "{\"hash\":\"" + doc_hash + "\"}");
  add_valid("largest nonce 2^53-1, booleans and integers in args", k1, k1.did(), false,
            9007199254740991ull, "governance", "approve",
            R"({"proposal":7,"approve":true,"weight":-9007199254740991})");
  add_valid("JCS: escapes, non-ASCII strings, nested keys sorted", k0, k0.did(), false, 1, "anchor",
            "record",
            R"({"note":"市民 \"q\" \\ \/ tab\t nl\n nul\u0000 \u001f del\u007f 😀 \u2028 é",)"
            R"("z":{"b":1,"a":[2,-3,0,null,true,false,{},[]]},"B":"upper","_":"","aa":"x"})");
  add_valid("empty args", k2, k2.did(), true, 0, "anchor", "ping", "{}");
  add_valid("later transaction of an account whose key was rotated: from is not did(key)", k3,
            k2.did(), false, 1, "identity", "rotate_key", R"({"reason":"phone replaced"})");
  add_valid("sent on behalf of a principal (delegation): on_behalf_of sorts before op", k1,
            k1.did(), false, 4, "share", "unlist", R"({"listing":"0123456789abcdef0123456789abcdef"})",
            k2.did());
  o.doc.AddMember("valid", valid, o.a());

  // Invalid cases: start from a valid transaction and break one thing.
  const Transaction base =
      make_tx(o, k0, chain, 5, "anchor", "record", "{\"hash\":\"" + doc_hash + "\"}");
  const std::string text = base.canonical();
  Value invalid(rapidjson::kArrayType);
  auto add_invalid = [&](std::string_view name, const std::string& t, bool first,
                         std::string_view error) {
    expect_code(check_tx(t, first), error, name);
    Value c(rapidjson::kObjectType);
    c.AddMember("name", o.str(name), o.a());
    c.AddMember("text", o.str(t), o.a());
    c.AddMember("first", first, o.a());
    c.AddMember("error", o.str(error), o.a());
    invalid.PushBack(c, o.a());
  };
  auto mutate = [&](auto&& edit, const KeyPair& signer) {
    rapidjson::Document d = parse_doc(text);
    edit(d);
    return resign(d, signer);
  };
  {
    std::string sig = to_hex(base.sig());
    std::string flipped = sig;
    flipped[10] = flipped[10] == '0' ? '1' : '0';
    add_invalid("signature with one bit changed", replace_once(text, sig, flipped), false,
                "tx.bad_signature");
    // S + L: the same signature with a non-canonical S, which strict
    // verification rejects.
    Bytes raw(base.sig().begin(), base.sig().end());
    static const uint8_t kL[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                   0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
                                   0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};
    unsigned carry = 0;
    for (int i = 0; i < 32; ++i) {
      unsigned s = raw[32 + i] + kL[i] + carry;
      raw[32 + i] = static_cast<uint8_t>(s);
      carry = s >> 8;
    }
    if (carry == 0 && (raw[63] & 0xe0) == 0)
      add_invalid("non-canonical signature (S + L)", replace_once(text, sig, to_hex(raw)), false,
                  "tx.bad_signature");
  }
  add_invalid("signed by another key than \"key\"", mutate([](auto&) {}, k1), false,
              "tx.bad_signature");
  {
    rapidjson::Document d = parse_doc(text);
    set_string(d, "sig", to_hex(k0.sign_raw(as_bytes(jcs_without(d, "sig")))));  // no domain tag
    add_invalid("signature over the JCS without the IMI/tx/v1 tag", jcs(d), false,
                "tx.bad_signature");
    set_string(d, "sig",
               to_hex(k0.sign(identity::Domain::kVote, jcs_without(d, "sig"))));  // other tag
    add_invalid("signature under the vote domain tag", jcs(d), false, "tx.bad_signature");
  }
  add_invalid("signed for another chain",
              mutate([](auto& d) { set_string(d, "chain", "imi-other"); }, k0), false,
              "tx.wrong_chain");
  add_invalid("first transaction whose from is not did(key)",
              mutate([&](auto& d) { set_string(d, "from", k1.did()); }, k0), true,
              "tx.key_mismatch");
  add_invalid("uppercase hex key",
              replace_once(text, to_hex(base.key()),
                           [&] {
                             std::string u = to_hex(base.key());
                             for (char& c : u) c = static_cast<char>(std::toupper(c));
                             return u;
                           }()),
              false, "tx.bad_key");
  add_invalid("key of 62 hex characters",
              mutate([&](auto& d) { set_string(d, "key", to_hex(base.key()).substr(2)); }, k0),
              false, "tx.bad_key");
  add_invalid("key is the identity point (small order)",
              mutate([&](auto& d) { set_string(d, "key", "01" + std::string(62, '0')); }, k0),
              false, "tx.invalid_key");
  add_invalid("uppercase hex signature",
              replace_once(text, to_hex(base.sig()),
                           [&] {
                             std::string u = to_hex(base.sig());
                             for (char& c : u) c = static_cast<char>(std::toupper(c));
                             return u;
                           }()),
              false, "tx.bad_sig");
  add_invalid("signature of 126 hex characters",
              replace_once(text, to_hex(base.sig()), to_hex(base.sig()).substr(2)), false,
              "tx.bad_sig");
  add_invalid("float nonce 5.0", replace_once(text, "\"nonce\":5", "\"nonce\":5.0"), false,
              "json.float");
  add_invalid("nonce with exponent 5e0", replace_once(text, "\"nonce\":5", "\"nonce\":5e0"), false,
              "json.float");
  add_invalid("negative nonce", replace_once(text, "\"nonce\":5", "\"nonce\":-5"), false,
              "tx.bad_nonce");
  add_invalid("nonce 2^53", replace_once(text, "\"nonce\":5", "\"nonce\":9007199254740992"), false,
              "json.integer_range");
  add_invalid("nonce as a string", replace_once(text, "\"nonce\":5", "\"nonce\":\"5\""), false,
              "tx.bad_nonce");
  add_invalid("version 2", replace_once(text, "\"v\":1", "\"v\":2"), false, "tx.bad_version");
  add_invalid("missing sig", replace_once(text, ",\"sig\":\"" + to_hex(base.sig()) + "\"", ""),
              false, "tx.missing_field");
  add_invalid("unknown member \"fee\"", replace_once(text, "\"v\":1", "\"v\":1,\"fee\":0"), false,
              "tx.unknown_field");
  add_invalid("on_behalf_of equal to from",
              mutate([&](auto& d) {
                d.AddMember("on_behalf_of", rapidjson::Value(k0.did().c_str(), d.GetAllocator()),
                            d.GetAllocator());
              }, k0),
              false, "tx.bad_on_behalf_of");
  add_invalid("on_behalf_of not a did:imi",
              mutate([&](auto& d) {
                d.AddMember("on_behalf_of", rapidjson::Value("did:imi:xyz", d.GetAllocator()),
                            d.GetAllocator());
              }, k0),
              false, "tx.bad_on_behalf_of");
  add_invalid("duplicate member \"nonce\"",
              replace_once(text, "\"nonce\":5", "\"nonce\":5,\"nonce\":6"), false,
              "json.duplicate_key");
  add_invalid("from is not a did:imi",
              mutate([&](auto& d) { set_string(d, "from", "did:web:" + k0.did().substr(8)); }, k0),
              false, "tx.bad_from");
  add_invalid("chain id with uppercase letters",
              mutate([](auto& d) { set_string(d, "chain", "IMI-test"); }, k0), false,
              "tx.bad_chain");
  add_invalid("empty app", mutate([](auto& d) { set_string(d, "app", ""); }, k0), false,
              "tx.bad_app");
  add_invalid("op with uppercase letters",
              mutate([](auto& d) { set_string(d, "op", "Record"); }, k0), false, "tx.bad_op");
  add_invalid("args is an array",
              replace_once(text, "\"args\":{\"hash\":\"" + doc_hash + "\"}", "\"args\":[]"), false,
              "tx.bad_args");
  add_invalid("not an object", "[" + text + "]", false, "tx.not_object");
  add_invalid("truncated", text.substr(0, text.size() - 1), false, "json.syntax");
  add_invalid("trailing data", text + "{}", false, "json.trailing_data");
  add_invalid("longer than tx_bytes_max",
              mutate(
                  [&](auto& d) {
                    auto& al = d.GetAllocator();
                    std::string filler(400, 'x');
                    for (const char* f : {"a", "b", "c"})
                      d["args"].AddMember(Value(f, al), Value(filler.c_str(), al), al);
                  },
                  k0),
              false, "tx.too_large");
  add_invalid("args nested deeper than json_depth_max",
              replace_once(text, "\"args\":{", "\"args\":{\"d\":[[[[[{}]]]]],"), false,
              "json.too_deep");
  add_invalid("lone surrogate in args",
              replace_once(text, "\"args\":{", "\"args\":{\"n\":\"\\ud800\","), false,
              "json.lone_surrogate");
  add_invalid("non-ASCII member name in args",
              replace_once(text, "\"args\":{", "\"args\":{\"é\":1,"), false, "json.non_ascii_key");
  o.doc.AddMember("invalid", invalid, o.a());
  write(dir + "/transactions.json", o.doc);
}

}  // namespace
}  // namespace imi::vectors

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: gen_vectors <tests/vectors dir>\n";
    return 2;
  }
  imi::vectors::gen_transactions(argv[1]);
  imi::vectors::gen_blocks(argv[1]);
  imi::vectors::gen_certificates(argv[1]);
  std::cout << "wrote transactions.json, blocks.json, certificates.json to " << argv[1] << "\n";
  return 0;
}

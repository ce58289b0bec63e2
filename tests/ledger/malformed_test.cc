// Table-driven: malformed, truncated, oversized and wrongly signed records,
// each with the exact error code a caller relies on. Decoders must return an
// error, never crash or assert.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "ledger/block.h"
#include "ledger/certificate.h"
#include "ledger/json.h"
#include "ledger/transaction.h"
#include "tests/vectors/vector_common.h"

using namespace imi;
using namespace imi::ledger;
using identity::KeyPair;

namespace {

enum class Kind { kTx, kBlock, kCert, kHeader, kResult };

struct Case {
  const char* name;
  Kind kind;
  std::string text;
  const char* code;
};

constexpr std::string_view kChain = "imi-dev";

std::string replace(std::string s, std::string_view from, std::string_view to) {
  size_t at = s.find(from);
  REQUIRE_MESSAGE(at != std::string::npos, from);
  return s.replace(at, from.size(), to);
}

struct World {
  KeyPair user = KeyPair::from_seed(vectors::seed(60));
  KeyPair other = KeyPair::from_seed(vectors::seed(61));
  std::vector<KeyPair> vkeys;
  ValidatorSet set;
  Transaction tx;
  Block block;
  CommitCertificate cert;

  static World make() {
    KeyPair user = KeyPair::from_seed(vectors::seed(60));
    std::vector<KeyPair> vkeys;
    std::vector<Validator> vs;
    for (int i = 0; i < 4; ++i) {
      vkeys.push_back(KeyPair::from_seed(vectors::seed(70 + i)));
      vs.push_back({vkeys.back().did(), vkeys.back().public_key()});
    }
    std::sort(vkeys.begin(), vkeys.end(),
              [](const KeyPair& a, const KeyPair& b) { return a.did() < b.did(); });
    auto set = ValidatorSet::make(vs);
    REQUIRE(set.is_ok());
    auto args = parse_strict(R"({"hash":"ab","tags":["x"]})");
    auto tx = make_transaction(user, kChain, 2, "anchor", "record", *args);
    REQUIRE(tx.is_ok());
    BlockHeader h;
    h.chain = std::string(kChain);
    h.height = 3;
    h.prev = sha256(std::string_view("parent"));
    h.time_ms = 1767225600000;
    h.proposer = set->primary(3).id;
    h.validators = set->hash();
    Block block = Block::make(h, {*tx});
    CommitCertificate cert;
    cert.height = 3;
    cert.view = 1;
    cert.block = block.id();
    for (int i = 0; i < 3; ++i)
      cert.sigs.push_back({vkeys[i].did(), sign_commit_vote(vkeys[i], kChain, 3, 1, block.id())});
    return World{
        user, KeyPair::from_seed(vectors::seed(61)), vkeys, std::move(set).value(), *tx, block,
        cert};
  }
};

Status run(const World& w, Kind kind, std::string_view text) {
  switch (kind) {
    case Kind::kTx: {
      auto tx = Transaction::decode(text, {});
      if (!tx) return tx.status();
      IMI_RETURN_IF_ERROR(tx->validate(kChain));
      return tx->check_first_sender();
    }
    case Kind::kBlock: {
      auto b = Block::decode(text, {});
      if (!b) return b.status();
      return b->validate(kChain);
    }
    case Kind::kCert: {
      auto c = CommitCertificate::decode(text);
      if (!c) return c.status();
      return c->validate(w.set, kChain, w.block.header().height, w.block.id());
    }
    case Kind::kHeader:
      return BlockHeader::decode(text).status();
    case Kind::kResult:
      return TxResult::decode(text).status();
  }
  return Status::error("test.bad_kind", "");
}

std::vector<Case> cases(const World& w) {
  const std::string tx = w.tx.canonical();
  const std::string sig = to_hex(w.tx.sig());
  const std::string block = w.block.canonical();
  const std::string header = w.block.header().canonical();
  const std::string cert = w.cert.canonical();
  const std::string vsig = to_hex(w.cert.sigs[0].sig);
  std::string sig_flipped = sig;
  sig_flipped[0] = sig[0] == 'a' ? 'b' : 'a';
  std::string big_string(70 * 1024, 'x');
  std::vector<Case> out = {
      {"empty input", Kind::kTx, "", "json.syntax"},
      {"null", Kind::kTx, "null", "tx.not_object"},
      {"a string", Kind::kTx, "\"tx\"", "tx.not_object"},
      {"empty object", Kind::kTx, "{}", "tx.missing_field"},
      {"truncated in the middle", Kind::kTx, tx.substr(0, tx.size() / 2), "json.syntax"},
      {"missing closing brace", Kind::kTx, tx.substr(0, tx.size() - 1), "json.syntax"},
      {"nested 100 deep", Kind::kTx, std::string(100, '[') + std::string(100, ']'),
       "json.too_deep"},
      {"larger than tx_bytes_max", Kind::kTx,
       replace(tx, "\"tags\":", "\"pad\":\"" + big_string + "\",\"tags\":"), "tx.too_large"},
      {"sig flipped", Kind::kTx, replace(tx, sig, sig_flipped), "tx.bad_signature"},
      {"sig all zeros", Kind::kTx, replace(tx, sig, std::string(128, '0')), "tx.bad_signature"},
      {"sig as a number", Kind::kTx, replace(tx, "\"" + sig + "\"", "7"), "tx.bad_sig"},
      {"key null", Kind::kTx, replace(tx, "\"" + to_hex(w.tx.key()) + "\"", "null"), "tx.bad_key"},
      {"v true", Kind::kTx, replace(tx, "\"v\":1", "\"v\":true"), "tx.bad_version"},
      {"v 1.0", Kind::kTx, replace(tx, "\"v\":1", "\"v\":1.0"), "json.float"},
      {"nonce -0", Kind::kTx, replace(tx, "\"nonce\":2", "\"nonce\":-0"), "json.syntax"},
      {"nonce 1e3", Kind::kTx, replace(tx, "\"nonce\":2", "\"nonce\":1e3"), "json.float"},
      {"chain of 65 characters", Kind::kTx,
       replace(tx, "\"imi-dev\"", "\"" + std::string(65, 'c') + "\""), "tx.bad_chain"},
      {"app with a space", Kind::kTx, replace(tx, "\"anchor\"", "\"an chor\""), "tx.bad_app"},
      {"args null", Kind::kTx, replace(tx, "\"args\":{", "\"args\":null,\"x\":{"),
       "tx.unknown_field"},
      {"invalid UTF-8 in args", Kind::kTx, replace(tx, "\"x\"]", "\"\xff\"]"), "json.invalid_utf8"},
      {"NUL byte after the object", Kind::kTx, tx + std::string(1, '\0'), "json.trailing_data"},

      {"block: empty object", Kind::kBlock, "{}", "block.missing_field"},
      {"block: header is an array", Kind::kBlock, "{\"header\":[" + header + "],\"txs\":[]}",
       "block.not_object"},
      {"block: header is a string", Kind::kBlock, "{\"header\":\"h\",\"txs\":[]}",
       "block.not_object"},
      {"block: truncated", Kind::kBlock, block.substr(0, block.size() - 3), "json.syntax"},
      {"block: txs null", Kind::kBlock, "{\"header\":" + header + ",\"txs\":null}",
       "block.bad_txs"},
      {"block: tx_count says one but none given", Kind::kBlock,
       "{\"header\":" + header + ",\"txs\":[]}", "block.tx_count_mismatch"},
      {"block: tx signature changed under the committed txs_root", Kind::kBlock,
       replace(block, sig, sig_flipped), "block.txs_root_mismatch"},
      {"block: tx with a bad signature, root recomputed", Kind::kBlock,
       [&] {
         auto bad = Transaction::decode(replace(tx, sig, sig_flipped), {});
         REQUIRE(bad.is_ok());
         return Block::make(w.block.header(), {*bad}).canonical();
       }(),
       "tx.bad_signature"},
      {"block: a transaction that is a number", Kind::kBlock,
       replace(block, "\"txs\":[", "\"txs\":[1,"), "tx.not_object"},
      {"block: height beyond 2^53-1", Kind::kBlock,
       replace(block, "\"height\":3", "\"height\":9007199254740992"), "json.integer_range"},

      {"header: time as a string", Kind::kHeader,
       replace(header, "\"time\":1767225600000", "\"time\":\"1767225600000\""), "block.bad_time"},
      {"header: prev 63 characters", Kind::kHeader,
       replace(header, to_hex(w.block.header().prev), to_hex(w.block.header().prev).substr(1)),
       "block.bad_prev"},
      {"header: negative tx_count", Kind::kHeader,
       replace(header, "\"tx_count\":1", "\"tx_count\":-1"), "block.bad_tx_count"},

      {"cert: empty object", Kind::kCert, "{}", "cert.missing_field"},
      {"cert: sigs is an object", Kind::kCert,
       "{\"height\":3,\"view\":1,\"block\":\"" + to_hex(w.block.id()) + "\",\"sigs\":{}}",
       "cert.bad_sigs"},
      {"cert: no sigs", Kind::kCert,
       "{\"block\":\"" + to_hex(w.block.id()) + "\",\"height\":3,\"sigs\":[],\"view\":1}",
       "cert.no_quorum"},
      {"cert: signature flipped", Kind::kCert,
       replace(cert, vsig, std::string(1, vsig[0] == 'a' ? 'b' : 'a') + vsig.substr(1)),
       "cert.bad_signature"},
      {"cert: wrong view (votes were for view 1)", Kind::kCert,
       replace(cert, "\"view\":1", "\"view\":2"), "cert.bad_signature"},
      {"cert: validator is not a DID", Kind::kCert,
       replace(cert, w.cert.sigs[0].validator, "validator-0"), "cert.bad_sigs"},
      {"cert: truncated", Kind::kCert, cert.substr(0, 40), "json.syntax"},
      {"cert: 1025 entries", Kind::kCert,
       [&] {
         std::string s = "{\"block\":\"" + to_hex(w.block.id()) + "\",\"height\":3,\"sigs\":[";
         for (int i = 0; i < 1025; ++i)
           s += std::string(i ? "," : "") + "{\"sig\":\"" + vsig + "\",\"validator\":\"" +
                w.cert.sigs[0].validator + "\"}";
         return s + "],\"view\":1}";
       }(),
       "cert.too_many_sigs"},

      {"result: code is a float", Kind::kResult, "{\"code\":0.0,\"events\":[]}", "json.float"},
      {"result: events is an object", Kind::kResult, "{\"code\":0,\"events\":{}}",
       "result.bad_events"},
      {"result: extra message member", Kind::kResult,
       "{\"code\":0,\"events\":[],\"message\":\"m\"}", "result.unknown_field"},
  };
  return out;
}

}  // namespace

TEST_CASE("malformed records are rejected with their exact error code") {
  World w = World::make();
  REQUIRE(run(w, Kind::kTx, w.tx.canonical()).is_ok());
  REQUIRE(run(w, Kind::kBlock, w.block.canonical()).is_ok());
  REQUIRE(run(w, Kind::kCert, w.cert.canonical()).is_ok());
  REQUIRE(run(w, Kind::kHeader, w.block.header().canonical()).is_ok());
  std::vector<Case> table = cases(w);
  CHECK(table.size() >= 30);
  for (const Case& c : table) {
    INFO(std::string(c.name));
    CHECK(run(w, c.kind, c.text).code() == std::string(c.code));
  }
}

TEST_CASE("every truncation of a valid transaction, block and certificate is an error") {
  World w = World::make();
  for (auto [kind, text] :
       {std::pair{Kind::kTx, w.tx.canonical()}, std::pair{Kind::kBlock, w.block.canonical()},
        std::pair{Kind::kCert, w.cert.canonical()}}) {
    for (size_t n = 0; n < text.size(); ++n) {
      Status s = run(w, kind, std::string_view(text).substr(0, n));
      CHECK_FALSE(s.is_ok());
    }
  }
}

TEST_CASE("every single-byte corruption of a signed transaction is rejected") {
  World w = World::make();
  const std::string tx = w.tx.canonical();
  for (size_t i = 0; i < tx.size(); ++i) {
    std::string bad = tx;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    Status s = run(w, Kind::kTx, bad);
    INFO(bad);
    CHECK_FALSE(s.is_ok());
  }
}

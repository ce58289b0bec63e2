// Helpers for the vector generator (gen_vectors.cc, gen_records.cc).
#pragma once

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>

#include "ledger/json.h"
#include "ledger/transaction.h"
#include "tests/vectors/vector_common.h"

namespace imi::vectors {

using namespace imi::ledger;
using identity::KeyPair;
using rapidjson::Value;

class Out {
 public:
  rapidjson::Document doc;
  rapidjson::Document::AllocatorType& a() { return doc.GetAllocator(); }
  Value str(std::string_view s) {
    return Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a());
  }
  Value json(std::string_view text) {
    auto r = parse_strict(text);
    if (!r) fail("bad literal " + std::string(text) + ": " + r.status().to_string());
    Value v;
    v.CopyFrom(*r, a());
    return v;
  }
  [[noreturn]] static void fail(const std::string& why) {
    std::cerr << "gen_vectors: " << why << "\n";
    std::exit(1);
  }
};

inline void write(const std::string& path, const rapidjson::Document& d) {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.SetIndent(' ', 1);
  d.Accept(w);
  std::ofstream f(path);
  f << buf.GetString() << "\n";
  if (!f) Out::fail("cannot write " + path);
}

inline rapidjson::Document parse_doc(std::string_view text) {
  JsonLimits big;
  big.max_bytes = 1 << 24;
  auto r = parse_strict(text, big);
  if (!r) Out::fail("cannot parse " + std::string(text));
  return std::move(r).value();
}

inline void set_string(rapidjson::Document& d, const char* field, std::string_view s) {
  d[field].SetString(s.data(), static_cast<rapidjson::SizeType>(s.size()), d.GetAllocator());
}

// Re-signs `d` (any content) with `k` and returns its JCS.
inline std::string resign(rapidjson::Document& d, const KeyPair& k) {
  set_string(d, "sig", to_hex(k.sign(identity::Domain::kTx, jcs_without(d, "sig"))));
  return jcs(d);
}

inline std::string replace_once(std::string s, std::string_view from, std::string_view to) {
  size_t at = s.find(from);
  if (at == std::string::npos) Out::fail("no \"" + std::string(from) + "\" in " + s);
  return s.replace(at, from.size(), to);
}

inline Transaction must_tx(Result<Transaction> r) {
  if (!r) Out::fail("make_transaction: " + r.status().to_string());
  return std::move(r).value();
}

inline Transaction make_tx(Out& o, const KeyPair& k, std::string_view chain, uint64_t nonce,
                           std::string_view app, std::string_view op, std::string_view args) {
  return must_tx(make_transaction(k, chain, nonce, app, op, o.json(args), vectors::limits()));
}

inline void expect_code(const Status& s, std::string_view expected, std::string_view name) {
  if (s.code() != expected)
    Out::fail(std::string(name) + ": expected \"" + std::string(expected) + "\", got " +
              s.to_string());
}

inline Value limits_json(Out& o) {
  const ValidityLimits l = vectors::limits();
  Value v(rapidjson::kObjectType);
  v.AddMember("tx_bytes_max", static_cast<uint64_t>(l.tx_bytes_max), o.a());
  v.AddMember("block_bytes_max", static_cast<uint64_t>(l.block_bytes_max), o.a());
  v.AddMember("block_txs_max", static_cast<uint64_t>(l.block_txs_max), o.a());
  v.AddMember("json_depth_max", l.json_depth_max, o.a());
  v.AddMember("json_string_bytes_max", static_cast<uint64_t>(l.json_string_bytes_max), o.a());
  v.AddMember("json_members_max", static_cast<uint64_t>(l.json_members_max), o.a());
  return v;
}

void gen_blocks(const std::string& dir);
void gen_certificates(const std::string& dir);

}  // namespace imi::vectors

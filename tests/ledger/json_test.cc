// Strict parser and RFC 8785 serialisation: the shared vectors
// (tests/vectors/jcs.json), a table of malformed inputs, round trips, and the
// typed accessors the record decoders use.
#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "ledger/json.h"

using imi::ledger::jcs;
using imi::ledger::JsonLimits;
using imi::ledger::parse_strict;

namespace {

std::string read_vectors(const char* file) {
  const char* dir = std::getenv("IMI_VECTORS_DIR");
  REQUIRE_MESSAGE(dir != nullptr, "IMI_VECTORS_DIR must point at tests/vectors");
  std::ifstream in(std::string(dir) + "/" + file, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot open vectors file ", file);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string str(const rapidjson::Value& v) {
  return std::string(v.GetString(), v.GetStringLength());
}

// The error code parse_strict gives, or "ok".
std::string code_of(std::string_view text, const JsonLimits& limits = {}) {
  auto doc = parse_strict(text, limits);
  return doc ? "ok" : doc.status().code();
}

std::string canonical(std::string_view text) {
  auto doc = parse_strict(text);
  REQUIRE_MESSAGE(doc.is_ok(), doc.status().to_string());
  return jcs(*doc);
}

}  // namespace

TEST_CASE("jcs.json vectors: every canonical output and every error code") {
  std::string file = read_vectors("jcs.json");
  // The vectors are read with RapidJSON's own parser, not the one under test.
  rapidjson::Document vectors;
  vectors.Parse(file.data(), file.size());
  REQUIRE_FALSE(vectors.HasParseError());
  const auto& cases = vectors["cases"];
  REQUIRE(cases.Size() >= 100);
  int valid = 0, invalid = 0;
  for (const auto& c : cases.GetArray()) {
    std::string name = str(c["name"]);
    CAPTURE(name);
    std::string input;
    if (c.HasMember("input")) {
      input = str(c["input"]);
    } else {
      auto bytes = imi::from_hex(str(c["input_hex"]));
      REQUIRE(bytes.has_value());
      input.assign(bytes->begin(), bytes->end());
    }
    JsonLimits limits;
    if (c.HasMember("limits")) {
      const auto& l = c["limits"];
      if (l.HasMember("max_bytes")) limits.max_bytes = l["max_bytes"].GetUint64();
      if (l.HasMember("max_depth")) limits.max_depth = l["max_depth"].GetInt();
      if (l.HasMember("max_string_bytes"))
        limits.max_string_bytes = l["max_string_bytes"].GetUint64();
      if (l.HasMember("max_members")) limits.max_members = l["max_members"].GetUint64();
    }
    auto doc = parse_strict(input, limits);
    if (c.HasMember("canonical")) {
      ++valid;
      REQUIRE_MESSAGE(doc.is_ok(), doc.status().to_string());
      std::string out = jcs(*doc);
      CHECK(out == str(c["canonical"]));
      // Canonical text is itself valid and a fixed point.
      auto again = parse_strict(out, limits);
      REQUIRE_MESSAGE(again.is_ok(), again.status().to_string());
      CHECK(jcs(*again) == out);
    } else {
      ++invalid;
      REQUIRE_FALSE(doc.is_ok());
      CHECK(doc.status().code() == str(c["error"]));
      CHECK(doc.status().message().rfind("at byte ", 0) == 0);
    }
  }
  CHECK(valid >= 30);
  CHECK(invalid >= 60);
}

TEST_CASE("malformed inputs: each gets its own error code, none crashes") {
  JsonLimits small;
  small.max_bytes = 64;
  small.max_depth = 4;
  small.max_string_bytes = 8;
  small.max_members = 3;
  const std::string deep_arrays = std::string(10000, '[') + std::string(10000, ']');
  std::string deep_objects;
  for (int i = 0; i < 10000; ++i) deep_objects += "{\"a\":";
  deep_objects += "1" + std::string(10000, '}');
  const std::string unclosed_deep(10000, '[');

  struct Case {
    std::string input;
    std::string code;
    JsonLimits limits;
  };
  const std::vector<Case> cases = {
      {"", "json.syntax", {}},
      {"   ", "json.syntax", {}},
      {"{", "json.syntax", {}},
      {"[", "json.syntax", {}},
      {"{\"a\"", "json.syntax", {}},
      {"{\"a\":", "json.syntax", {}},
      {"{\"a\":1", "json.syntax", {}},
      {"{\"a\":1,", "json.syntax", {}},
      {"\"abc", "json.syntax", {}},
      {"\"\\", "json.syntax", {}},
      {"\"\\u00", "json.syntax", {}},
      {"\"\\ud83d\\ude0", "json.syntax", {}},
      {"tru", "json.syntax", {}},
      {"nul", "json.syntax", {}},
      {"-", "json.syntax", {}},
      {"1e+", "json.syntax", {}},
      {"01", "json.syntax", {}},
      {"+1", "json.syntax", {}},
      {"-0", "json.syntax", {}},
      {"\xef\xbb\xbf[]", "json.syntax", {}},
      {"[1,]", "json.syntax", {}},
      {"{,}", "json.syntax", {}},
      {"{\"a\":1}}", "json.trailing_data", {}},
      {"\"a\x01\"", "json.syntax", {}},
      {std::string("\"a\0b\"", 5), "json.syntax", {}},
      {std::string("[1]\0", 4), "json.trailing_data", {}},
      {"1.0", "json.float", {}},
      {"1e2", "json.float", {}},
      {"-0.0", "json.float", {}},
      {"9007199254740992", "json.integer_range", {}},
      {"-9007199254740992", "json.integer_range", {}},
      {"{\"a\":1,\"\\u0061\":2}", "json.duplicate_key", {}},
      {"{\"\xc3\xa9\":1}", "json.non_ascii_key", {}},
      {"\"\xc0\x80\"", "json.invalid_utf8", {}},
      {"\"\xed\xa0\x80\"", "json.invalid_utf8", {}},
      {"\"\xf4\x90\x80\x80\"", "json.invalid_utf8", {}},
      {"\"\xe2\x82\"", "json.invalid_utf8", {}},
      {"\"\xe2\x82", "json.invalid_utf8", {}},
      {"\"\\ud800\"", "json.lone_surrogate", {}},
      {"\"\\udc00\"", "json.lone_surrogate", {}},
      {"\"\\ud800\\u0041\"", "json.lone_surrogate", {}},
      {"\"\\ud800", "json.lone_surrogate", {}},
      {"[" + std::string(100, ' ') + "]", "json.too_large", small},
      {"[[[[[]]]]]", "json.too_deep", small},
      {"\"123456789\"", "json.string_too_long", small},
      {"{\"123456789\":1}", "json.string_too_long", small},
      {"[1,2,3,4]", "json.too_many_members", small},
      {"{\"a\":1,\"b\":2,\"c\":3,\"d\":4}", "json.too_many_members", small},
      {deep_arrays, "json.too_deep", {}},
      {deep_objects, "json.too_deep", {}},
      {unclosed_deep, "json.too_deep", {}},
      {std::string(2 << 20, ' '), "json.too_large", {}},
  };
  REQUIRE(cases.size() >= 30);
  for (const auto& c : cases) {
    CAPTURE(c.input.substr(0, 40));
    CHECK(code_of(c.input, c.limits) == c.code);
  }
}

TEST_CASE("nesting 10,000 deep is rejected without recursion, even when the limit is huge") {
  JsonLimits huge;
  huge.max_depth = 1'000'000;
  huge.max_members = 1'000'000;
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  auto doc = parse_strict(deep, huge);
  REQUIRE_FALSE(doc.is_ok());
  CHECK(doc.status().code() == "json.too_deep");
  // Exactly at the ceiling is accepted.
  std::string at_ceiling = std::string(imi::ledger::kJsonDepthCeiling, '[') +
                           std::string(imi::ledger::kJsonDepthCeiling, ']');
  CHECK(code_of(at_ceiling, huge) == "ok");
}

TEST_CASE("every truncation of a valid transaction is an error") {
  const std::string tx =
      R"({"v":1,"chain":"imi","from":"did:imi:00112233445566778899aabbccddeeff00112233",)"
      R"("nonce":12,"app":"anchor","op":"record","args":{"hash":"\u00e9\ud83d\ude00","n":[true,false,null]},)"
      R"("sig":"abcd"})";
  REQUIRE(code_of(tx) == "ok");
  for (size_t len = 0; len < tx.size(); ++len) {
    CAPTURE(len);
    CHECK(code_of(tx.substr(0, len)) != "ok");
  }
}

TEST_CASE("error messages name the byte offset of the offending token") {
  auto message = [](std::string_view text) { return parse_strict(text).status().message(); };
  CHECK(message("[1, 2.5]").rfind("at byte 4:", 0) == 0);
  CHECK(message("{\"a\":1, \"a\":2}").rfind("at byte 8:", 0) == 0);
  CHECK(message("[\"ok\", \"\\udc00\"]").rfind("at byte 8:", 0) == 0);
  CHECK(message("\"ab\xff\"").rfind("at byte 3:", 0) == 0);
  CHECK(message("[1] x").rfind("at byte 4:", 0) == 0);
  CHECK(message("[1 2]").rfind("at byte 3:", 0) == 0);
}

TEST_CASE("round trip: parse_strict(jcs(doc)) gives the same jcs") {
  const char* docs[] = {
      R"({"z":[3,2,1],"a":{"y":"\u0000\u001f\"\\/","x":-9007199254740991},"m":null})",
      R"([{"b":1,"a":2},{"d":{"f":[],"e":{}}},"\u00e9\ud83d\ude00",true,false])",
      R"("\u2028 tab\t ret\r nl\n bs\b ff\f")",
      R"({"":0,"\n":1," ":2,"~":3})",
  };
  for (const char* text : docs) {
    CAPTURE(text);
    std::string once = canonical(text);
    CHECK(canonical(once) == once);
  }
}

TEST_CASE("jcs sorts members of objects built in code and keeps array order") {
  rapidjson::Document doc;
  doc.SetObject();
  auto& a = doc.GetAllocator();
  rapidjson::Value inner(rapidjson::kObjectType);
  inner.AddMember("b", 2, a).AddMember("a", 1, a);
  rapidjson::Value list(rapidjson::kArrayType);
  list.PushBack(3, a).PushBack(1, a).PushBack(inner, a);
  doc.AddMember("zeta", list, a);
  doc.AddMember("alpha", "x\"y", a);
  doc.AddMember("Beta", rapidjson::Value(static_cast<int64_t>(-42)), a);
  CHECK(jcs(doc) == R"({"Beta":-42,"alpha":"x\"y","zeta":[3,1,{"a":1,"b":2}]})");

  // A large object: exercises the sort and, on parse, the hashed duplicate check.
  rapidjson::Document big;
  big.SetObject();
  for (int i = 999; i >= 0; --i) {
    std::string key = "k" + std::to_string(i);
    rapidjson::Value name(key.c_str(), big.GetAllocator());
    big.AddMember(name, rapidjson::Value(i), big.GetAllocator());
  }
  std::string out = jcs(big);
  CHECK(out.rfind(R"({"k0":0,"k1":1,"k10":10,"k100":100,"k101":101,)", 0) == 0);
  auto parsed = parse_strict(out);
  REQUIRE(parsed.is_ok());
  CHECK(jcs(*parsed) == out);
  std::string dup = out.substr(0, out.size() - 1) + R"(,"k500":1})";
  CHECK(code_of(dup) == "json.duplicate_key");
}

TEST_CASE("jcs_without leaves out only the named top-level member") {
  auto doc = parse_strict(R"({"sig":"aa","b":{"sig":"nested"},"a":1})");
  REQUIRE(doc.is_ok());
  CHECK(imi::ledger::jcs_without(*doc, "sig") == R"({"a":1,"b":{"sig":"nested"}})");
  CHECK(imi::ledger::jcs_without(*doc, "absent") == jcs(*doc));
  auto arr = parse_strict("[1]");
  REQUIRE(arr.is_ok());
  CHECK(imi::ledger::jcs_without(*arr, "sig") == "[1]");
  std::string buf = "IMI/tx/v1\n";
  imi::ledger::jcs_append(buf, *doc);
  CHECK(buf == "IMI/tx/v1\n" + jcs(*doc));
}

TEST_CASE("typed accessors name the field and use stable codes") {
  using namespace imi::ledger;
  const std::string hash(64, 'a');
  const std::string sig(128, '0');
  auto doc = parse_strict(R"({"s":"text","i":-5,"u":7,"t":true,"o":{},"l":[],"h":")" + hash +
                          R"(","sig":")" + sig + R"(","upper":")" + std::string(64, 'A') +
                          R"(","short":"abcd","max":9007199254740991})");
  REQUIRE(doc.is_ok());
  const rapidjson::Value& v = *doc;

  CHECK(*get_string(v, "s") == "text");
  CHECK(*get_int(v, "i") == -5);
  CHECK(*get_uint(v, "u") == 7u);
  CHECK(*get_uint(v, "max") == 9007199254740991u);
  CHECK(*get_bool(v, "t"));
  CHECK((*get_object(v, "o"))->IsObject());
  CHECK((*get_array(v, "l"))->IsArray());
  CHECK((*get_hex32(v, "h"))[0] == 0xaa);
  CHECK((*get_hex64(v, "sig"))[63] == 0);
  CHECK(has_field(v, "s"));
  CHECK_FALSE(has_field(v, "nope"));

  auto s = get_string(v, "i");
  CHECK(s.status().code() == "json.wrong_type");
  CHECK(s.status().message().find("\"i\"") != std::string::npos);
  CHECK(get_int(v, "s").status().code() == "json.wrong_type");
  CHECK(get_int(v, "missing").status().code() == "json.missing_field");
  CHECK(get_uint(v, "i").status().code() == "json.integer_range");
  CHECK(get_bool(v, "u").status().code() == "json.wrong_type");
  CHECK(get_object(v, "l").status().code() == "json.wrong_type");
  CHECK(get_array(v, "o").status().code() == "json.wrong_type");
  CHECK(get_hex32(v, "upper").status().code() == "json.bad_hex");
  CHECK(get_hex32(v, "short").status().code() == "json.bad_hex");
  CHECK(get_hex32(v, "sig").status().code() == "json.bad_hex");
  CHECK(get_hex64(v, "h").status().code() == "json.bad_hex");
  CHECK(get_hex32(v, "i").status().code() == "json.wrong_type");
  CHECK(get_string(*get_field(v, "l").value(), "x").status().code() == "json.wrong_type");

  // Values built in code may hold what the parser never yields.
  rapidjson::Document built;
  built.SetObject();
  built.AddMember("f", 1.5, built.GetAllocator());
  built.AddMember("big", rapidjson::Value(static_cast<int64_t>(1) << 60), built.GetAllocator());
  CHECK(get_int(built, "f").status().code() == "json.wrong_type");
  CHECK(get_int(built, "big").status().code() == "json.integer_range");
}

TEST_CASE("expect_members rejects unknown and missing members") {
  using imi::ledger::expect_members;
  auto doc = parse_strict(R"({"v":1,"from":"x","memo":"m"})");
  REQUIRE(doc.is_ok());
  CHECK(expect_members(*doc, {"v", "from"}, {"memo"}).is_ok());
  CHECK(expect_members(*doc, {"v", "from", "memo"}).is_ok());
  auto unknown = expect_members(*doc, {"v", "from"});
  CHECK(unknown.code() == "json.unknown_field");
  CHECK(unknown.message().find("\"memo\"") != std::string::npos);
  auto missing = expect_members(*doc, {"v", "from", "nonce"}, {"memo"});
  CHECK(missing.code() == "json.missing_field");
  CHECK(missing.message().find("\"nonce\"") != std::string::npos);
  auto arr = parse_strict("[]");
  CHECK(expect_members(*arr, {"v"}).code() == "json.wrong_type");
}

TEST_CASE("parse_strict can give the exact text of each element of arrays at one depth") {
  std::vector<std::string_view> spans;
  const std::string text = R"({"h":[9],"txs":[ {"x":1} , "s\"]" ,[2, 3]]})";
  auto d = parse_strict(text, {}, 2, spans);
  REQUIRE(d.is_ok());
  REQUIRE(spans.size() == 4);  // 9, then the three elements of "txs"
  CHECK(spans[0] == "9");
  CHECK(spans[1] == R"({"x":1})");
  CHECK(spans[2] == R"("s\"]")");
  CHECK(spans[3] == "[2, 3]");
  // Elements of the array nested one deeper are not captured.
  spans.clear();
  REQUIRE(parse_strict("[[1],[2]]", {}, 1, spans).is_ok());
  CHECK(spans == std::vector<std::string_view>{"[1]", "[2]"});
  // A failed parse may leave spans behind; the document is what counts.
  spans.clear();
  CHECK_FALSE(parse_strict("[1, 01]", {}, 1, spans).is_ok());
}

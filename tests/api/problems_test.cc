#include "api/problems.h"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>

#include "api/json_text.h"

using namespace imi;
using namespace imi::api;

TEST_CASE("every problem type has a distinct slug and a fitting status") {
  std::set<std::string_view> slugs;
  for (int i = 0; i <= static_cast<int>(Problem::kUpgradeRequired); ++i) {
    const ProblemInfo& info = problem_info(static_cast<Problem>(i));
    CHECK(slugs.insert(info.slug).second);
    CHECK(info.http_status >= 400);
    CHECK(info.http_status < 600);
    CHECK(!info.title.empty());
  }
  CHECK(problem_info(Problem::kBodyTooLarge).http_status == 413);
  CHECK(problem_info(Problem::kHeadersTooLarge).http_status == 431);
  CHECK(problem_info(Problem::kRateLimited).http_status == 429);
  CHECK(problem_type_uri(Problem::kMalformedJson) == "https://imi.chain/problems/malformed-json");
}

TEST_CASE("Status codes map to problems: exact, by prefix, else internal") {
  const auto p = [](const char* code) { return problem_for_status(Status::error(code, "m")); };
  CHECK(p("json.float") == Problem::kMalformedJson);
  CHECK(p("json.lone_surrogate") == Problem::kMalformedJson);
  CHECK(p("json.too_large") == Problem::kBodyTooLarge);
  CHECK(p("tx.bad_signature") == Problem::kBadSignature);
  CHECK(p("tx.wrong_chain") == Problem::kWrongChain);
  CHECK(p("tx.nonce_used") == Problem::kNonceReplayed);
  CHECK(p("tx.unknown_app") == Problem::kUnknownApp);
  CHECK(p("tx.some_new_rule") == Problem::kInvalidTransaction);
  CHECK(p("mempool.full") == Problem::kMempoolFull);
  CHECK(p("block.not_found") == Problem::kNotFound);
  CHECK(p("evidence.not_found") == Problem::kNotFound);
  CHECK(p("state.unknown_app") == Problem::kNotFound);
  CHECK(p("query.unknown_app") == Problem::kNotFound);
  CHECK(p("query.unknown") == Problem::kNotFound);
  CHECK(p("query.bad_param") == Problem::kInvalidParameter);
  CHECK(p("node.syncing") == Problem::kNotReady);
  CHECK(p("api.invalid_parameter") == Problem::kInvalidParameter);
  CHECK(p("io.disk_full") == Problem::kInternal);
  CHECK(p("node.io") == Problem::kInternal);
  CHECK(p("state.storage") == Problem::kInternal);
  CHECK(p("tx.too_large") == Problem::kBodyTooLarge);
}

TEST_CASE("problem_json is RFC 9457 JSON even for hostile details") {
  const std::string body =
      problem_json(Problem::kBadSignature, "bad \"sig\"\n\x01 \xFF end", "tx.bad_signature");
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  REQUIRE(!d.HasParseError());
  CHECK(std::string(d["type"].GetString()) == "https://imi.chain/problems/bad-signature");
  CHECK(d["status"].GetInt() == 422);
  CHECK(std::string(d["title"].GetString()) == "Transaction signature does not verify");
  CHECK(std::string(d["detail"].GetString()) == "bad \"sig\"\n\x01 \xEF\xBF\xBD end");
  CHECK(std::string(d["code"].GetString()) == "tx.bad_signature");
  CHECK(problem_json(Problem::kNotFound, "x").find("\"code\"") == std::string::npos);
}

TEST_CASE("json_quote and is_valid_utf8") {
  CHECK(json_quote("a\\b") == "\"a\\\\b\"");
  CHECK(json_quote("\xE4\xB8\xAD") == "\"\xE4\xB8\xAD\"");
  CHECK(is_valid_utf8("\xE4\xB8\xAD"));
  CHECK(!is_valid_utf8("\xC0\x80"));      // overlong
  CHECK(!is_valid_utf8("\xED\xA0\x80"));  // surrogate
  CHECK(!is_valid_utf8("\xF4\x90\x80\x80"));
  CHECK(!is_valid_utf8("\xE4\xB8"));
}

TEST_CASE("api/openapi.yaml lists every problem type and every route") {
  const char* vectors = std::getenv("IMI_VECTORS_DIR");
  REQUIRE_MESSAGE(vectors != nullptr, "run under CTest: IMI_VECTORS_DIR is not set");
  std::ifstream in(std::string(vectors) + "/../../api/openapi.yaml");
  REQUIRE(in.good());
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (int i = 0; i <= static_cast<int>(Problem::kUpgradeRequired); ++i) {
    const auto p = static_cast<Problem>(i);
    CAPTURE(problem_type_uri(p));
    CHECK(doc.find("- " + problem_type_uri(p) + "\n") != std::string::npos);
    CHECK(doc.find(std::string(problem_info(p).slug) + " (" +
                   std::to_string(problem_info(p).http_status)) != std::string::npos);
  }
  for (const char* path : {"/v1/txs:", "/v1/txs/{id}:", "/v1/blocks:", "/v1/blocks/{height}:",
                           "/v1/state/{app}/{key}:", "/v1/apps/{app}/{query}:", "/v1/dids/{did}:",
                           "/v1/evidence:", "/v1/events:", "/v1/presentations/verify:",
                           "/v1/status:", "/healthz:", "/readyz:", "/metrics:"}) {
    CAPTURE(path);
    CHECK(doc.find(std::string("\n  ") + path + "\n") != std::string::npos);
  }
}

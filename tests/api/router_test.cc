#include "api/router.h"

#include <doctest/doctest.h>

using namespace imi::api;

TEST_CASE("match_route finds each v1 route and its parameters") {
  auto tx = match_route("/v1/txs?wait=commit");
  REQUIRE(tx);
  CHECK(tx->id == RouteId::kSubmitTx);
  CHECK(tx->wait_commit);
  CHECK(!match_route("/v1/txs")->wait_commit);

  const std::string id(64, 'f');
  auto get_tx = match_route("/v1/txs/" + id);
  REQUIRE(get_tx);
  CHECK(get_tx->id == RouteId::kGetTx);
  CHECK(get_tx->tx_id == id);

  auto block = match_route("/v1/blocks/9007199254740991");
  REQUIRE(block);
  CHECK(block->id == RouteId::kGetBlock);
  CHECK(block->height == 9007199254740991ULL);

  auto page = match_route("/v1/blocks?limit=100&from=5");
  REQUIRE(page);
  CHECK(page->id == RouteId::kListBlocks);
  CHECK(page->height == 5);
  CHECK(page->limit == 100);
  CHECK(match_route("/v1/blocks")->limit == kBlocksLimitDefault);

  auto evidence = match_route("/v1/evidence?from=2&limit=7");
  REQUIRE(evidence);
  CHECK(evidence->id == RouteId::kListEvidence);
  CHECK(evidence->height == 2);
  CHECK(evidence->limit == 7);
  CHECK(route_label(RouteId::kListEvidence) == "list_evidence");
  CHECK(route_method(RouteId::kListEvidence) == "GET");
  CHECK(match_route("/v1/evidence")->limit == kBlocksLimitDefault);

  auto state = match_route("/v1/state/anchor/a%2fb%25");
  REQUIRE(state);
  CHECK(state->id == RouteId::kGetState);
  CHECK(state->app == "anchor");
  CHECK(state->key == "a/b%");

  const std::string did = "did:imi:" + std::string(40, 'a');
  auto get_did = match_route("/v1/dids/did%3Aimi%3A" + std::string(40, 'a'));
  REQUIRE(get_did);
  CHECK(get_did->id == RouteId::kGetDid);
  CHECK(get_did->did == did);
  CHECK(match_route("/v1/dids/" + did)->did == did);
  CHECK(route_method(RouteId::kGetDid) == "GET");
  auto verify = match_route("/v1/presentations/verify");
  REQUIRE(verify);
  CHECK(verify->id == RouteId::kVerifyPresentation);
  CHECK(route_method(RouteId::kVerifyPresentation) == "POST");
  CHECK(route_label(RouteId::kVerifyPresentation) == "verify_presentation");

  CHECK(match_route("/v1/status")->id == RouteId::kStatus);
  CHECK(match_route("/healthz")->id == RouteId::kHealthz);
  CHECK(match_route("/readyz")->id == RouteId::kReadyz);
  CHECK(match_route("/metrics")->id == RouteId::kMetrics);
}

TEST_CASE("match_route: a malformed DID is an invalid parameter, extra segments are not found") {
  const std::string hex(40, 'a');
  for (const std::string& target :
       {"/v1/dids/did:imi:" + hex.substr(1), "/v1/dids/did:imi:" + std::string(40, 'A'),
        "/v1/dids/did:web:" + hex, std::string("/v1/dids/nonsense"), std::string("/v1/dids/%zz"),
        "/v1/dids/did:imi:" + hex + "?x=1"}) {
    CAPTURE(target);
    auto r = match_route(target);
    REQUIRE(!r);
    CHECK(r.status().code() == "api.invalid_parameter");
  }
  CHECK(match_route("/v1/dids").status().code() == "api.not_found");
  CHECK(match_route("/v1/dids/did:imi:" + hex + "/x").status().code() == "api.not_found");
  CHECK(match_route("/v1/presentations/verify?x=1").status().code() == "api.invalid_parameter");
  CHECK(match_route("/v1/presentations").status().code() == "api.not_found");
}

TEST_CASE("match_route rejects bad parameters with api.invalid_parameter") {
  for (const char* target :
       {"/v1/txs?wait=yes", "/v1/txs?x=1", "/v1/txs/ABC", "/v1/blocks/00", "/v1/blocks/+1",
        "/v1/blocks/12345678901234567", "/v1/blocks?limit=0", "/v1/blocks?limit=1&limit=2",
        "/v1/state/anchor/", "/v1/state/9app/k", "/v1/state/anchor/a/b", "/v1/state/anchor/%2",
        "/v1/state/anchor/%C0%80", "/v1/status?pretty=1", "/v1/evidence?limit=101",
        "/v1/evidence?from=-1", "/v1/evidence?height=1"}) {
    CAPTURE(target);
    auto r = match_route(target);
    REQUIRE(!r);
    CHECK(r.status().code() == "api.invalid_parameter");
  }
  CHECK(match_route(std::string("/v1/state/a/") + std::string(1025, 'k')).status().code() ==
        "api.invalid_parameter");
  CHECK(match_route(std::string("/v1/state/a/") + std::string(1024, 'k')).is_ok());
}

TEST_CASE("match_route: unknown paths and non-path targets") {
  for (const char* target : {"/", "/v1", "/v1/", "/v1/txs/a/b", "/v1/blocks/1/2", "/v1/state",
                             "/v1/state/", "/v1/state/anchor", "/metrics/", "/v1/statusx"}) {
    CAPTURE(target);
    CHECK(match_route(target).status().code() == "api.not_found");
  }
  CHECK(match_route("*").status().code() == "api.bad_target");
  CHECK(match_route("").status().code() == "api.bad_target");
}

TEST_CASE("parse_height and percent_decode are strict") {
  CHECK(parse_height("0") == 0u);
  CHECK(parse_height("10") == 10u);
  CHECK(!parse_height(""));
  CHECK(!parse_height("01"));
  CHECK(!parse_height("9007199254740992"));
  CHECK(!parse_height(" 1"));
  CHECK(percent_decode("a%20b") == std::string("a b"));
  CHECK(percent_decode("%e4%B8%ad") == std::string("\xE4\xB8\xAD"));
  CHECK(!percent_decode("%"));
  CHECK(!percent_decode("%4"));
  CHECK(!percent_decode("%g0"));
  CHECK(percent_decode("+") == std::string("+"));
}

TEST_CASE("match_route: app queries keep their own parameters apart from cursor and limit") {
  auto q = match_route("/v1/apps/share/responders?skill=first_aid&cell=r1c2&cursor=a%2Fb");
  REQUIRE(q);
  CHECK(q->id == RouteId::kAppQuery);
  CHECK(q->app == "share");
  CHECK(q->query == "responders");
  CHECK(q->limit == kAppQueryLimitDefault);
  CHECK(q->cursor == "a/b");
  CHECK(q->params.size() == 2);
  CHECK(q->params.at("skill") == "first_aid");
  CHECK(q->params.at("cell") == "r1c2");
  CHECK(route_label(RouteId::kAppQuery) == "app_query");
  CHECK(route_method(RouteId::kAppQuery) == "GET");
  CHECK(match_route("/v1/apps/share/listings?limit=100")->limit == 100);
  CHECK(match_route("/v1/apps/share/listings?limit=101").status().code() ==
        "api.invalid_parameter");
  CHECK(match_route("/v1/apps/share/listings?limit=0").status().code() == "api.invalid_parameter");
  CHECK(match_route("/v1/apps/share").status().code() == "api.not_found");
  CHECK(match_route("/v1/apps/share/a/b").status().code() == "api.not_found");
  std::string many = "/v1/apps/share/listings?";
  for (int i = 0; i < 17; ++i) many += "p" + std::to_string(i) + "=1&";
  CHECK(match_route(many).status().code() == "api.invalid_parameter");
  CHECK(match_route("/v1/apps/share/listings?v=" + std::string(1025, 'x')).status().code() ==
        "api.invalid_parameter");
}

TEST_CASE("match_route: the event stream's skill and cell filters") {
  auto e = match_route("/v1/events?app=share&skill=aed&cell=r0c0");
  REQUIRE(e);
  CHECK(e->id == RouteId::kEvents);
  CHECK(e->app == "share");
  CHECK(e->skill == "aed");
  CHECK(e->cell == "r0c0");
  CHECK(!match_route("/v1/events?skill="));
  CHECK(!match_route("/v1/events?cell=a%09b"));
  CHECK(!match_route("/v1/events?cell=" + std::string(65, 'c')));
}

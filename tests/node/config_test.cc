#include "node/config.h"

#include <doctest/doctest.h>

namespace imi::node {
namespace {

TEST_CASE("the written default config parses back to the defaults") {
  NodeConfig d = NodeConfig::defaults();
  std::string text = render_config(d);
  auto c = parse_config(text);
  REQUIRE(c);
  CHECK(c->api.listen_host == "127.0.0.1");
  CHECK(c->api.listen_port == 8080);
  CHECK(c->mempool.txs_max == d.mempool.txs_max);
  CHECK(c->block_txs_max == d.block_txs_max);
  CHECK(c->password_file.empty());
  // Every key is documented by a comment line.
  CHECK(text.find("# Encrypted keystore") != std::string::npos);
  CHECK(text.find("Default: 127.0.0.1:8080") != std::string::npos);
}

TEST_CASE("a rendered config with changed values round-trips") {
  NodeConfig c = NodeConfig::defaults();
  c.api.listen_port = 9999;
  c.api.cors_allowed_origins = {"https://a.example", "https://b.example"};
  c.mempool.sender_txs_max = 7;
  c.password_file = "pw.txt";
  auto back = parse_config(render_config(c));
  REQUIRE(back);
  CHECK(back->api.listen_port == 9999);
  CHECK(back->api.cors_allowed_origins == c.api.cors_allowed_origins);
  CHECK(back->mempool.sender_txs_max == 7);
  CHECK(back->password_file == "pw.txt");
}

TEST_CASE("p2p peers, observers and the node role round-trip") {
  NodeConfig c = NodeConfig::defaults();
  CHECK(!c.observer);
  CHECK(c.p2p_listen_enabled);
  c.observer = true;
  c.p2p_listen_port = 27000;
  c.peers = {PeerAddress{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                         "10.0.0.2", 26656},
             PeerAddress{"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "::1",
                         26657}};
  c.observer_keys = {"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"};
  auto back = parse_config(render_config(c));
  REQUIRE(back);
  CHECK(back->observer);
  CHECK(back->p2p_listen_port == 27000);
  CHECK(back->peers == c.peers);
  CHECK(back->observer_keys == c.observer_keys);

  auto dial_only = parse_config("[p2p]\nlisten =\n");
  REQUIRE(dial_only);
  CHECK(!dial_only->p2p_listen_enabled);
  CHECK(parse_config("[node]\nrole = leader\n").status().code() == "config.bad_value");
  CHECK(parse_config("[p2p]\npeers = "
                     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@nohost\n")
            .status()
            .code() == "config.bad_value");
  CHECK(parse_config("[p2p]\npeers = ABC@1.2.3.4:5\n").status().code() == "config.bad_value");
  CHECK(parse_config(
            "[p2p]\nobservers = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n")
            .status()
            .code() == "config.bad_value");
}

TEST_CASE("slow_block_ms: default one second, 0 turns the log line off") {
  CHECK(NodeConfig::defaults().slow_block_ms == 1000);
  auto off = parse_config("[consensus]\nslow_block_ms = 0\n");
  REQUIRE(off);
  CHECK(off->slow_block_ms == 0);
  CHECK(render_config(NodeConfig::defaults()).find("slow_block_ms = 1000") != std::string::npos);
  CHECK_FALSE(parse_config("[consensus]\nslow_block_ms = -5\n"));
}

TEST_CASE("state_cache_mib: default 64, at least 1") {
  CHECK(NodeConfig::defaults().state_cache_mib == 64);
  auto big = parse_config("[storage]\nstate_cache_mib = 512\n");
  REQUIRE(big);
  CHECK(big->state_cache_mib == 512);
  CHECK_FALSE(parse_config("[storage]\nstate_cache_mib = 0\n"));
}

TEST_CASE("a file may name only what it changes") {
  auto c = parse_config("# comment\n\n[mempool]\ntxs_max = 5\n");
  REQUIRE(c);
  CHECK(c->mempool.txs_max == 5);
  CHECK(c->api.listen_port == 8080);
}

TEST_CASE("config errors name the line and the problem") {
  auto unknown = parse_config("[api]\nlisten = 127.0.0.1:1\nlisen = x\n");
  REQUIRE(!unknown);
  CHECK(unknown.status().code() == "config.unknown_key");
  CHECK(unknown.status().message().find("line 3") != std::string::npos);

  CHECK(parse_config("[nosuch]\n").status().code() == "config.unknown_key");
  CHECK(parse_config("[api]\nlisten\n").status().code() == "config.syntax");
  CHECK(parse_config("listen = 1.2.3.4:5\n").status().code() == "config.syntax");
  CHECK(parse_config("[api\n").status().code() == "config.syntax");
  CHECK(parse_config("[mempool]\ntxs_max = -1\n").status().code() == "config.bad_value");
  CHECK(parse_config("[mempool]\ntxs_max = 0\n").status().code() == "config.bad_value");
  CHECK(parse_config("[mempool]\ntxs_max = 12abc\n").status().code() == "config.bad_value");
  CHECK(parse_config("[api]\nlisten = nohostport\n").status().code() == "config.bad_value");
  CHECK(parse_config("[api]\nlisten = 1.2.3.4:70000\n").status().code() == "config.bad_value");
  CHECK(parse_config("[storage]\ndata_dir =\n").status().code() == "config.bad_value");
  CHECK(parse_config("[mempool]\ntxs_max = 5\ntxs_max = 6\n").status().code() ==
        "config.duplicate_key");
  CHECK(parse_config("[consensus]\nview_timeout_ms = 500\nview_timeout_max_ms = 100\n")
            .status()
            .code() == "config.bad_value");
}

TEST_CASE("host:port parsing") {
  std::string host;
  uint16_t port = 0;
  REQUIRE(parse_host_port("0.0.0.0:0", host, port));
  CHECK(host == "0.0.0.0");
  CHECK(port == 0);
  REQUIRE(parse_host_port("[::1]:8080", host, port));
  CHECK(host == "::1");
  CHECK(port == 8080);
  CHECK(!parse_host_port(":80", host, port));
  CHECK(!parse_host_port("host:", host, port));
  CHECK(!parse_host_port("[::1:80", host, port));
}

}  // namespace
}  // namespace imi::node

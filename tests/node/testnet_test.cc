// init_testnet (what `imi testnet` writes): every home loads with load_home,
// the genesis names exactly the validators, peers and observer keys line up,
// and bad options or an existing home write nothing.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <set>

#include "identity/keys.h"
#include "node/home.h"

namespace fs = std::filesystem;
using namespace imi;
using namespace imi::node;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "imi-testnet-XXXXXX").string();
    REQUIRE(::mkdtemp(t.data()) != nullptr);
    path = t;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string addr(const PeerAddress& p) { return p.host + ":" + std::to_string(p.port); }

std::set<size_t> range_without(size_t n, size_t skip) {
  std::set<size_t> out;
  for (size_t i = 0; i < n; ++i)
    if (i != skip) out.insert(i);
  return out;
}

}  // namespace

TEST_CASE("testnet: every home loads and the peers, keys and genesis line up") {
  TempDir tmp;
  TestnetOptions o;
  o.out = tmp.path + "/net";
  o.chain_id = "imi-lab";
  o.validators = 4;
  o.observers = 1;
  o.api_base_port = 9100;
  o.p2p_base_port = 9200;
  auto nodes = init_testnet(o);
  REQUIRE(nodes.is_ok());
  REQUIRE(nodes->size() == 5);

  std::vector<Home> homes;
  for (const TestnetNode& n : *nodes) {
    auto h = load_home(n.home);
    REQUIRE_MESSAGE(h.is_ok(), n.name, ": ", h.status().to_string());
    homes.push_back(std::move(*h));
    struct stat st {};
    REQUIRE(::stat((n.home + "/password").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
  }
  std::map<std::string, size_t> by_key;
  for (size_t i = 0; i < nodes->size(); ++i) {
    const TestnetNode& n = (*nodes)[i];
    const Home& h = homes[i];
    CHECK(n.name == (i < 4 ? "node" + std::to_string(i) : "observer0"));
    CHECK(n.observer == (i >= 4));
    CHECK(h.config.observer == n.observer);
    // The key in the keystore is the one announced.
    CHECK(to_hex(h.key.public_key()) == n.key_hex);
    CHECK(h.key.did() == n.did);
    CHECK(identity::did_from_key(h.key.public_key()) == n.did);
    // Addresses.
    CHECK(n.api_url == "http://127.0.0.1:" + std::to_string(9100 + i));
    CHECK(n.p2p_address == "127.0.0.1:" + std::to_string(9200 + i));
    CHECK(h.config.api.listen_host == "127.0.0.1");
    CHECK(h.config.api.listen_port == 9100 + i);
    CHECK(h.config.p2p_listen_enabled);
    CHECK(h.config.p2p_listen_port == 9200 + i);
    // One genesis for all, naming the four validators only.
    CHECK(h.genesis.chain() == "imi-lab");
    CHECK(h.genesis.hash() == homes[0].genesis.hash());
    CHECK(h.genesis.validators().n() == 4);
    by_key[n.key_hex] = i;
  }
  std::set<std::string> validator_dids;
  for (const auto& v : homes[0].genesis.validators().validators()) {
    validator_dids.insert(v.id);
    REQUIRE(by_key.count(to_hex(v.key)) == 1);
    const TestnetNode& n = (*nodes)[by_key[to_hex(v.key)]];
    CHECK(!n.observer);
    CHECK(n.did == v.id);
  }
  CHECK(validator_dids.size() == 4);

  for (size_t i = 0; i < nodes->size(); ++i) {
    const NodeConfig& c = homes[i].config;
    std::set<size_t> dialed;
    for (const PeerAddress& p : c.peers) {
      REQUIRE(by_key.count(p.key_hex) == 1);
      const size_t j = by_key[p.key_hex];
      CHECK(addr(p) == (*nodes)[j].p2p_address);
      dialed.insert(j);
    }
    if (i < 4) {
      // A validator dials every other node and admits the observer.
      CHECK(dialed == range_without(5, i));
      CHECK(c.observer_keys == std::vector<std::string>{(*nodes)[4].key_hex});
    } else {
      // The observer dials the validators.
      CHECK(dialed == range_without(4, 4));
      CHECK(c.observer_keys.empty());
    }
  }
  CHECK(fs::exists(o.out + "/" + std::string(kTestnetManifestFile)));

  // Every keystore has its own password.
  std::set<std::string> passwords;
  for (const TestnetNode& n : *nodes) {
    auto pw = read_small_file(n.home + "/password", 4096);
    REQUIRE(pw.is_ok());
    CHECK(pw->size() == 65);  // 64 hex + newline
    passwords.insert(*pw);
  }
  CHECK(passwords.size() == 5);

  SUBCASE("a second run refuses to overwrite") {
    auto again = init_testnet(o);
    REQUIRE(!again.is_ok());
    CHECK(again.status().code() == "node.home_exists");
    auto h = load_home((*nodes)[0].home);
    REQUIRE(h.is_ok());
    CHECK(to_hex(h->key.public_key()) == (*nodes)[0].key_hex);
  }
}

TEST_CASE("testnet: --hosts puts one node per host on the same ports, listening everywhere") {
  TempDir tmp;
  TestnetOptions o;
  o.out = tmp.path + "/net";
  o.validators = 3;
  o.hosts = {"10.1.0.1", "val-b.example.gov", "fd00::3"};
  auto nodes = init_testnet(o);
  REQUIRE(nodes.is_ok());
  REQUIRE(nodes->size() == 3);
  CHECK((*nodes)[0].p2p_address == "10.1.0.1:26656");
  CHECK((*nodes)[1].api_url == "http://val-b.example.gov:8080");
  CHECK((*nodes)[2].p2p_address == "[fd00::3]:26656");
  for (size_t i = 0; i < 3; ++i) {
    auto h = load_home((*nodes)[i].home);
    REQUIRE(h.is_ok());
    CHECK(h->config.p2p_listen_host == "0.0.0.0");
    CHECK(h->config.p2p_listen_port == 26656);
    CHECK(h->config.api.listen_host == "0.0.0.0");
    CHECK(h->config.api.listen_port == 8080);
    REQUIRE(h->config.peers.size() == 2);
    for (const PeerAddress& p : h->config.peers) {
      CHECK(p.port == 26656);
      CHECK(p.key_hex != (*nodes)[i].key_hex);
    }
  }
  auto h0 = load_home((*nodes)[0].home);
  REQUIRE(h0.is_ok());
  CHECK(h0->config.peers[1].host == "fd00::3");
}

TEST_CASE("testnet: bad options are refused before anything is written") {
  TempDir tmp;
  auto refused = [&](TestnetOptions o, const char* code) {
    o.out = tmp.path + "/net";
    auto r = init_testnet(o);
    REQUIRE(!r.is_ok());
    CHECK(r.status().code() == code);
    CHECK(!fs::exists(tmp.path + "/net/node0"));
  };
  TestnetOptions o;
  o.validators = 0;
  refused(o, "config.bad_value");
  o.validators = kTestnetNodesMax + 1;
  refused(o, "config.bad_value");
  o.validators = 2;
  o.hosts = {"a"};
  refused(o, "config.bad_value");  // one host for two nodes
  o.hosts = {"a", "a"};
  refused(o, "config.bad_value");  // same host twice: the ports would collide
  o.hosts = {"a", "b c"};
  refused(o, "config.bad_value");
  o.hosts = {};
  o.chain_id = "Not.Valid";
  refused(o, "config.bad_value");
  o.chain_id = "imi-x";
  o.api_base_port = 65535;
  refused(o, "config.bad_value");  // 65535 + 1 does not fit
  o.api_base_port = 26657;
  refused(o, "config.bad_value");  // overlaps the P2P ports 26656..26657

  // An existing node home anywhere in the range: nothing is written.
  fs::create_directories(tmp.path + "/net/node1");
  o.api_base_port = 8080;
  o.out = tmp.path + "/net";
  auto r = init_testnet(o);
  REQUIRE(!r.is_ok());
  CHECK(r.status().code() == "node.home_exists");
  CHECK(!fs::exists(tmp.path + "/net/node0"));
}

TEST_CASE("validators_genesis_text: parses as a genesis naming the keys as validators") {
  std::vector<identity::PublicKey> keys;
  for (int i = 0; i < 7; ++i) keys.push_back(identity::KeyPair::generate().public_key());
  auto g = ledger::Genesis::parse(validators_genesis_text("imi-seven", keys, 1767225600000));
  REQUIRE(g.is_ok());
  CHECK(g->chain() == "imi-seven");
  CHECK(g->time_ms() == 1767225600000);
  REQUIRE(g->validators().n() == 7);
  CHECK(g->validators().q() == 5);
  for (const auto& k : keys) {
    const auto* v = g->validators().find(identity::did_from_key(k));
    REQUIRE(v != nullptr);
    CHECK(v->key == k);
  }
}

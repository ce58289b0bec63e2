// Credential figures (issue 6):
//   1. presentation verifications per second on one core, with the chain's
//      facts from memory and from committed state (ChainResolver);
//   2. a status list of 131,072 entries: bytes on chain per update (the
//      transaction and the state it rewrites: the touched 1 KiB chunks) and
//      time per update (executing, and a synced commit of, a one-tx block),
//      plus what serving the compressed token costs;
//   3. bytes a resident's registration and one credential's issuance put on
//      chain.
// Usage: credential_bench [dir]   (default: a fresh directory under /tmp)
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "apps/endorse.h"
#include "apps/governance.h"
#include "apps/identity_registry.h"
#include "apps/identity_registry_resolver.h"
#include "apps/identity_registry_status.h"
#include "identity/sdjwt.h"
#include "identity/sdjwt_verify.h"
#include "ledger/executor.h"
#include "ledger/json.h"

using namespace imi;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kChain = "imi-bench";
constexpr int64_t kNow = 1767225600;
constexpr uint64_t kListSize = 131072;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

identity::KeyPair key(uint32_t n) {
  identity::Seed s{};
  s[0] = n & 0xff;
  s[1] = (n >> 8) & 0xff;
  s[2] = 0xc7;
  return identity::KeyPair::from_seed(s);
}

template <typename T>
T must(Result<T> r, const char* what) {
  if (!r.is_ok()) {
    std::fprintf(stderr, "%s: %s\n", what, r.status().to_string().c_str());
    std::exit(1);
  }
  return std::move(r).value();
}

class MapResolver : public identity::sdjwt::Resolver {
 public:
  std::map<std::string, identity::sdjwt::DidKeys, std::less<>> dids;
  Result<identity::sdjwt::DidKeys> did_keys(std::string_view did) const override {
    auto it = dids.find(did);
    return it == dids.end() ? identity::sdjwt::DidKeys{} : it->second;
  }
  Result<std::optional<identity::CredentialStatus>> credential_status(
      const identity::sdjwt::StatusRef&) const override {
    return std::optional<identity::CredentialStatus>(identity::CredentialStatus::kValid);
  }
};

struct Chain {
  std::unique_ptr<ledger::Store> store;
  std::unique_ptr<ledger::LevelDbNodeStore> nodes;
  std::unique_ptr<ledger::Executor> exec;
  Hash32 root{};
  Hash32 prev{};
  uint64_t height = 0;
  std::map<std::string, uint64_t> nonces;

  ledger::Transaction tx(const identity::KeyPair& k, std::string_view app, std::string_view op,
                         const rapidjson::Value& args) {
    return must(ledger::make_transaction(k, kChain, nonces[k.did()]++, app, op, args), "tx");
  }
  ledger::Transaction tx(const identity::KeyPair& k, std::string_view app, std::string_view op,
                         std::string_view args) {
    return tx(k, app, op, must(ledger::parse_strict(args), "args"));
  }
  // Executes and commits; returns (execute ms, commit ms, executed block).
  std::tuple<double, double, ledger::ExecutedBlock> block(std::vector<ledger::Transaction> txs) {
    ledger::BlockContext ctx{kChain, height + 1, 1000 + 10 * (height + 1), key(1).did()};
    auto t0 = Clock::now();
    auto ex = must(exec->execute(root, ctx, txs), "execute");
    double exec_ms = ms_since(t0);
    for (const auto& r : ex.results) {
      if (r.code() != 0) {
        std::fprintf(stderr, "a transaction failed with code %lld\n",
                     static_cast<long long>(r.code()));
        std::exit(1);
      }
    }
    ledger::BlockHeader h;
    h.chain = kChain;
    h.height = ctx.height;
    h.prev = prev;
    h.time_ms = ctx.time_ms;
    h.proposer = ctx.proposer;
    h.results_root = ex.results_root;
    h.state_root = ex.state_root;
    h.validators =
        must(apps::validator_set_at(*exec->reader_after(ex), ctx.height + 1), "set").hash();
    auto b = ledger::Block::make(h, std::move(txs));
    ledger::CommitCertificate cert{b.header().height, 0, b.id(), {}};
    auto t1 = Clock::now();
    if (!exec->commit(*store, b, &cert, ex).is_ok()) std::exit(1);
    double commit_ms = ms_since(t1);
    root = ex.state_root;
    prev = b.id();
    ++height;
    return {exec_ms, commit_ms, std::move(ex)};
  }
};

rapidjson::Document register_args(const identity::KeyPair& subject,
                                  const identity::KeyPair& registrar) {
  auto att = must(
      ledger::parse_strict(R"({"type":"register","did":")" + subject.did() + R"(","key":")" +
                           to_hex(subject.public_key()) + R"(","guardians":[")" +
                           std::string(64, 'e') + R"("],"registrar":")" + registrar.did() +
                           R"(","registrar_key":")" + to_hex(registrar.public_key()) + R"("})"),
      "attestation");
  auto sig = registrar.sign(identity::Domain::kAttestation, ledger::jcs(att));
  att.AddMember("sig", rapidjson::Value(to_hex(sig).c_str(), att.GetAllocator()),
                att.GetAllocator());
  rapidjson::Document args(rapidjson::kObjectType);
  args.AddMember("attestation", rapidjson::Value(att, args.GetAllocator()), args.GetAllocator());
  return args;
}

size_t write_bytes(const ledger::ExecutedBlock& ex) {
  size_t n = 0;
  for (const auto& w : ex.writes)
    n += w.app.size() + 1 + w.key.size() + (w.value ? w.value->size() : 0);
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path dir = argc > 1 ? std::filesystem::path(argv[1])
                                       : std::filesystem::temp_directory_path() /
                                             ("imi-credential-bench-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  auto registrar = key(10), issuer = key(11), resident = key(12);

  Chain c;
  c.store = must(ledger::Store::open(dir.string()), "store");
  c.nodes = std::make_unique<ledger::LevelDbNodeStore>(*c.store->db());
  std::vector<std::unique_ptr<ledger::App>> apps;
  apps.push_back(std::make_unique<apps::GovernanceApp>());
  apps.push_back(std::make_unique<apps::IdentityRegistryApp>());
  apps.push_back(std::make_unique<apps::EndorseApp>());
  c.exec = must(ledger::Executor::make(*c.nodes, std::move(apps)), "executor");
  std::string genesis = R"({"v":1,"chain":")" + std::string(kChain) +
                        R"(","time":1000,"validators":[{"id":")" + key(1).did() + R"(","key":")" +
                        to_hex(key(1).public_key()) +
                        R"("}],"roles":[{"role":"registrar","did":")" + registrar.did() +
                        R"("},{"role":"credential_issuer","did":")" + issuer.did() + R"("}]})";
  auto g = must(ledger::Genesis::parse(genesis), "genesis");
  auto gb = must(c.exec->make_genesis(g), "genesis block");
  if (!c.exec->commit(*c.store, gb.first, nullptr, gb.second).is_ok()) return 1;
  c.root = gb.second.state_root;
  c.prev = gb.first.id();
  c.block({c.tx(registrar, "identity", "register", register_args(registrar, registrar)),
           c.tx(issuer, "identity", "register", register_args(issuer, registrar))});

  // 3a. A resident's registration.
  auto reg_tx = c.tx(resident, "identity", "register", register_args(resident, registrar));
  const size_t reg_tx_bytes = reg_tx.canonical().size();
  auto [reg_exec, reg_commit, reg_ex] = c.block({reg_tx});
  std::printf(
      "registration: transaction %zu B (JCS, one guardian), state writes %zu B "
      "(did record + account)\n",
      reg_tx_bytes, write_bytes(reg_ex));

  // 2. Status list of 131,072 entries.
  c.block({c.tx(issuer, "identity", "status_list_create",
                R"({"list":"ids","size":)" + std::to_string(kListSize) + "}")});
  std::mt19937_64 rng(42);
  std::set<uint64_t> used;  // each entry changes once, so no update hits a revoked one
  for (size_t per_tx : {size_t{1}, size_t{256}}) {
    std::vector<double> exec_ms, commit_ms;
    size_t tx_bytes = 0, value_bytes = 0;
    for (int round = 0; round < 20; ++round) {
      std::string updates;
      for (size_t i = 0; i < per_tx; ++i) {
        uint64_t idx = rng() % kListSize;
        while (!used.insert(idx).second) idx = rng() % kListSize;
        updates += (i ? "," : "") + std::string("[") + std::to_string(idx) + "," +
                   std::to_string(1 + rng() % 2) + "]";
      }
      auto t = c.tx(issuer, "identity", "status_list_update",
                    R"({"list":"ids","updates":[)" + updates + "]}");
      tx_bytes = t.canonical().size();
      auto [e, m, ex] = c.block({t});
      exec_ms.push_back(e);
      commit_ms.push_back(m);
      value_bytes = write_bytes(ex);
    }
    std::printf(
        "status list %llu entries, %zu update(s)/tx: tx %zu B, state writes %zu B "
        "(touched 1 KiB chunks + list record + account), execute %.2f ms, synced commit %.2f ms "
        "(median of 20)\n",
        static_cast<unsigned long long>(kListSize), per_tx, tx_bytes, value_bytes, median(exec_ms),
        median(commit_ms));
  }
  {
    auto list = must(identity::StatusList::make(kListSize), "list");
    for (uint64_t revoked : {uint64_t{0}, uint64_t{1310}, uint64_t{13107}}) {
      auto l = list;
      std::mt19937_64 r(7);
      for (uint64_t i = 0; i < revoked; ++i)
        (void)l.set(r() % kListSize, identity::CredentialStatus::kInvalid);
      std::vector<double> times;
      std::string lst;
      for (int i = 0; i < 20; ++i) {
        auto t0 = Clock::now();
        lst = l.encode();
        times.push_back(ms_since(t0));
      }
      std::printf("serving a token of %llu entries with %llu set: lst %zu B, compressing %.2f ms\n",
                  static_cast<unsigned long long>(kListSize),
                  static_cast<unsigned long long>(revoked), lst.size(), median(times));
    }
  }

  // 3b and 1. One credential: issuance writes nothing on chain (its status
  // entry is already 0 = valid); presentations verified per second.
  identity::sdjwt::IssueRequest req;
  req.vct = "imi:resident";
  req.issuer = issuer.did();
  req.issuer_kid = identity::sdjwt::make_kid(issuer.did(), 1);
  req.iat = kNow - 60;
  req.exp = kNow + 86400;
  req.holder_kid = identity::sdjwt::make_kid(resident.did(), 1);
  req.status =
      identity::sdjwt::StatusRef{apps::status_list_uri("identity", issuer.did(), "ids"), 4242};
  req.disclosable = {identity::sdjwt::string_claim("name", "Li Wei"),
                     identity::sdjwt::string_claim("birth_date", "1990-05-17"),
                     identity::sdjwt::string_claim("address", "12 Garden Road")};
  auto preds = must(identity::sdjwt::predicate_claims("1990-05-17", kNow, "Xinhua"), "preds");
  req.disclosable.insert(req.disclosable.end(), preds.begin(), preds.end());
  auto cred = must(identity::sdjwt::issue(issuer, req), "issue");
  auto pres =
      must(identity::sdjwt::present(
               cred, resident, {{"age_over_18", "resident_of"}, "did:imi:verifier", "n", kNow}),
           "present");
  std::printf("issuance: 0 B on chain; credential %zu B off chain, presentation %zu B\n",
              cred.size(), pres.size());

  MapResolver mem;
  mem.dids[issuer.did()] = {identity::sdjwt::DidStatus::kActive, {{1, issuer.public_key()}}};
  mem.dids[resident.did()] = {identity::sdjwt::DidStatus::kActive, {{1, resident.public_key()}}};
  auto state = c.exec->reader_at(c.root);
  apps::ChainResolver chain(*state);
  for (auto [name, resolver] :
       {std::pair<const char*, const identity::sdjwt::Resolver*>{"memory", &mem},
        {"committed state", &chain}}) {
    int n = 0;
    auto t0 = Clock::now();
    while (ms_since(t0) < 2000) {
      auto v =
          must(identity::sdjwt::verify(pres, {"did:imi:verifier", "n", kNow}, *resolver), "verify");
      if (!v.ok) {
        std::fprintf(stderr, "verification failed: %s\n", v.to_json().c_str());
        return 1;
      }
      ++n;
    }
    std::printf("presentation verifications, one core, resolver from %s: %.0f /s\n", name,
                n / (ms_since(t0) / 1000.0));
  }
  {
    // The machine is shared: a bare Ed25519 verification rate from the same
    // run puts the figures above in proportion (a presentation needs two).
    auto sig = issuer.sign_raw(as_bytes(pres));
    int n = 0;
    auto t0 = Clock::now();
    while (ms_since(t0) < 1000) n += identity::verify_raw(issuer.public_key(), as_bytes(pres), sig);
    std::printf("for scale, Ed25519 verifications of %zu B, same run: %.0f /s\n", pres.size(),
                n / (ms_since(t0) / 1000.0));
  }
  state.reset();
  c.exec.reset();
  c.nodes.reset();
  c.store.reset();
  std::filesystem::remove_all(dir);
  return 0;
}

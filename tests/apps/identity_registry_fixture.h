// A one-node chain with the governance, anchor, identity, endorse, answers
// and consent apps, public actors holding their roles from genesis, and
// helpers that build identity transactions. Used by identity_registry_test,
// endorse_test and privacy_test. Like tests/apps/chain_fixture.h, it keeps
// its store in a temporary folder and can list every committed block.
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "apps/anchor.h"
#include "apps/answers.h"
#include "apps/consent.h"
#include "apps/endorse.h"
#include "apps/governance.h"
#include "apps/identity_registry.h"
#include "apps/identity_registry_resolver.h"
#include "apps/identity_registry_status.h"
#include "ledger/executor.h"
#include "ledger/json.h"

namespace imi::apps::idtest {

inline constexpr const char* kChain = "imi-id-test";

inline identity::KeyPair key(uint8_t n) {
  identity::Seed s{};
  s[0] = n;
  s[1] = 0x77;
  return identity::KeyPair::from_seed(s);
}

inline rapidjson::Document json(std::string_view text) {
  auto d = ledger::parse_strict(text);
  REQUIRE_MESSAGE(d.is_ok(), d.status().to_string());
  return std::move(d).value();
}

// Public actors, each with a role from genesis.
inline identity::KeyPair validator() { return key(1); }
inline identity::KeyPair registrar1() { return key(70); }
inline identity::KeyPair registrar2() { return key(71); }
inline identity::KeyPair issuer() { return key(72); }      // credential_issuer
inline identity::KeyPair party_org() { return key(73); }   // party_organisation
inline identity::KeyPair credit() { return key(74); }      // credit_issuer
inline identity::KeyPair department() { return key(75); }  // department
inline identity::KeyPair authority() { return key(76); }   // authority
inline identity::KeyPair auditor() { return key(77); }     // auditor

inline std::string genesis_json() {
  auto v = validator();
  std::string roles;
  auto add = [&](const char* role, const identity::KeyPair& k) {
    if (!roles.empty()) roles += ",";
    roles += R"({"role":")" + std::string(role) + R"(","did":")" + k.did() + R"("})";
  };
  add("registrar", registrar1());
  add("registrar", registrar2());
  add("credential_issuer", issuer());
  add("party_organisation", party_org());
  add("credit_issuer", credit());
  add("department", department());
  add("authority", authority());
  add("auditor", auditor());
  return R"({"v":1,"chain":")" + std::string(kChain) + R"(","time":1000,"validators":[{"id":")" +
         v.did() + R"(","key":")" + to_hex(v.public_key()) + R"("}],"roles":[)" + roles + "]}";
}

class IdChain {
 public:
  IdChain() {
    static int counter = 0;
    dir_ = std::filesystem::temp_directory_path() /
           ("imi-id-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    store_ = std::move(ledger::Store::open(dir_.string()).value());
    nodes_ = std::make_unique<ledger::LevelDbNodeStore>(*store_->db());
    std::vector<std::unique_ptr<ledger::App>> apps;
    apps.push_back(std::make_unique<GovernanceApp>());
    apps.push_back(std::make_unique<AnchorApp>());
    apps.push_back(std::make_unique<IdentityRegistryApp>());
    apps.push_back(std::make_unique<EndorseApp>());
    apps.push_back(std::make_unique<AnswersApp>());
    apps.push_back(std::make_unique<ConsentApp>());
    exec_ = std::move(ledger::Executor::make(*nodes_, std::move(apps)).value());
    auto g = ledger::Genesis::parse(genesis_json());
    REQUIRE_MESSAGE(g.is_ok(), g.status().to_string());
    auto gb = exec_->make_genesis(*g);
    REQUIRE(gb.is_ok());
    REQUIRE(exec_->commit(*store_, gb->first, nullptr, gb->second).is_ok());
    root_ = gb->second.state_root;
    prev_ = gb->first.id();
  }
  ~IdChain() {
    exec_.reset();
    nodes_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  uint64_t height() const { return height_; }
  ledger::Store& store() { return *store_; }
  std::unique_ptr<ledger::StateReader> state() { return exec_->reader_at(root_); }
  const std::filesystem::path& dir() const { return dir_; }

  // A transaction from did(k) (or `from`, for a rotated or recovered key).
  ledger::Transaction tx(const identity::KeyPair& k, std::string_view app, std::string_view op,
                         const rapidjson::Value& args, std::string from = "") {
    if (from.empty()) from = k.did();
    uint64_t& n = nonces_[from];
    auto t = ledger::make_transaction_from(k, from, kChain, n++, app, op, args);
    REQUIRE_MESSAGE(t.is_ok(), t.status().to_string());
    return std::move(t).value();
  }
  ledger::Transaction tx(const identity::KeyPair& k, std::string_view app, std::string_view op,
                         std::string_view args, std::string from = "") {
    return tx(k, app, op, json(args), std::move(from));
  }

  // Executes and commits the next block (time = 1000 + 10 * height).
  ledger::ExecutedBlock block(std::vector<ledger::Transaction> txs) {
    ledger::BlockContext ctx{kChain, height_ + 1, 1000 + 10 * (height_ + 1), validator().did()};
    auto ex = exec_->execute(root_, ctx, txs);
    REQUIRE_MESSAGE(ex.is_ok(), ex.status().to_string());
    ledger::BlockHeader h;
    h.chain = kChain;
    h.height = ctx.height;
    h.prev = prev_;
    h.time_ms = ctx.time_ms;
    h.proposer = ctx.proposer;
    h.results_root = ex->results_root;
    h.state_root = ex->state_root;
    auto next = validator_set_at(*exec_->reader_after(*ex), ctx.height + 1);
    REQUIRE(next.is_ok());
    h.validators = next->hash();
    auto b = ledger::Block::make(h, std::move(txs));
    ledger::CommitCertificate cert{b.header().height, 0, b.id(), {}};
    REQUIRE(exec_->commit(*store_, b, &cert, *ex).is_ok());
    root_ = ex->state_root;
    prev_ = b.id();
    ++height_;
    return std::move(ex).value();
  }

  // Runs one transaction in its own block and returns its result code.
  int64_t run(ledger::Transaction t) { return block({std::move(t)}).results[0].code(); }

  // Whether the executor would accept a transaction from `from` signed by k
  // now (the sender rule): executes it without committing.
  bool sender_accepted(const identity::KeyPair& k, std::string from) {
    uint64_t n = nonces_[from];
    auto t = ledger::make_transaction_from(k, from, kChain, n, "anchor", "anchor",
                                           json(R"({"hash":")" + std::string(64, 'a') + "\"}"))
                 .value();
    ledger::BlockContext ctx{kChain, height_ + 1, 1000 + 10 * (height_ + 1), validator().did()};
    std::vector<ledger::Transaction> txs{t};
    return exec_->execute(root_, ctx, txs).is_ok();
  }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<ledger::Store> store_;
  std::unique_ptr<ledger::LevelDbNodeStore> nodes_;
  std::unique_ptr<ledger::Executor> exec_;
  Hash32 root_{};
  Hash32 prev_{};
  uint64_t height_ = 0;
  std::map<std::string, uint64_t> nonces_;
};

// The attestation a registrar signs for `subject` naming `guardians`
// (commitments), wrapped as register args.
inline rapidjson::Document register_args(const identity::KeyPair& subject,
                                         const identity::KeyPair& registrar,
                                         std::vector<Hash32> guardians = {}) {
  std::string g;
  for (const auto& h : guardians) g += (g.empty() ? "\"" : ",\"") + to_hex(h) + "\"";
  auto att =
      json(R"({"type":"register","did":")" + subject.did() + R"(","key":")" +
           to_hex(subject.public_key()) + R"(","guardians":[)" + g + R"(],"registrar":")" +
           registrar.did() + R"(","registrar_key":")" + to_hex(registrar.public_key()) + R"("})");
  auto sig = registrar.sign(identity::Domain::kAttestation, ledger::jcs(att));
  att.AddMember("sig", rapidjson::Value(to_hex(sig).c_str(), att.GetAllocator()),
                att.GetAllocator());
  rapidjson::Document args(rapidjson::kObjectType);
  args.AddMember("attestation", rapidjson::Value(att, args.GetAllocator()), args.GetAllocator());
  return args;
}

// A recovery approval signed by `approver` for `did` to get `new_key`.
inline rapidjson::Document approval(const identity::KeyPair& approver, const std::string& did,
                                    const identity::PublicKey& new_key, uint64_t recovery,
                                    const Hash32* guardian_salt = nullptr) {
  std::string salt = guardian_salt ? R"(,"guardian_salt":")" + to_hex(*guardian_salt) + "\"" : "";
  auto p = json(R"({"type":"recover","did":")" + did + R"(","key":")" + to_hex(new_key) +
                R"(","recovery":)" + std::to_string(recovery) + R"(,"by":")" + approver.did() +
                R"(","signer":")" + to_hex(approver.public_key()) + "\"" + salt + "}");
  auto sig = approver.sign(identity::Domain::kAttestation, ledger::jcs(p));
  p.AddMember("sig", rapidjson::Value(to_hex(sig).c_str(), p.GetAllocator()), p.GetAllocator());
  return p;
}

inline rapidjson::Document recover_args(const std::string& did, const identity::PublicKey& key,
                                        std::vector<rapidjson::Document> approvals) {
  auto args = json(R"({"did":")" + did + R"(","key":")" + to_hex(key) + R"("})");
  if (!approvals.empty()) {
    rapidjson::Value arr(rapidjson::kArrayType);
    for (auto& a : approvals)
      arr.PushBack(rapidjson::Value(a, args.GetAllocator()), args.GetAllocator());
    args.AddMember("approvals", arr, args.GetAllocator());
  }
  return args;
}

// Registers every public actor's DID (registrar1 attests each).
inline void register_actors(IdChain& c) {
  std::vector<ledger::Transaction> txs;
  for (auto k : {registrar1(), registrar2(), issuer(), party_org(), credit(), department(),
                 authority(), auditor()}) {
    txs.push_back(c.tx(k, "identity", "register", register_args(k, registrar1())));
  }
  auto ex = c.block(std::move(txs));
  for (const auto& r : ex.results) REQUIRE(r.code() == 0);
}

}  // namespace imi::apps::idtest

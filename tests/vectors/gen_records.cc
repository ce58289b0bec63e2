// blocks.json and certificates.json for gen_vectors (see gen_vectors.cc).
#include <algorithm>

#include "base/sha256.h"
#include "ledger/block.h"
#include "ledger/certificate.h"
#include "ledger/merkle.h"
#include "ledger/validators.h"
#include "tests/vectors/gen_util.h"

namespace imi::vectors {
namespace {

constexpr uint64_t kGenesisTimeMs = 1767225600000;  // 2026-01-01T00:00:00Z

ValidatorSet make_set(const std::vector<int>& seeds) {
  std::vector<Validator> vs;
  for (int i : seeds) {
    KeyPair k = KeyPair::from_seed(seed(i));
    vs.push_back(Validator{k.did(), k.public_key()});
  }
  auto r = ValidatorSet::make(vs);
  if (!r) Out::fail("validator set: " + r.status().to_string());
  return std::move(r).value();
}

Value set_json(Out& o, const std::vector<Validator>& vs) {
  Value arr(rapidjson::kArrayType);
  for (const Validator& v : vs) {
    Value e(rapidjson::kObjectType);
    e.AddMember("id", o.str(v.id), o.a());
    e.AddMember("key", o.str(to_hex(v.key)), o.a());
    arr.PushBack(e, o.a());
  }
  return arr;
}

Value string_array(Out& o, const std::vector<std::string>& xs) {
  Value arr(rapidjson::kArrayType);
  for (const auto& x : xs) arr.PushBack(o.str(x), o.a());
  return arr;
}

}  // namespace

void gen_blocks(const std::string& dir) {
  Out o;
  o.doc.SetObject();
  const std::string chain(kChain);
  o.doc.AddMember("description", o.str(kBlocksDescription), o.a());
  o.doc.AddMember("chain", o.str(chain), o.a());
  o.doc.AddMember("limits", limits_json(o), o.a());

  // Validator sets, given in an order other than sorted.
  Value sets(rapidjson::kArrayType);
  for (const auto& [name, seeds] : std::vector<std::pair<std::string, std::vector<int>>>{
           {"one validator", {20}},
           {"four validators", {23, 21, 22, 20}},
           {"five validators", {24, 20, 23, 22, 21}},
           {"seven validators", {26, 25, 24, 23, 22, 21, 20}}}) {
    ValidatorSet set = make_set(seeds);
    std::vector<Validator> input;
    for (int i : seeds) {
      KeyPair k = KeyPair::from_seed(seed(i));
      input.push_back(Validator{k.did(), k.public_key()});
    }
    Value c(rapidjson::kObjectType);
    c.AddMember("name", o.str(name), o.a());
    c.AddMember("input", set_json(o, input), o.a());
    c.AddMember("canonical", o.str(set.canonical()), o.a());
    c.AddMember("hash", o.str(to_hex(set.hash())), o.a());
    c.AddMember("n", static_cast<uint64_t>(set.n()), o.a());
    c.AddMember("f", static_cast<uint64_t>(set.f()), o.a());
    c.AddMember("q", static_cast<uint64_t>(set.q()), o.a());
    std::vector<std::string> primaries;
    for (uint64_t view = 0; view <= set.n(); ++view) primaries.push_back(set.primary(view).id);
    c.AddMember("primary", string_array(o, primaries), o.a());
    sets.PushBack(c, o.a());
  }
  o.doc.AddMember("validator_sets", sets, o.a());

  // Results.
  Value results(rapidjson::kArrayType);
  auto add_results = [&](std::string_view name, const std::vector<std::string>& records) {
    std::vector<TxResult> rs;
    std::vector<std::string> leaves;
    Value arr(rapidjson::kArrayType);
    for (const auto& text : records) {
      auto r = TxResult::decode(text, "a message that is never hashed");
      if (!r) Out::fail("result: " + r.status().to_string());
      leaves.push_back(r->canonical());
      arr.PushBack(o.json(text), o.a());
      rs.push_back(std::move(r).value());
    }
    Value c(rapidjson::kObjectType);
    c.AddMember("name", o.str(name), o.a());
    c.AddMember("results", arr, o.a());
    c.AddMember("leaves", string_array(o, leaves), o.a());
    c.AddMember("root", o.str(to_hex(compute_results_root(rs))), o.a());
    results.PushBack(c, o.a());
  };
  add_results("no results", {});
  add_results("one success", {R"({"events":[],"code":0})"});
  add_results(
      "three results with events",
      {R"({"code":0,"events":[{"type":"anchored","hash":")" +
           to_hex(sha256(std::string_view("doc"))) + R"("}]})",
       R"({"code":3,"events":[]})", R"({"code":-1,"events":[{"z":1,"a":"市"},{"type":"x"}]})"});
  // A block's fired deadlines follow its transactions' results (ledger/block.h).
  add_results(
      "a transaction's result, then two fired deadlines' results",
      {R"({"code":0,"events":[]})",
       R"({"deadline":{"time":1767225700000,"key":"loan/0123456789abcdef0123456789abcdef","app":"share"},)"
       R"("code":0,"events":[{"type":"loan_overdue","loan":"0123456789abcdef0123456789abcdef"}]})",
       R"({"code":6,"deadline":{"app":"share","key":"urgent/ff","time":1767225700001},"events":[]})"});
  o.doc.AddMember("results", results, o.a());

  // Headers and blocks.
  ValidatorSet set = make_set({23, 21, 22, 20});
  KeyPair user = KeyPair::from_seed(seed(0));
  KeyPair other = KeyPair::from_seed(seed(1));
  BlockHeader genesis;
  genesis.chain = chain;
  genesis.height = 0;
  genesis.time_ms = kGenesisTimeMs;
  genesis.proposer = set.primary(0).id;
  genesis.results_root = compute_results_root({});
  genesis.state_root = sha256(std::string_view("genesis state"));
  genesis.validators = set.hash();
  Block genesis_block = Block::make(genesis, {});

  std::vector<Transaction> txs;
  for (uint64_t n = 0; n < 3; ++n)
    txs.push_back(make_tx(o, user, chain, n, "anchor", "record",
                          "{\"hash\":\"" + to_hex(sha256("doc " + std::to_string(n))) + "\"}"));
  BlockHeader h1 = genesis_block.header();
  h1.height = 1;
  h1.prev = genesis_block.id();
  h1.time_ms = kGenesisTimeMs + 1500;
  h1.proposer = set.primary(1).id;
  h1.results_root = compute_results_root(std::vector<TxResult>(3, TxResult::of_code(0)));
  h1.state_root = sha256(std::string_view("state after 1"));
  Block block1 = Block::make(h1, txs);
  BlockHeader h2 = block1.header();
  h2.height = 2;
  h2.prev = block1.id();
  h2.time_ms += 1000;
  Block block2 = Block::make(h2, {txs[0]});

  Value headers(rapidjson::kArrayType);
  for (const auto& [name, b] : std::vector<std::pair<std::string, const Block*>>{
           {"genesis, no transactions", &genesis_block},
           {"height 1, three transactions", &block1},
           {"height 2, one transaction", &block2}}) {
    Value c(rapidjson::kObjectType);
    c.AddMember("name", o.str(name), o.a());
    c.AddMember("header", o.json(b->header().canonical()), o.a());
    c.AddMember("canonical", o.str(b->header().canonical()), o.a());
    c.AddMember("id", o.str(to_hex(b->id())), o.a());
    headers.PushBack(c, o.a());
  }
  o.doc.AddMember("headers", headers, o.a());

  Value blocks(rapidjson::kArrayType);
  auto add_block = [&](std::string_view name, const std::string& text, std::string_view error) {
    expect_code(check_block(text), error, name);
    Value c(rapidjson::kObjectType);
    c.AddMember("name", o.str(name), o.a());
    c.AddMember("text", o.str(text), o.a());
    if (error.empty()) {
      auto b = Block::decode(text, limits());
      c.AddMember("id", o.str(to_hex(b->id())), o.a());
      std::vector<std::string> ids;
      for (const auto& tx : b->txs()) ids.push_back(tx.id_hex());
      c.AddMember("tx_ids", string_array(o, ids), o.a());
    } else {
      c.AddMember("error", o.str(error), o.a());
    }
    blocks.PushBack(c, o.a());
  };
  // A block of `txs` whose header is h with its own tx_count and txs_root.
  auto block_text = [&](const BlockHeader& h, std::vector<Transaction> ts) {
    return Block::make(h, std::move(ts)).canonical();
  };
  // Edits the header of a valid block's text.
  auto edit_header = [&](const Block& b, auto&& edit) {
    rapidjson::Document d = parse_doc(b.canonical());
    edit(d["header"], d.GetAllocator());
    return jcs(d);
  };
  auto set_member = [](Value& obj, const char* name, Value v, auto& al) {
    obj[name] = v;
    (void)al;
  };
  add_block("genesis", genesis_block.canonical(), "");
  add_block("height 1 with three transactions", block1.canonical(), "");
  add_block("height 2 with one transaction", block2.canonical(), "");
  add_block(
      "tx_count one too many",
      edit_header(block1, [&](Value& h, auto& al) { set_member(h, "tx_count", Value(4), al); }),
      "block.tx_count_mismatch");
  {
    std::vector<Transaction> swapped = {txs[1], txs[0], txs[2]};
    BlockHeader h = block1.header();
    std::string text = block_text(h, swapped);
    rapidjson::Document d = parse_doc(text);
    d["header"]["txs_root"].SetString(to_hex(block1.header().txs_root).c_str(), d.GetAllocator());
    add_block("transactions reordered under the original txs_root", jcs(d),
              "block.txs_root_mismatch");
  }
  {
    BlockHeader h = h1;
    h.chain = "imi-other";
    add_block("header of another chain", block_text(h, {}), "block.wrong_chain");
  }
  add_block("a transaction of another chain",
            block_text(h1, {txs[0], make_tx(o, user, "imi-other", 3, "anchor", "record", "{}")}),
            "tx.wrong_chain");
  {
    rapidjson::Document d = parse_doc(txs[1].canonical());
    std::string bad = resign(d, other);  // signed by a key other than "key"
    rapidjson::Document bd = parse_doc(block1.canonical());
    rapidjson::Document tx_doc = parse_doc(bad);
    bd["txs"][1].CopyFrom(tx_doc, bd.GetAllocator());
    std::vector<Transaction> fixed = {txs[0], must_tx(Transaction::decode(bad, limits())), txs[2]};
    bd["header"]["txs_root"].SetString(to_hex(compute_txs_root(fixed)).c_str(), bd.GetAllocator());
    add_block("second transaction with a bad signature", jcs(bd), "tx.bad_signature");
  }
  {
    std::vector<Transaction> five;
    for (uint64_t n = 0; n < 5; ++n)
      five.push_back(make_tx(o, user, chain, n, "anchor", "ping", "{}"));
    add_block("five transactions, more than block_txs_max", block_text(h1, five),
              "block.too_many_txs");
    std::vector<Transaction> big;
    std::string filler(300, 'x');
    for (uint64_t n = 0; n < 4; ++n)
      big.push_back(make_tx(o, user, chain, n, "anchor", "record",
                            R"({"a":")" + filler + R"(","b":")" + filler + R"("})"));
    add_block("four large transactions, more than block_bytes_max", block_text(h1, big),
              "block.too_large");
  }
  add_block("genesis with a non-zero prev",
            edit_header(
                genesis_block,
                [&](Value& h, auto& al) { h["prev"].SetString(to_hex(block1.id()).c_str(), al); }),
            "block.bad_prev");
  add_block(
      "height 1 with a zero prev",
      edit_header(block1, [&](Value& h,
                              auto& al) { h["prev"].SetString(std::string(64, '0').c_str(), al); }),
      "block.bad_prev");
  add_block(
      "proposer is not a did:imi",
      edit_header(block1, [&](Value& h, auto& al) { h["proposer"].SetString("validator-1", al); }),
      "block.bad_proposer");
  add_block("uppercase hex state_root",
            edit_header(block1,
                        [&](Value& h, auto& al) {
                          std::string u = to_hex(h1.state_root);
                          std::transform(u.begin(), u.end(), u.begin(), ::toupper);
                          h["state_root"].SetString(u.c_str(), al);
                        }),
            "block.bad_state_root");
  add_block("header without validators",
            edit_header(block1, [&](Value& h, auto&) { h.RemoveMember("validators"); }),
            "block.missing_field");
  add_block("header with a view member",
            edit_header(block1, [&](Value& h, auto& al) { h.AddMember("view", 0, al); }),
            "block.unknown_field");
  add_block("header version 2",
            edit_header(block1, [&](Value& h, auto& al) { set_member(h, "v", Value(2), al); }),
            "block.bad_version");
  add_block("negative time",
            edit_header(block1, [&](Value& h, auto& al) { set_member(h, "time", Value(-1), al); }),
            "block.bad_time");
  add_block("float height", replace_once(block1.canonical(), "\"height\":1", "\"height\":1.0"),
            "json.float");
  add_block("txs is an object",
            replace_once(block1.canonical(), "\"txs\":[", "\"txs\":{\"a\":[") + "}",
            "block.bad_txs");
  o.doc.AddMember("blocks", blocks, o.a());
  write(dir + "/blocks.json", o.doc);
}

void gen_certificates(const std::string& dir) {
  Out o;
  o.doc.SetObject();
  const std::string chain(kChain);
  o.doc.AddMember("description", o.str(kCertificatesDescription), o.a());
  o.doc.AddMember("chain", o.str(chain), o.a());
  const std::vector<int> seed_ids = {30, 31, 32, 33};
  std::vector<KeyPair> keys;
  std::vector<std::string> seeds;
  for (int i : seed_ids) {
    keys.push_back(KeyPair::from_seed(seed(i)));
    seeds.push_back(to_hex(seed(i)));
  }
  // Validators sorted by DID, so keys[k] signs as the k-th member.
  std::sort(keys.begin(), keys.end(),
            [](const KeyPair& a, const KeyPair& b) { return a.did() < b.did(); });
  ValidatorSet set = make_set(seed_ids);
  KeyPair outsider = KeyPair::from_seed(seed(34));
  const uint64_t height = 7;
  const Hash32 block = sha256(std::string_view("block at height 7"));
  o.doc.AddMember("seeds", string_array(o, seeds), o.a());
  o.doc.AddMember("validators", set_json(o, set.validators()), o.a());
  o.doc.AddMember("q", static_cast<uint64_t>(set.q()), o.a());
  o.doc.AddMember("height", height, o.a());
  o.doc.AddMember("block", o.str(to_hex(block)), o.a());
  Value votes(rapidjson::kArrayType);
  for (uint64_t view : {0, 2}) {
    Value v(rapidjson::kObjectType);
    v.AddMember("view", view, o.a());
    v.AddMember("canonical", o.str(commit_vote_canonical(chain, height, view, block)), o.a());
    votes.PushBack(v, o.a());
  }
  o.doc.AddMember("votes", votes, o.a());

  auto vote = [&](const KeyPair& k, uint64_t view) {
    return CommitSig{k.did(), sign_commit_vote(k, chain, height, view, block)};
  };
  auto cert = [&](uint64_t view, std::vector<CommitSig> sigs) {
    CommitCertificate c;
    c.height = height;
    c.view = view;
    c.block = block;
    c.sigs = std::move(sigs);
    return c;
  };
  Value cases(rapidjson::kArrayType);
  auto add = [&](std::string_view name, const std::string& text, std::string_view error) {
    Status s;
    auto c = CommitCertificate::decode(text);
    if (!c)
      s = c.status();
    else
      s = c->validate(set, chain, height, block);
    expect_code(s, error, name);
    Value e(rapidjson::kObjectType);
    e.AddMember("name", o.str(name), o.a());
    e.AddMember("cert", o.str(text), o.a());
    if (!error.empty()) e.AddMember("error", o.str(error), o.a());
    cases.PushBack(e, o.a());
  };
  add("quorum of 3 of 4, view 0",
      cert(0, {vote(keys[0], 0), vote(keys[1], 0), vote(keys[2], 0)}).canonical(), "");
  add("all 4 of 4, view 2",
      cert(2, {vote(keys[0], 2), vote(keys[1], 2), vote(keys[2], 2), vote(keys[3], 2)}).canonical(),
      "");
  add("quorum without the first member",
      cert(0, {vote(keys[1], 0), vote(keys[2], 0), vote(keys[3], 0)}).canonical(), "");
  add("unsorted", cert(0, {vote(keys[1], 0), vote(keys[0], 0), vote(keys[2], 0)}).canonical(),
      "cert.unsorted");
  add("duplicate validator",
      cert(0, {vote(keys[0], 0), vote(keys[1], 0), vote(keys[1], 0)}).canonical(),
      "cert.duplicate");
  {
    std::vector<CommitSig> sigs = {vote(keys[0], 0), vote(keys[1], 0), vote(outsider, 0)};
    std::sort(sigs.begin(), sigs.end(),
              [](const CommitSig& a, const CommitSig& b) { return a.validator < b.validator; });
    add("a signer outside the set", cert(0, sigs).canonical(), "cert.not_member");
  }
  add("two of four, below quorum", cert(0, {vote(keys[0], 0), vote(keys[1], 0)}).canonical(),
      "cert.no_quorum");
  add("a vote signed for another view",
      cert(0, {vote(keys[0], 0), vote(keys[1], 1), vote(keys[2], 0)}).canonical(),
      "cert.bad_signature");
  {
    CommitSig prepare{keys[2].did(),
                      keys[2].sign(identity::Domain::kVote,
                                   replace_once(commit_vote_canonical(chain, height, 0, block),
                                                "\"commit\"", "\"prepare\""))};
    add("a prepare vote instead of a commit vote",
        cert(0, {vote(keys[0], 0), vote(keys[1], 0), prepare}).canonical(), "cert.bad_signature");
    CommitSig other_key{keys[2].did(), sign_commit_vote(keys[3], chain, height, 0, block)};
    add("a vote signed by another member's key",
        cert(0, {vote(keys[0], 0), vote(keys[1], 0), other_key}).canonical(), "cert.bad_signature");
  }
  {
    CommitCertificate c = cert(0, {vote(keys[0], 0), vote(keys[1], 0), vote(keys[2], 0)});
    c.block = sha256(std::string_view("another block"));
    add("certifies another block", c.canonical(), "cert.wrong_block");
    c.block = block;
    c.height = height + 1;
    add("certifies another height", c.canonical(), "cert.wrong_height");
    std::string text = cert(0, {vote(keys[0], 0), vote(keys[1], 0), vote(keys[2], 0)}).canonical();
    std::string sig = to_hex(vote(keys[0], 0).sig);
    std::string upper = sig;
    std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
    add("uppercase signature hex", replace_once(text, sig, upper), "cert.bad_sigs");
    add("missing view", replace_once(text, ",\"view\":0", ""), "cert.missing_field");
    add("negative view", replace_once(text, "\"view\":0", "\"view\":-1"), "cert.bad_view");
    add("sigs entry with an extra member",
        replace_once(text, "{\"sig\":", "{\"weight\":1,\"sig\":"), "cert.bad_sigs");
  }
  o.doc.AddMember("cases", cases, o.a());
  write(dir + "/certificates.json", o.doc);
}

}  // namespace imi::vectors

#include "node/mempool.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "identity/keys.h"
#include "ledger/json.h"

namespace imi::node {
namespace {

identity::KeyPair key(uint8_t n) {
  identity::Seed s{};
  s[0] = n;
  s[1] = 0x5a;
  return identity::KeyPair::from_seed(s);
}

ledger::Transaction tx(const identity::KeyPair& k, uint64_t nonce, std::string salt = "") {
  auto args =
      ledger::parse_strict("{\"hash\":\"" + std::string(64, 'a') + "\",\"note\":\"" + salt + "\"}");
  auto t = ledger::make_transaction(k, "test-chain", nonce, "anchor", "anchor", *args);
  REQUIRE(t);
  return *t;
}

MempoolOptions small() {
  MempoolOptions o;
  o.txs_max = 10;
  o.sender_txs_max = 4;
  o.rejected_kept_max = 3;
  return o;
}

TEST_CASE("pending heads: the next-in-line transaction per sender, oldest sender first") {
  Mempool m(small());
  auto a0 = tx(key(1), 0), a1 = tx(key(1), 1), b0 = tx(key(2), 0), c1 = tx(key(3), 1);
  REQUIRE(m.add(a0, 0));
  REQUIRE(m.add(a1, 0));
  REQUIRE(m.add(b0, 0));
  REQUIRE(m.add(c1, 0));  // nonce gap: not next in line
  auto heads = m.pending_heads(10);
  REQUIRE(heads.size() == 2);
  CHECK(heads[0] == a0.id());
  CHECK(heads[1] == b0.id());
  CHECK(m.pending_heads(1) == std::vector<Hash32>{a0.id()});
  // Taken into a block in flight: no longer a head until it commits or returns.
  auto batch = m.take_batch(10, 1 << 20);
  CHECK(m.pending_heads(10).empty());
  m.on_commit(std::vector<ledger::Transaction>{a0});
  heads = m.pending_heads(10);
  REQUIRE(heads.size() == 2);
  CHECK(std::find(heads.begin(), heads.end(), a1.id()) != heads.end());
  CHECK(std::find(heads.begin(), heads.end(), b0.id()) != heads.end());
}

TEST_CASE("the same transaction twice is a duplicate, not an error") {
  Mempool m(small());
  auto t = tx(key(1), 0);
  CHECK(*m.add(t, 0) == AddResult::kAdded);
  CHECK(*m.add(t, 0) == AddResult::kDuplicate);
  CHECK(m.size() == 1);
  CHECK(m.contains(t.id()));
  CHECK(m.get(t.id())->id() == t.id());
}

TEST_CASE("nonce rules: used, too far ahead, one transaction per nonce") {
  Mempool m(small());
  auto k = key(1);
  CHECK(m.add(tx(k, 2), 3).status().code() == "tx.nonce_used");
  CHECK(m.add(tx(k, 3 + 4), 3).status().code() == "tx.nonce_gap");
  REQUIRE(m.add(tx(k, 3), 3));
  auto other = m.add(tx(k, 3, "other"), 3);
  CHECK(other.status().code() == "tx.nonce_used");
  CHECK(other.status().message().find("pending") != std::string::npos);
}

TEST_CASE("in nonce order (the node's admission): only a sender's next nonce, so none can park") {
  Mempool m(small());  // 8 in total
  // Fresh keys cannot park nonces that never become ready (nonce 0 first).
  for (uint8_t s = 2; s < 12; ++s) {
    auto r = m.add(tx(key(s), 1), 0, NonceOrder::kNext);
    CHECK(r.status().code() == "tx.nonce_gap");
    CHECK(r.status().message().find("next nonce is 0") != std::string::npos);
  }
  CHECK(m.size() == 0);
  auto a = key(1);
  REQUIRE(m.add(tx(a, 0), 0, NonceOrder::kNext));
  CHECK(m.add(tx(a, 2), 0, NonceOrder::kNext).status().code() == "tx.nonce_gap");
  REQUIRE(m.add(tx(a, 1), 0, NonceOrder::kNext));
  REQUIRE(m.add(tx(a, 2), 0, NonceOrder::kNext));
  // In flight they still count as pending: the next is 3, also after a commit.
  auto batch = m.take_batch(10, 1 << 20);
  REQUIRE(batch.size() == 3);
  REQUIRE(m.add(tx(a, 3), 0, NonceOrder::kNext));
  (void)m.on_commit(batch);
  CHECK(m.add(tx(a, 5), 0, NonceOrder::kNext).status().code() == "tx.nonce_gap");
  REQUIRE(m.add(tx(a, 4), 0, NonceOrder::kNext));
  // A sender whose transactions all committed continues from its next nonce.
  auto b = key(20);
  REQUIRE(m.add(tx(b, 0), 0, NonceOrder::kNext));
  (void)m.on_commit(m.take_batch(10, 1 << 20));
  CHECK(m.add(tx(b, 2), 0, NonceOrder::kNext).status().code() == "tx.nonce_gap");
  REQUIRE(m.add(tx(b, 1), 0, NonceOrder::kNext));
}

TEST_CASE("a block that changes a sender's keys drops its pending transactions signed otherwise") {
  Mempool m(small());
  auto a = key(1), b = key(2);
  REQUIRE(m.add(tx(a, 0), 0));
  REQUIRE(m.add(tx(a, 1), 0));
  REQUIRE(m.add(tx(b, 0), 0));
  const Rejection why{"tx.key_not_current", "rotated"};
  // Still a current key: nothing goes.
  std::vector<identity::PublicKey> keys{a.public_key(), key(3).public_key()};
  std::sort(keys.begin(), keys.end());
  CHECK(m.drop_keys_not_in(a.did(), keys, why).empty());
  CHECK(m.size() == 3);
  // Rotated out (or frozen: no keys): both of a's go, b's stays.
  auto dropped = m.drop_keys_not_in(a.did(), {key(3).public_key()}, why);
  CHECK(dropped.size() == 2);
  CHECK(m.size() == 1);
  CHECK(m.rejection(tx(a, 1).id())->code == "tx.key_not_current");
  CHECK(m.drop_keys_not_in(b.did(), {}, why).size() == 1);
  CHECK(m.size() == 0);
  CHECK(m.drop_keys_not_in("did:imi:unknown", {}, why).empty());
}

TEST_CASE("caps: per sender and in total, with a clear mempool-full error") {
  Mempool m(small());
  auto a = key(1);
  for (uint64_t n = 0; n < 4; ++n) REQUIRE(m.add(tx(a, n), 0));
  // A fifth from the same sender: nonce 4 is at the edge of the window.
  CHECK(m.add(tx(a, 4), 0).status().code() == "tx.nonce_gap");
  for (uint8_t s = 2; s < 8; ++s) REQUIRE(m.add(tx(key(s), 0), 0));
  auto full = m.add(tx(key(9), 0), 0);
  CHECK(full.status().code() == "mempool.full");
  CHECK(full.status().message().find("retry") != std::string::npos);
}

TEST_CASE("sender_full when the window is wider than the per-sender cap") {
  MempoolOptions o = small();
  Mempool m(o);
  auto a = key(1);
  // Nonces 0..3 pending (4 = cap); a gap-free fifth is refused by the window.
  for (uint64_t n = 0; n < 4; ++n) REQUIRE(m.add(tx(a, n), 0));
  CHECK(!m.add(tx(a, 4), 0));
}

TEST_CASE("batches follow each sender's nonce order and skip gaps") {
  Mempool m(small());
  auto a = key(1), b = key(2);
  REQUIRE(m.add(tx(a, 1), 0));  // waits for nonce 0
  CHECK(!m.has_ready());
  REQUIRE(m.add(tx(b, 0), 0));
  REQUIRE(m.add(tx(a, 0), 0));
  CHECK(m.has_ready());
  auto batch = m.take_batch(10, 1 << 20);
  REQUIRE(batch.size() == 3);
  CHECK(batch[0].from() == b.did());
  CHECK(batch[1].from() == a.did());
  CHECK(batch[1].nonce() == 0);
  CHECK(batch[2].nonce() == 1);
  // In flight: not taken again, still pending.
  CHECK(m.take_batch(10, 1 << 20).empty());
  CHECK(m.size() == 3);
  CHECK(m.in_flight() == 3);
  m.release_in_flight();
  CHECK(m.take_batch(10, 1 << 20).size() == 3);
}

TEST_CASE("batch limits by count and bytes keep the remainder first in line") {
  Mempool m(small());
  auto a = key(1);
  for (uint64_t n = 0; n < 4; ++n) REQUIRE(m.add(tx(a, n), 0));
  auto first = m.take_batch(3, 1 << 20);
  CHECK(first.size() == 3);
  auto second = m.take_batch(3, 1 << 20);
  REQUIRE(second.size() == 1);
  CHECK(second[0].nonce() == 3);
  m.release_in_flight();
  const size_t one = first[0].canonical().size();
  CHECK(m.take_batch(10, one * 2 + 1).size() == 2);
}

TEST_CASE("a commit removes included transactions and evicts ones whose nonce got used") {
  Mempool m(small());
  auto a = key(1);
  auto mine = tx(a, 0);
  auto next = tx(a, 1);
  REQUIRE(m.add(mine, 0));
  REQUIRE(m.add(next, 0));
  auto batch = m.take_batch(1, 1 << 20);
  REQUIRE(batch.size() == 1);
  // Another node's block used nonces 0 and 1 with different transactions.
  auto foreign0 = tx(a, 0, "x"), foreign1 = tx(a, 1, "y");
  std::vector<ledger::Transaction> block{foreign0, foreign1};
  auto evicted = m.on_commit(block);
  CHECK(evicted.size() == 2);
  CHECK(m.size() == 0);
  auto r = m.rejection(mine.id());
  REQUIRE(r);
  CHECK(r->code == "tx.nonce_used");
  // The next nonce is now 2, whatever the caller says about committed state.
  REQUIRE(m.add(tx(a, 2), 0));
  CHECK(m.add(tx(a, 1, "z"), 0).status().code() == "tx.nonce_used");
}

TEST_CASE("a committed block frees its transactions and the next ones become ready") {
  Mempool m(small());
  auto a = key(1);
  auto t0 = tx(a, 0), t1 = tx(a, 1);
  REQUIRE(m.add(t0, 0));
  auto batch = m.take_batch(10, 1 << 20);
  REQUIRE(m.add(t1, 0));
  m.on_commit(batch);
  CHECK(!m.contains(t0.id()));
  CHECK(!m.rejection(t0.id()));
  auto next = m.take_batch(10, 1 << 20);
  REQUIRE(next.size() == 1);
  CHECK(next[0].id() == t1.id());
}

TEST_CASE("remove drops a transaction and remembers why; rejections are bounded") {
  Mempool m(small());
  auto t = tx(key(1), 0);
  REQUIRE(m.add(t, 0));
  m.remove(t.id(), Rejection{"exec.key_not_current", "rotated"});
  CHECK(!m.contains(t.id()));
  CHECK(m.bytes() == 0);
  CHECK(m.rejection(t.id())->code == "exec.key_not_current");
  for (uint8_t i = 0; i < 3; ++i) m.record_rejected(tx(key(i + 10), 0).id(), {"c", "m"});
  CHECK(!m.rejection(t.id()));  // the oldest was forgotten
}

TEST_CASE("oversized transactions are refused by the admission cap") {
  MempoolOptions o = small();
  o.tx_bytes_max = 300;
  Mempool m(o);
  CHECK(m.add(tx(key(1), 0, std::string(400, 'n')), 0).status().code() == "tx.too_large");
}

}  // namespace
}  // namespace imi::node

namespace imi::node {
namespace {

TEST_CASE("a nonce read before a commit is refused as stale for a sender the pool dropped") {
  Mempool m(small());
  auto a = key(1);
  auto t0 = tx(a, 0);
  REQUIRE(m.add(t0, 0));
  const uint64_t epoch = m.commit_epoch();  // the admission reads its nonce here...
  auto batch = m.take_batch(10, 1 << 20);
  m.on_commit(batch);  // ...a block commits nonce 0 and the sender leaves the pool
  CHECK(m.add(tx(a, 1), 0, epoch).status().code() == "mempool.stale");
  // Read again after the commit: the committed next nonce is 1.
  CHECK(m.add(tx(a, 1), 1, m.commit_epoch()));
  // Also for a sender the pool still tracks: the block may have changed its
  // keys, which the caller read with its state.
  const uint64_t before = m.commit_epoch();
  const std::vector<ledger::Transaction> other{tx(key(2), 0)};
  m.on_commit(other);
  CHECK(m.add(tx(a, 2), 0, before).status().code() == "mempool.stale");
  CHECK(m.add(tx(a, 2), 0, m.commit_epoch()));
}

TEST_CASE("a sender whose in-flight transactions were removed leaves when the block is released") {
  MempoolOptions o = small();
  o.idle_senders_max = 10;
  Mempool m(o);
  auto a0 = tx(key(1), 0);
  REQUIRE(m.add(a0, 0));
  REQUIRE(m.take_batch(10, 1 << 20).size() == 1);
  m.remove(a0.id(), Rejection{"tx.test", "gone"});  // in flight: the sender stays for now
  m.release_in_flight();                            // the block did not commit
  CHECK(m.size() == 0);
  CHECK_FALSE(m.has_ready());
  CHECK(m.line_entries() == 0);
  CHECK(m.senders() == 0);
  // It left the pool with its committed next nonce remembered.
  REQUIRE(m.known_base(a0.from()));
  CHECK(*m.known_base(a0.from()) == 0);
  REQUIRE(m.add(tx(key(1), 0, "again"), 0));
  CHECK(m.pending_heads(10).size() == 1);
}

}  // namespace
}  // namespace imi::node

namespace imi::node {
namespace {

TEST_CASE("a sender whose transactions all committed keeps its next nonce (no state read)") {
  MempoolOptions o = small();
  o.idle_senders_max = 2;
  Mempool m(o);
  auto a = key(1), b = key(2), c = key(3);
  CHECK(!m.known_base(a.did()));  // never seen: the caller reads committed state
  REQUIRE(m.add(tx(a, 0), 0));
  REQUIRE(m.add(tx(a, 1), 0));
  m.on_commit(m.take_batch(10, 1 << 20));
  CHECK(m.size() == 0);
  REQUIRE(m.known_base(a.did()));
  CHECK(*m.known_base(a.did()) == 2);
  // A block from elsewhere uses a's nonce 2: the remembered nonce follows.
  std::vector<ledger::Transaction> foreign{tx(a, 2, "elsewhere")};
  m.on_commit(foreign);
  CHECK(*m.known_base(a.did()) == 3);
  // Admitting again with the remembered nonce works; the old one is used.
  CHECK(m.add(tx(a, 2, "late"), *m.known_base(a.did())).status().code() == "tx.nonce_used");
  REQUIRE(m.add(tx(a, 3), *m.known_base(a.did())));
  m.on_commit(m.take_batch(10, 1 << 20));
  CHECK(*m.known_base(a.did()) == 4);
  // Bounded: two more idle senders push out the oldest.
  for (const auto* k : {&b, &c}) {
    REQUIRE(m.add(tx(*k, 0), 0));
    m.on_commit(m.take_batch(10, 1 << 20));
  }
  CHECK(!m.known_base(a.did()));
  CHECK(*m.known_base(b.did()) == 1);
  CHECK(*m.known_base(c.did()) == 1);
}

TEST_CASE("a backup's line of ready senders stays bounded and never lists a sender twice") {
  // A backup admits and commits (others' blocks) but never takes a batch,
  // so nothing drains its line: senders that go idle must not stay in it.
  MempoolOptions o = small();
  o.txs_max = 1000;
  o.idle_senders_max = 1000;
  Mempool m(o);
  std::vector<identity::KeyPair> keys;
  for (int i = 0; i < 300; ++i) keys.push_back(key(static_cast<uint8_t>(i % 250 + 1)));
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 250; ++i) {
      const auto& k = keys[i];
      const uint64_t base = m.known_base(k.did()).value_or(0);
      auto t = tx(k, base);
      REQUIRE(m.add(t, base));
      m.on_commit(std::vector<ledger::Transaction>{t});
      CHECK(m.size() == 0);
      CHECK(m.known_base(k.did()) == base + 1);
    }
    CHECK(m.line_entries() <= 64 + 1);
  }
  CHECK(m.pending_heads(100).empty());
  CHECK_FALSE(m.has_ready());
  // A sender that left and came back is in line once, behind the older one.
  auto b = key(2), a = key(1);
  auto b3 = tx(b, 3), a3 = tx(a, 3), a4 = tx(a, 4);
  REQUIRE(m.add(b3, 3));
  REQUIRE(m.add(a3, 3));
  REQUIRE(m.add(a4, 3));
  m.on_commit(std::vector<ledger::Transaction>{a3});
  std::vector<Hash32> want{b3.id(), a4.id()};
  CHECK(m.pending_heads(10) == want);
  CHECK(m.has_ready());
  auto batch = m.take_batch(10, 1 << 20);
  REQUIRE(batch.size() == 2);
  CHECK(batch[0].id() == b3.id());
  CHECK(batch[1].id() == a4.id());
  m.on_commit(batch);
  CHECK(m.line_entries() <= 64);
  CHECK(m.size() == 0);
}

}  // namespace
TEST_CASE("find_known: the pending transaction of a sender and nonce, for block decoding") {
  Mempool m(small());
  auto a0 = tx(key(1), 0), a1 = tx(key(1), 1), b0 = tx(key(2), 0);
  REQUIRE(m.add(a0, 0));
  REQUIRE(m.add(a1, 0));
  REQUIRE(m.add(b0, 0));
  auto found = m.find_known(a1.from(), 1);
  REQUIRE(found);
  CHECK(found->id() == a1.id());
  CHECK(&found->canonical() == &a1.canonical());  // the pool's own copy, not a new decode
  CHECK_FALSE(m.find_known(a1.from(), 2));
  CHECK_FALSE(m.find_known(tx(key(3), 0).from(), 0));
  // In flight still counts (a proposal carries what the primary took); committed does not.
  auto batch = m.take_batch(10, 1 << 20);
  CHECK(m.find_known(a0.from(), 0));
  m.on_commit(std::vector<ledger::Transaction>{a0});
  CHECK_FALSE(m.find_known(a0.from(), 0));
  CHECK(m.find_known(b0.from(), 0));
  m.remove(b0.id(), Rejection{"tx.test", "gone"});
  CHECK_FALSE(m.find_known(b0.from(), 0));
}

TEST_CASE(
    "a commit settles the block's senders and those in flight; a removal can empty a sender") {
  MempoolOptions o = small();
  o.txs_max = 100;
  Mempool m(o);
  auto a0 = tx(key(1), 0), a1 = tx(key(1), 1), b0 = tx(key(2), 0), c0 = tx(key(3), 0);
  auto d0 = tx(key(4), 0), e0 = tx(key(5), 0);
  for (const auto* t : {&a0, &a1, &b0}) REQUIRE(m.add(*t, 0));
  // A block of a0, a1 and b0 is in flight.
  REQUIRE(m.take_batch(3, 1 << 20).size() == 3);
  REQUIRE(m.add(c0, 0));  // arrives meanwhile
  CHECK(m.in_flight() == 3);
  // Another block (another primary's) commits a0 only: a1 and b0 come back
  // into line, c0 stays in line, a's next nonce is 1.
  m.on_commit(std::vector<ledger::Transaction>{a0});
  CHECK(m.in_flight() == 0);
  CHECK(m.size() == 3);
  auto next = m.take_batch(10, 1 << 20);
  std::vector<Hash32> ids;
  for (const auto& t : next) ids.push_back(t.id());
  std::sort(ids.begin(), ids.end());
  std::vector<Hash32> want{a1.id(), b0.id(), c0.id()};
  std::sort(want.begin(), want.end());
  CHECK(ids == want);
  m.on_commit(next);
  CHECK(m.size() == 0);
  CHECK(m.known_base(a1.from()) == 2);
  CHECK(m.known_base(b0.from()) == 1);
  CHECK(m.known_base(c0.from()) == 1);

  // A sender whose only transaction is removed leaves, remembering its base.
  REQUIRE(m.add(d0, 0));
  m.remove(d0.id(), Rejection{"tx.test", "dropped"});
  CHECK(m.size() == 0);
  CHECK_FALSE(m.has_ready());
  CHECK(m.known_base(d0.from()) == 0);
  // Released in-flight transactions come back into line.
  REQUIRE(m.add(e0, 0));
  REQUIRE(m.take_batch(10, 1 << 20).size() == 1);
  CHECK_FALSE(m.has_ready());
  m.release_in_flight();
  CHECK(m.has_ready());
  CHECK(m.take_batch(10, 1 << 20).size() == 1);
}

}  // namespace imi::node

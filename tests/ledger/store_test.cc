#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "base/sha256.h"
#include "ledger/db_env.h"
#include "ledger/store.h"
#include "tests/ledger/temp_dir.h"

using namespace imi;
using namespace imi::ledger;

namespace {

using imi::test::TempDir;

// A fresh directory removed when the test ends.

constexpr int kTxPerBlock = 20;

Hash32 tx_id(uint64_t h, int i) {
  return sha256("tx " + std::to_string(h) + " " + std::to_string(i));
}
std::string block_json(uint64_t h) {
  return "{\"height\":" + std::to_string(h) + ",\"pad\":\"" + std::string(200, 'b') + "\"}";
}
std::string result_json(uint64_t h, int i) {
  return "{\"code\":0,\"events\":[\"" + std::to_string(h) + "/" + std::to_string(i) +
         std::string(280, 'r') + "\"]}";
}
std::string state_key(uint64_t h) { return "s/block/" + std::to_string(h); }

// Block h of a synthetic chain: txs, results and two state writes (one new key
// per block and one key every block overwrites).
BlockCommit make_commit(uint64_t h) {
  BlockCommit c;
  c.height = h;
  c.block_json = block_json(h);
  c.block_id = sha256(c.block_json);
  if (h > 0) c.cert_json = "{\"cert\":" + std::to_string(h) + "}";
  for (int i = 0; i < kTxPerBlock; ++i) {
    c.tx_ids.push_back(tx_id(h, i));
    c.result_json.push_back(result_json(h, i));
  }
  std::string value = "v";  // appended, not "v" + ...: GCC 12 -O3 warns falsely (-Wrestrict)
  value += std::to_string(h);
  c.state_writes.Put(state_key(h), value);
  c.state_writes.Put("s/latest", std::to_string(h));
  return c;
}

std::string raw_get(const Store& s, const std::string& key) {
  std::string v;
  leveldb::Status st = s.db()->Get(leveldb::ReadOptions(), key, &v);
  return st.ok() ? v : std::string("<absent>");
}

// The store holds exactly blocks 0..top (top = -1: nothing): everything of
// each present, nothing of any block up to `max` above it.
void check_exactly(const Store& s, int64_t top, int64_t max) {
  auto head = s.head();
  if (top < 0) {
    REQUIRE_FALSE(head.has_value());
  } else {
    REQUIRE(head.has_value());
    REQUIRE(head->height == static_cast<uint64_t>(top));
    CHECK(head->block_id == sha256(block_json(top)));
    CHECK(raw_get(s, "s/latest") == std::to_string(top));
  }
  for (int64_t h = 0; h <= max; ++h) {
    bool present = h <= top;
    auto b = s.block_json(h);
    REQUIRE(b.is_ok() == present);
    if (present) {
      CHECK(*b == block_json(h));
      auto by_id = s.block_json_by_id(sha256(block_json(h)));
      REQUIRE(by_id.is_ok());
      CHECK(*by_id == block_json(h));
    } else {
      CHECK(b.status().code() == "store.not_found");
      CHECK_FALSE(s.height_of(sha256(block_json(h))).is_ok());
    }
    CHECK(s.cert_json(h).is_ok() == (present && h > 0));
    CHECK((raw_get(s, state_key(h)) != "<absent>") == present);
    for (int i = 0; i < kTxPerBlock; ++i) {
      auto loc = s.tx_location(tx_id(h, i));
      REQUIRE(loc.is_ok() == present);
      auto r = s.result_json(h, i);
      REQUIRE(r.is_ok() == present);
      if (present) {
        CHECK(loc->height == static_cast<uint64_t>(h));
        CHECK(loc->position == static_cast<uint32_t>(i));
        CHECK(*r == result_json(h, i));
      }
    }
  }
}

StoreOptions small_options(leveldb::Env* env) {
  StoreOptions o;
  o.env = env;
  o.write_buffer_bytes = 64 << 10;  // LevelDB's minimum: forces memtable flushes and compactions
  return o;
}

}  // namespace

TEST_CASE("store commits blocks and reads them back after reopening") {
  TempDir dir;
  {
    auto s = Store::open(dir.path());
    REQUIRE(s.is_ok());
    check_exactly(**s, -1, 3);
    for (uint64_t h = 0; h <= 5; ++h) REQUIRE((*s)->commit_block(make_commit(h)).is_ok());
    check_exactly(**s, 5, 7);
  }
  auto s = Store::open(dir.path());
  REQUIRE(s.is_ok());
  check_exactly(**s, 5, 7);
  REQUIRE((*s)->commit_block(make_commit(6)).is_ok());
  check_exactly(**s, 6, 8);
}

TEST_CASE("a store written with compressed tables reopens uncompressed, and back") {
  // Tables are uncompressed by default since issue 2's perf work; data
  // directories written before keep their Snappy tables, and both kinds
  // must read back whichever setting a later open uses.
  TempDir dir;
  StoreOptions compressed = small_options(nullptr);
  compressed.compress = true;
  StoreOptions plain = small_options(nullptr);
  REQUIRE_FALSE(plain.compress);
  plain.block_bytes = 512;
  uint64_t h = 0;
  for (const StoreOptions* o : {&compressed, &plain, &compressed}) {
    auto s = Store::open(dir.path(), *o);
    REQUIRE(s.is_ok());
    for (int i = 0; i < 40; ++i, ++h) REQUIRE((*s)->commit_block(make_commit(h)).is_ok());
    (*s)->db()->CompactRange(nullptr, nullptr);  // rewrite every table with this setting
    check_exactly(**s, static_cast<int64_t>(h) - 1, static_cast<int64_t>(h) + 1);
  }
}

TEST_CASE("LevelDB's background thread is named leveldb-bg, not after the loop thread") {
  // Operators and profiles tell compaction from block execution by name.
  auto thread_names = [] {
    std::string names;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
      std::ifstream comm(task.path() / "comm");
      std::string name;
      std::getline(comm, name);
      names += name + "\n";
    }
    return names;
  };
  TempDir dir;
  auto s = Store::open(dir.path(), small_options(nullptr));  // the production env
  REQUIRE(s.is_ok());
  for (uint64_t h = 0; h < 40; ++h) REQUIRE((*s)->commit_block(make_commit(h)).is_ok());
  (*s)->db()->CompactRange(nullptr, nullptr);  // runs on the background thread
  CHECK(thread_names().find("leveldb-bg\n") != std::string::npos);
  check_exactly(**s, 39, 41);
}

TEST_CASE("store rejects malformed commits without writing anything") {
  TempDir dir;
  auto s = Store::open(dir.path());
  REQUIRE(s.is_ok());
  Store& store = **s;
  CHECK(store.commit_block(make_commit(1)).code() == "store.height");  // empty: genesis first
  REQUIRE(store.commit_block(make_commit(0)).is_ok());
  CHECK(store.commit_block(make_commit(0)).code() == "store.height");
  CHECK(store.commit_block(make_commit(2)).code() == "store.height");

  BlockCommit no_cert = make_commit(1);
  no_cert.cert_json.clear();
  CHECK(store.commit_block(no_cert).code() == "store.bad_commit");

  BlockCommit short_results = make_commit(1);
  short_results.result_json.pop_back();
  CHECK(store.commit_block(short_results).code() == "store.bad_commit");

  BlockCommit dup = make_commit(1);
  dup.tx_ids[3] = dup.tx_ids[7];
  CHECK(store.commit_block(dup).code() == "store.duplicate_tx");

  BlockCommit outside = make_commit(1);
  outside.state_writes.Put("m/head", "forged");
  CHECK(store.commit_block(outside).code() == "store.bad_commit");

  BlockCommit empty_block = make_commit(1);
  empty_block.block_json.clear();
  CHECK(store.commit_block(empty_block).code() == "store.bad_commit");

  check_exactly(store, 0, 2);
  REQUIRE(store.commit_block(make_commit(1)).is_ok());
  check_exactly(store, 1, 2);
}

TEST_CASE("store reads of absent records are not_found errors") {
  TempDir dir;
  auto s = Store::open(dir.path());
  REQUIRE(s.is_ok());
  CHECK((*s)->block_json(0).status().code() == "store.not_found");
  CHECK((*s)->block_json_by_id(Hash32{}).status().code() == "store.not_found");
  CHECK((*s)->cert_json(1).status().code() == "store.not_found");
  CHECK((*s)->tx_location(Hash32{}).status().code() == "store.not_found");
  CHECK((*s)->result_json(0, 0).status().code() == "store.not_found");
}

TEST_CASE("store refuses a second open of the same directory") {
  TempDir dir;
  auto a = Store::open(dir.path());
  REQUIRE(a.is_ok());
  auto b = Store::open(dir.path());
  REQUIRE_FALSE(b.is_ok());
  CHECK(b.status().code() == "store.io");
}

TEST_CASE("store refuses a store written by a newer schema") {
  TempDir dir;
  {
    auto s = Store::open(dir.path());
    REQUIRE(s.is_ok());
    REQUIRE((*s)->commit_block(make_commit(0)).is_ok());
    leveldb::WriteOptions wo;
    REQUIRE((*s)->db()->Put(wo, "m/schema", std::string("\0\0\0\x63", 4)).ok());
  }
  auto s = Store::open(dir.path());
  REQUIRE_FALSE(s.is_ok());
  CHECK(s.status().code() == "store.schema");
}

TEST_CASE("store refuses a store written by an older schema (state tree before pages)") {
  TempDir dir;
  {
    auto s = Store::open(dir.path());
    REQUIRE(s.is_ok());
    REQUIRE((*s)->commit_block(make_commit(0)).is_ok());
    leveldb::WriteOptions wo;
    REQUIRE((*s)->db()->Put(wo, "m/schema", std::string("\0\0\0\x01", 4)).ok());
  }
  auto s = Store::open(dir.path());
  REQUIRE_FALSE(s.is_ok());
  CHECK(s.status().code() == "store.schema");
  CHECK(s.status().to_string().find("resync") != std::string::npos);
}

TEST_CASE("store detects a head whose block is missing") {
  TempDir dir;
  {
    auto s = Store::open(dir.path());
    REQUIRE(s.is_ok());
    REQUIRE((*s)->commit_block(make_commit(0)).is_ok());
    REQUIRE((*s)->commit_block(make_commit(1)).is_ok());
    REQUIRE((*s)->db()->Delete(leveldb::WriteOptions(), Store::block_key(1)).ok());
  }
  auto s = Store::open(dir.path());
  REQUIRE_FALSE(s.is_ok());
  CHECK(s.status().code() == "store.corrupt");
}

TEST_CASE("a commit that returned survives a crash right after it") {
  TempDir dir;
  FaultInjectionEnv env;
  for (int64_t h = 0; h < 30; ++h) {
    {
      auto s = Store::open(dir.path(), small_options(&env));
      REQUIRE(s.is_ok());
      check_exactly(**s, h - 1, h + 1);
      REQUIRE((*s)->commit_block(make_commit(h)).is_ok());
      env.crash_now();
    }
    REQUIRE(env.drop_unsynced_data(h % 2 == 0 ? 0 : h).is_ok());
  }
  auto s = Store::open(dir.path(), small_options(&env));
  REQUIRE(s.is_ok());
  check_exactly(**s, 29, 31);
}

TEST_CASE("unsynced commits (block sync) lose at most a whole tail; a synced one keeps all") {
  TempDir dir;
  FaultInjectionEnv env;
  {
    auto s = Store::open(dir.path(), small_options(&env));
    REQUIRE(s.is_ok());
    for (uint64_t h = 0; h <= 5; ++h) {
      BlockCommit c = make_commit(h);
      c.sync = h == 0 || h == 3;  // 3 synced: 0..3 durable; 4 and 5 may vanish
      REQUIRE((*s)->commit_block(c).is_ok());
    }
    env.crash_now();
  }
  REQUIRE(env.drop_unsynced_data(0).is_ok());
  {
    auto s = Store::open(dir.path(), small_options(&env));
    REQUIRE(s.is_ok());
    check_exactly(**s, 3, 6);  // never half of block 4
    BlockCommit c = make_commit(4);
    c.sync = false;
    REQUIRE((*s)->commit_block(c).is_ok());
    c = make_commit(5);  // synced: makes 4 durable too
    REQUIRE((*s)->commit_block(c).is_ok());
    env.crash_now();
  }
  REQUIRE(env.drop_unsynced_data(0).is_ok());
  auto s = Store::open(dir.path(), small_options(&env));
  REQUIRE(s.is_ok());
  check_exactly(**s, 5, 6);
}

TEST_CASE("sync() makes unsynced commits survive a crash, and says when one is due") {
  TempDir dir;
  FaultInjectionEnv env;
  {
    auto s = Store::open(dir.path(), small_options(&env));
    REQUIRE(s.is_ok());
    REQUIRE((*s)->commit_block(make_commit(0)).is_ok());
    CHECK(!(*s)->unsynced());
    for (uint64_t h = 1; h <= 3; ++h) {
      BlockCommit c = make_commit(h);
      c.sync = false;
      REQUIRE((*s)->commit_block(c).is_ok());
      CHECK((*s)->unsynced());
    }
    REQUIRE((*s)->sync().is_ok());
    CHECK(!(*s)->unsynced());
    CHECK((*s)->sync().is_ok());  // nothing due: no write
    env.crash_now();
  }
  REQUIRE(env.drop_unsynced_data(0).is_ok());
  auto s = Store::open(dir.path(), small_options(&env));
  REQUIRE(s.is_ok());
  check_exactly(**s, 3, 4);
}

TEST_CASE("unsynced commits across LevelDB log switches are all durable after sync()") {
  // 64 KiB memtables: ~40 KiB blocks switch the write-ahead log every two
  // blocks. LevelDB drops a log it leaves without syncing it, so a later
  // synced write covers only the newest log; the store syncs a log as it is
  // dropped, or a power cut would keep later blocks and lose earlier ones
  // (without it this test recovers to block 10 of 12).
  TempDir dir;
  FaultInjectionEnv env;
  {
    auto s = Store::open(dir.path(), small_options(&env));
    REQUIRE(s.is_ok());
    REQUIRE((*s)->commit_block(make_commit(0)).is_ok());
    for (uint64_t h = 1; h <= 12; ++h) {
      BlockCommit c = make_commit(h);
      c.state_writes.Put("s/pad", std::string(40 << 10, static_cast<char>('a' + h)));
      c.sync = false;
      REQUIRE((*s)->commit_block(c).is_ok());
    }
    REQUIRE((*s)->sync().is_ok());
    env.crash_now();
  }
  REQUIRE(env.drop_unsynced_data(0).is_ok());
  auto s = Store::open(dir.path(), small_options(&env));
  REQUIRE(s.is_ok());
  check_exactly(**s, 12, 13);
}

TEST_CASE("a crash at any write reopens at the last whole block") {
  constexpr int64_t kBlocks = 40;
  // Count the appends a clean run makes, then crash at points spread over it.
  int64_t total = 0;
  {
    TempDir dir;
    FaultInjectionEnv env;
    auto s = Store::open(dir.path(), small_options(&env));
    REQUIRE(s.is_ok());
    for (int64_t h = 0; h < kBlocks; ++h) REQUIRE((*s)->commit_block(make_commit(h)).is_ok());
    total = env.appends();
  }
  REQUIRE(total > kBlocks);
  const int64_t stride = std::max<int64_t>(1, total / 64);
  int crashes_mid_chain = 0;
  for (int64_t point = 0; point < total; point += stride) {
    CAPTURE(point);
    TempDir dir;
    FaultInjectionEnv env;
    int64_t acked = -1;
    {
      auto s = Store::open(dir.path(), small_options(&env));
      REQUIRE(s.is_ok());
      env.crash_after_appends(point);
      for (int64_t h = 0; h < kBlocks; ++h) {
        if (!(*s)->commit_block(make_commit(h)).is_ok()) break;
        acked = h;
      }
      env.crash_now();  // a crash that the writes did not reach happens here
    }
    if (acked + 1 < kBlocks) ++crashes_mid_chain;
    // Alternate between dropping all unsynced bytes and keeping torn prefixes.
    REQUIRE(env.drop_unsynced_data(point % 2 == 0 ? 0 : static_cast<uint64_t>(point)).is_ok());
    auto s = Store::open(dir.path(), small_options(&env));
    REQUIRE(s.is_ok());
    auto head = (*s)->head();
    int64_t top = head ? static_cast<int64_t>(head->height) : -1;
    // Never loses an acknowledged block; at most the one in flight may have landed.
    CHECK(top >= acked);
    CHECK(top <= acked + 1);
    check_exactly(**s, top, std::min(kBlocks, top + 3));
    // The recovered store keeps working.
    REQUIRE((*s)->commit_block(make_commit(top + 1)).is_ok());
    check_exactly(**s, top + 1, top + 3);
  }
  CHECK(crashes_mid_chain > 30);
}

TEST_CASE("a full disk fails the commit, and the store recovers once space returns") {
  TempDir dir;
  FaultInjectionEnv env;
  {
    auto s = Store::open(dir.path(), small_options(&env));
    REQUIRE(s.is_ok());
    for (int64_t h = 0; h < 10; ++h) REQUIRE((*s)->commit_block(make_commit(h)).is_ok());
    env.set_disk_full(true);
    Status st = (*s)->commit_block(make_commit(10));
    CHECK(st.code() == "store.io");
    CHECK((*s)->head()->height == 9);
    env.set_disk_full(false);
    CHECK((*s)->commit_block(make_commit(10)).code() == "store.failed");
    check_exactly(**s, 9, 11);
  }
  auto s = Store::open(dir.path(), small_options(&env));
  REQUIRE(s.is_ok());
  check_exactly(**s, 9, 11);
  REQUIRE((*s)->commit_block(make_commit(10)).is_ok());
  check_exactly(**s, 10, 11);
}

TEST_CASE("a schema 2 store is refused with the command that converts it; reindex's open accepts it") {
  TempDir dir;
  {
    auto s = Store::open(dir.path());
    REQUIRE(s.is_ok());
    REQUIRE((*s)->commit_block(make_commit(0)).is_ok());
    leveldb::WriteOptions wo;
    REQUIRE((*s)->db()->Put(wo, "m/schema", std::string("\0\0\0\x02", 4)).ok());
  }
  {
    auto s = Store::open(dir.path());
    REQUIRE_FALSE(s.is_ok());
    CHECK(s.status().code() == "store.schema");
    CHECK(s.status().message().find("imid reindex") != std::string::npos);
  }
  {
    StoreOptions o;
    o.accept_schema_2 = true;
    auto s = Store::open(dir.path(), o);
    REQUIRE(s.is_ok());
    CHECK((*s)->head()->height == 0);
    REQUIRE((*s)->write_current_schema().is_ok());
  }
  {
    auto s = Store::open(dir.path());
    REQUIRE(s.is_ok());
    std::string v;
    REQUIRE((*s)->db()->Get(leveldb::ReadOptions(), "m/schema", &v).ok());
    CHECK(v == std::string("\0\0\0\x03", 4));
  }
}

TEST_CASE("the index is written with its block and scanned in key order after a cursor") {
  TempDir dir;
  auto s = std::move(Store::open(dir.path()).value());
  REQUIRE(s->commit_block(make_commit(0)).is_ok());
  BlockCommit c = make_commit(1);
  c.index_writes = {{"share", "open/r1c1/b", "2"}, {"share", "open/r1c1/a", "1"},
                    {"share", "open/r1c2/c", "3"}, {"sharex", "open/r1c1/z", "9"}};
  REQUIRE(s->commit_block(std::move(c)).is_ok());
  auto all = s->scan_index("share", "open/r1c1/", "", 10);
  REQUIRE(all.is_ok());
  REQUIRE(all->size() == 2);
  CHECK((*all)[0] == std::make_pair(std::string("open/r1c1/a"), std::string("1")));
  CHECK((*all)[1].first == "open/r1c1/b");
  auto after = s->scan_index("share", "open/r1c1/", "open/r1c1/a", 10);
  REQUIRE(after->size() == 1);
  CHECK((*after)[0].first == "open/r1c1/b");
  // A deletion in a later block removes the entry.
  BlockCommit d = make_commit(2);
  d.index_writes = {{"share", "open/r1c1/a", std::nullopt}};
  REQUIRE(s->commit_block(std::move(d)).is_ok());
  CHECK(s->scan_index("share", "open/", "", 10)->size() == 2);
}

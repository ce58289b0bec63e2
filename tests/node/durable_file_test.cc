#include "node/durable_file.h"

#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <filesystem>
#include <fstream>

namespace imi::node {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  TempDir() {
    std::string t = "/tmp/imi-node-durable-XXXXXX";
    REQUIRE(::mkdtemp(t.data()) != nullptr);
    path = t;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

Bytes bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

TEST_CASE("nothing stored: load gives nullopt") {
  TempDir d;
  DurableFile f((d.path / "c").string());
  auto r = f.load();
  REQUIRE(r);
  CHECK(!*r);
}

TEST_CASE("the newest record survives a reopen, alternating between two files") {
  TempDir d;
  const std::string base = (d.path / "c").string();
  {
    DurableFile f(base);
    REQUIRE(f.load());
    REQUIRE(f.store(bytes("one")));
    REQUIRE(f.store(bytes("two")));
    REQUIRE(f.store(bytes("three")));
  }
  CHECK(fs::exists(base + ".a"));
  CHECK(fs::exists(base + ".b"));
  DurableFile g(base);
  auto r = g.load();
  REQUIRE(r);
  REQUIRE(*r);
  CHECK(**r == bytes("three"));
  // The next store must not overwrite the newest record.
  REQUIRE(g.store(bytes("four")));
  DurableFile h(base);
  CHECK(**h.load() == bytes("four"));
}

TEST_CASE("a torn or corrupt newest file falls back to the older record") {
  TempDir d;
  const std::string base = (d.path / "c").string();
  {
    DurableFile f(base);
    REQUIRE(f.load());
    REQUIRE(f.store(bytes("older")));  // .a
    REQUIRE(f.store(bytes("newer")));  // .b
  }
  SUBCASE("truncated") { fs::resize_file(base + ".b", 30); }
  SUBCASE("flipped byte") {
    // The record's last byte: 52 bytes of header, then "newer".
    std::fstream io(base + ".b", std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(52 + 4);
    io.put('X');
  }
  SUBCASE("flipped length") {
    std::fstream io(base + ".b", std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(19);  // low byte of the u32 length at offset 16
    io.put(6);
  }
  SUBCASE("empty") { fs::resize_file(base + ".b", 0); }
  DurableFile g(base);
  auto r = g.load();
  REQUIRE(r);
  REQUIRE(*r);
  CHECK(**r == bytes("older"));
}

TEST_CASE("records overwrite their file in place; an earlier longer record's tail is ignored") {
  TempDir d;
  const std::string base = (d.path / "c").string();
  const Bytes long_record(10000, 0x5a);
  {
    DurableFile f(base);
    REQUIRE(f.load());
    REQUIRE(f.store(long_record));  // .a, grows to 16 KiB
    REQUIRE(f.store(bytes("b1")));  // .b, 4 KiB
    REQUIRE(f.store(bytes("a2")));  // .a again: a short record over the long one
  }
  CHECK(fs::file_size(base + ".a") == 16384);
  CHECK(fs::file_size(base + ".b") == 4096);
  {
    DurableFile g(base);
    auto r = g.load();
    REQUIRE(r);
    REQUIRE(*r);
    CHECK(**r == bytes("a2"));
    // Many more small records: the files keep their size (no metadata to sync).
    for (int i = 0; i < 20; ++i) REQUIRE(g.store(bytes("record " + std::to_string(i))));
  }
  CHECK(fs::file_size(base + ".a") == 16384);
  CHECK(fs::file_size(base + ".b") == 4096);
  DurableFile h(base);
  auto r = h.load();
  REQUIRE(r);
  REQUIRE(*r);
  CHECK(**r == bytes("record 19"));
  // A record larger than its file grows it to the next power of two.
  REQUIRE(h.store(Bytes(5000, 1)));
  REQUIRE(h.store(Bytes(5000, 2)));
  CHECK(fs::file_size(base + ".a") == 16384);
  CHECK(fs::file_size(base + ".b") == 8192);
  DurableFile k(base);
  CHECK(**k.load() == Bytes(5000, 2));
}

size_t open_fds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

TEST_CASE("a record too large to load back is refused, and nothing is written") {
  TempDir d;
  const std::string base = (d.path / "c").string();
  DurableFile f(base);
  REQUIRE(f.load());
  REQUIRE(f.store(bytes("kept")));
  // Zero pages, mapped but never touched: the size alone is refused.
  const size_t n = DurableFile::kPayloadBytesMax + 1;
  void* big = ::mmap(nullptr, n, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  REQUIRE(big != MAP_FAILED);
  Status s = f.store(ByteView(static_cast<const uint8_t*>(big), n));
  ::munmap(big, n);
  CHECK(s.code() == "durable.too_large");
  CHECK(s.message().find("nothing was written") != std::string::npos);
  DurableFile again(base);
  auto r = again.load();
  REQUIRE(r);
  REQUIRE(*r);
  CHECK(**r == bytes("kept"));
}

TEST_CASE("the two files stay open across stores and close with the object") {
  TempDir d;
  const std::string base = (d.path / "c").string();
  const size_t before = open_fds();
  {
    DurableFile f(base);
    REQUIRE(f.load());
    for (int i = 0; i < 50; ++i) REQUIRE(f.store(bytes("r" + std::to_string(i))));
    CHECK(open_fds() == before + 2);
    // A record longer than the open file still grows it.
    REQUIRE(f.store(Bytes(9000, 7)));
    REQUIRE(f.store(bytes("short")));
    CHECK(open_fds() == before + 2);
  }
  CHECK(open_fds() == before);
  CHECK(fs::file_size(base + ".a") == 16384);
  CHECK(fs::file_size(base + ".b") == 4096);
  DurableFile g(base);
  CHECK(**g.load() == bytes("short"));
}

}  // namespace
}  // namespace imi::node

#include "node/durable_file.h"

#include <doctest/doctest.h>
#include <stdlib.h>

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
    std::fstream io(base + ".b", std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(-1, std::ios::end);
    io.put('X');
  }
  SUBCASE("empty") { fs::resize_file(base + ".b", 0); }
  DurableFile g(base);
  auto r = g.load();
  REQUIRE(r);
  REQUIRE(*r);
  CHECK(**r == bytes("older"));
}

}  // namespace
}  // namespace imi::node

#include <doctest/doctest.h>

#include "base/bytes.h"
#include "base/sha256.h"
#include "base/status.h"

using namespace imi;

TEST_CASE("sha256 matches FIPS 180-2 vectors") {
  CHECK(to_hex(sha256(std::string_view(""))) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(to_hex(sha256(std::string_view("abc"))) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_concat({as_bytes("a"), as_bytes("bc")}) == sha256(std::string_view("abc")));
  Sha256 h;
  h.update(as_bytes("ab"));
  h.update(as_bytes("c"));
  CHECK(h.finish() == sha256(std::string_view("abc")));
}

TEST_CASE("hex is lowercase and fixed length only") {
  CHECK(to_hex(Bytes{0x00, 0xab, 0xff}) == "00abff");
  CHECK(from_hex("00abff") == Bytes{0x00, 0xab, 0xff});
  CHECK_FALSE(from_hex("00ABff").has_value());
  CHECK_FALSE(from_hex("abc").has_value());
  CHECK_FALSE(from_hex("zz").has_value());
  CHECK(from_hex_fixed<2>("abcd").has_value());
  CHECK_FALSE(from_hex_fixed<2>("abcdef").has_value());
  CHECK(is_lower_hex("0f", 2));
  CHECK_FALSE(is_lower_hex("0F", 2));
  CHECK_FALSE(is_lower_hex("0f0", 2));
}

TEST_CASE("Status and Result carry codes") {
  Status ok;
  CHECK(ok.is_ok());
  Status bad = Status::error("x.y", "what to do");
  CHECK_FALSE(bad.is_ok());
  CHECK(bad.code() == "x.y");
  CHECK(bad.to_string() == "x.y: what to do");
  Result<int> r = 5;
  CHECK(r.is_ok());
  CHECK(*r == 5);
  Result<int> e = Status::error("e", "m");
  CHECK_FALSE(e.is_ok());
  CHECK(e.status().code() == "e");
}

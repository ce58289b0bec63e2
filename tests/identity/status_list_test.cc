#include "identity/status_list.h"

#include <doctest/doctest.h>
#include <zlib.h>

#include "identity/base64url.h"

namespace imi::identity {
namespace {

std::string zlib_b64(const Bytes& raw) {
  uLongf len = compressBound(static_cast<uLong>(raw.size()));
  Bytes buf(len);
  REQUIRE(compress2(buf.data(), &len, raw.data(), static_cast<uLong>(raw.size()), 6) == Z_OK);
  buf.resize(len);
  return base64url_encode(buf);
}

TEST_CASE("base64url: round trip and strict decoding") {
  for (size_t n = 0; n < 40; ++n) {
    Bytes b(n);
    for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i * 37 + n);
    auto e = base64url_encode(b);
    CHECK(e.find('=') == std::string::npos);
    auto d = base64url_decode(e);
    REQUIRE(d.has_value());
    CHECK(*d == b);
  }
  CHECK(base64url_encode(std::string_view("\xfb\xff")) == "-_8");
  CHECK_FALSE(base64url_decode("ab=").has_value());    // padding
  CHECK_FALSE(base64url_decode("a+b/").has_value());   // standard alphabet
  CHECK_FALSE(base64url_decode("abcde").has_value());  // length 1 mod 4
  CHECK_FALSE(base64url_decode("AB").has_value());     // non-zero unused bits ("AA" is canonical)
  CHECK(base64url_decode("AA").has_value());
  CHECK_FALSE(base64url_decode("AA AA").has_value());
}

TEST_CASE("status list: two bits per entry, least significant bits first") {
  auto l = StatusList::make(16).value();
  CHECK(l.size() == 16);
  REQUIRE(l.set(0, CredentialStatus::kInvalid).is_ok());
  REQUIRE(l.set(1, CredentialStatus::kSuspended).is_ok());
  REQUIRE(l.set(3, CredentialStatus::kInvalid).is_ok());
  REQUIRE(l.set(12, CredentialStatus::kSuspended).is_ok());
  CHECK(l.bytes()[0] == 0b01001001);
  CHECK(l.bytes()[3] == 0b00000010);
  CHECK(l.get(1).value() == CredentialStatus::kSuspended);
  CHECK(l.get(2).value() == CredentialStatus::kValid);
  REQUIRE(l.set(1, CredentialStatus::kValid).is_ok());  // a suspension lifted
  CHECK(l.get(1).value() == CredentialStatus::kValid);
  CHECK(l.get(16).status().code() == "status_list.out_of_range");
  CHECK(l.set(16, CredentialStatus::kInvalid).code() == "status_list.out_of_range");
}

TEST_CASE("status list: decodes zlib lists from elsewhere; the reserved value 3 is refused") {
  Bytes raw = {0xc9, 0x44, 0xf9};  // 0xc9 holds entries 1,2,0,3
  auto bad = StatusList::decode(zlib_b64(raw));
  CHECK(bad.status().code() == "status_list.bad_value");
  Bytes ok = {0x49, 0x44, 0x29};
  auto l = StatusList::decode(zlib_b64(ok));
  REQUIRE(l.is_ok());
  CHECK(l->size() == 12);
  CHECK(l->get(0).value() == CredentialStatus::kInvalid);
  CHECK(l->get(1).value() == CredentialStatus::kSuspended);
  CHECK(l->get(2).value() == CredentialStatus::kValid);
  CHECK(l->get(3).value() == CredentialStatus::kInvalid);
}

TEST_CASE("status list: encode/decode round trip of 131072 entries") {
  auto l = StatusList::make(131072).value();
  for (uint64_t i = 0; i < 131072; i += 977) {
    REQUIRE(l.set(i, i % 2 ? CredentialStatus::kSuspended : CredentialStatus::kInvalid).is_ok());
  }
  std::string lst = l.encode();
  CHECK(lst.size() < 4000);
  auto back = StatusList::decode(lst);
  REQUIRE(back.is_ok());
  CHECK(back->bytes() == l.bytes());
  CHECK(l.to_json() == R"({"bits":2,"lst":")" + lst + "\"}");
}

TEST_CASE("status list: malformed and oversized inputs are errors") {
  CHECK(StatusList::make(0).status().code() == "status_list.too_large");
  CHECK(StatusList::make(kStatusListEntriesMax + 1).status().code() == "status_list.too_large");
  CHECK(StatusList::decode("!!").status().code() == "status_list.bad_encoding");
  CHECK(StatusList::decode(base64url_encode(std::string_view("not zlib"))).status().code() ==
        "status_list.bad_zlib");
  // Truncated stream.
  std::string full = zlib_b64(Bytes(100, 0));
  auto raw = base64url_decode(full).value();
  raw.resize(raw.size() - 3);
  CHECK(StatusList::decode(base64url_encode(raw)).status().code() == "status_list.bad_zlib");
  // Trailing bytes after the stream.
  auto whole = base64url_decode(full).value();
  whole.push_back(0);
  CHECK(StatusList::decode(base64url_encode(whole)).status().code() == "status_list.bad_zlib");
  // A small input that inflates past the caller's cap: a decompression bomb.
  std::string bomb = zlib_b64(Bytes(1 << 20, 0));
  CHECK(StatusList::decode(bomb, 1024).status().code() == "status_list.too_large");
  CHECK(StatusList::decode(zlib_b64(Bytes(1 << 18, 0))).is_ok());
  CHECK(StatusList::decode(zlib_b64(Bytes((1 << 18) + 1, 0))).status().code() ==
        "status_list.too_large");
  CHECK(StatusList::decode(zlib_b64(Bytes{})).status().code() == "status_list.bad_zlib");
}

}  // namespace
}  // namespace imi::identity

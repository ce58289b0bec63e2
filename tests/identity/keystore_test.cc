#include "identity/keystore.h"

#include <doctest/doctest.h>
#include <sodium.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "base/bytes.h"

namespace imi::identity {
namespace {

namespace fs = std::filesystem;

// A fresh directory under /tmp, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/imi-ident-keystore-XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes `contents` to `path` (replacing it) and sets `mode`.
void write_file(const std::string& path, const std::string& contents, fs::perms mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << contents;
  }
  fs::permissions(path, mode);
}

constexpr fs::perms kOwnerRw = fs::perms::owner_read | fs::perms::owner_write;

// Replaces the JSON value of `field` (as the saver writes it: `"field": value`)
// with `value` (raw JSON text).
std::string replace_field(const std::string& text, const std::string& field,
                          const std::string& value) {
  std::string key = "\"" + field + "\": ";
  size_t start = text.find(key);
  REQUIRE(start != std::string::npos);
  start += key.size();
  size_t end = text.find_first_of(",\n}", start);
  REQUIRE(end != std::string::npos);
  return text.substr(0, start) + value + text.substr(end);
}

std::string field_value(const std::string& text, const std::string& field) {
  std::string key = "\"" + field + "\": \"";
  size_t start = text.find(key);
  REQUIRE(start != std::string::npos);
  start += key.size();
  return text.substr(start, text.find('"', start) - start);
}

Seed test_seed(uint8_t first) {
  Seed s;
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<uint8_t>(first + i);
  return s;
}

const std::string kPassword = "correct horse battery staple";

// One saved keystore per test case, plus helpers to load edited copies.
struct Fixture {
  TempDir dir;
  KeyPair key = KeyPair::from_seed(test_seed(1));
  std::string path = dir.file("validator.json");
  std::string text;

  Fixture() {
    REQUIRE(save_keystore(path, key, kPassword).is_ok());
    text = read_file(path);
  }
  // Loads `contents` written with mode 0600 to a new file.
  Status load_text(const std::string& contents, const std::string& password = kPassword) {
    std::string p = dir.file("edited-" + std::to_string(counter_++) + ".json");
    write_file(p, contents, kOwnerRw);
    auto r = load_keystore(p, password);
    return r.is_ok() ? Status::ok() : r.status();
  }

 private:
  int counter_ = 0;
};

TEST_CASE("keystore round trip restores the same key, mode 0600, clear public fields") {
  Fixture fx;
  auto loaded = load_keystore(fx.path, kPassword);
  REQUIRE_MESSAGE(loaded.is_ok(), loaded.status().to_string());
  CHECK(loaded->seed() == fx.key.seed());
  CHECK(loaded->public_key() == fx.key.public_key());

  struct stat st {};
  REQUIRE(::stat(fx.path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);

  CHECK(field_value(fx.text, "public_key") == to_hex(fx.key.public_key()));
  CHECK(field_value(fx.text, "did") == fx.key.did());
  CHECK(field_value(fx.text, "kdf") == "argon2id13");
  CHECK(fx.text.find(to_hex(fx.key.seed())) == std::string::npos);
  // The temp file was renamed, not left behind.
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(fx.dir.path())) ++entries;
  CHECK(entries == 1);
}

TEST_CASE("two saves of one key use different salts and nonces") {
  Fixture fx;
  std::string second = fx.dir.file("second.json");
  REQUIRE(save_keystore(second, fx.key, kPassword).is_ok());
  std::string text2 = read_file(second);
  CHECK(field_value(fx.text, "salt") != field_value(text2, "salt"));
  CHECK(field_value(fx.text, "nonce") != field_value(text2, "nonce"));
  CHECK(field_value(fx.text, "ciphertext") != field_value(text2, "ciphertext"));
}

TEST_CASE("a wrong password is keystore.wrong_password") {
  Fixture fx;
  auto r = load_keystore(fx.path, "correct horse battery stapler");
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == "keystore.wrong_password");
  CHECK(r.status().message().find("wrong password or the file was modified") != std::string::npos);
  CHECK(load_keystore(fx.path, "").status().code() == "keystore.wrong_password");
}

TEST_CASE("any modified ciphertext byte is keystore.wrong_password") {
  Fixture fx;
  std::string ct = field_value(fx.text, "ciphertext");
  for (size_t i = 0; i < ct.size(); i += 7) {
    std::string bad = ct;
    bad[i] = bad[i] == '0' ? '1' : '0';
    CAPTURE(i);
    CHECK(fx.load_text(replace_field(fx.text, "ciphertext", "\"" + bad + "\"")).code() ==
          "keystore.wrong_password");
  }
}

TEST_CASE("edited clear fields are rejected") {
  Fixture fx;
  KeyPair other = KeyPair::from_seed(test_seed(100));
  SUBCASE("public_key alone: the did no longer matches") {
    std::string t = replace_field(fx.text, "public_key", "\"" + to_hex(other.public_key()) + "\"");
    CHECK(fx.load_text(t).code() == "keystore.format");
  }
  SUBCASE("public_key and did together: authenticated data differs") {
    std::string t = replace_field(fx.text, "public_key", "\"" + to_hex(other.public_key()) + "\"");
    t = replace_field(t, "did", "\"" + other.did() + "\"");
    CHECK(fx.load_text(t).code() == "keystore.wrong_password");
  }
  SUBCASE("a small-order public_key") {
    std::string t = replace_field(fx.text, "public_key", "\"01" + std::string(62, '0') + "\"");
    CHECK(fx.load_text(t).code() == "keystore.format");
  }
  SUBCASE("ops_limit") {
    CHECK(fx.load_text(replace_field(fx.text, "ops_limit", "3")).code() ==
          "keystore.wrong_password");
  }
  SUBCASE("salt") {
    std::string salt = field_value(fx.text, "salt");
    salt[0] = salt[0] == 'a' ? 'b' : 'a';
    CHECK(fx.load_text(replace_field(fx.text, "salt", "\"" + salt + "\"")).code() ==
          "keystore.wrong_password");
  }
  SUBCASE("nonce") {
    std::string nonce = field_value(fx.text, "nonce");
    nonce[5] = nonce[5] == 'a' ? 'b' : 'a';
    CHECK(fx.load_text(replace_field(fx.text, "nonce", "\"" + nonce + "\"")).code() ==
          "keystore.wrong_password");
  }
}

TEST_CASE("hostile KDF limits are refused before any derivation") {
  Fixture fx;
  const char* ops_values[] = {"0",  "1",   "9",     "1000000", "18446744073709551615",
                              "-2", "2.5", "\"2\"", "null"};
  for (const char* v : ops_values) {
    CAPTURE(v);
    CHECK(fx.load_text(replace_field(fx.text, "ops_limit", v)).code() == "keystore.format");
  }
  const char* mem_values[] = {"0",         "8192",          "67108863",
                              "268435457", "1099511627776", "18446744073709551616",
                              "-67108864", "6.7e7"};
  for (const char* v : mem_values) {
    CAPTURE(v);
    CHECK(fx.load_text(replace_field(fx.text, "mem_limit", v)).code() == "keystore.format");
  }
}

TEST_CASE("malformed fields are keystore.format") {
  Fixture fx;
  std::string pk = field_value(fx.text, "public_key");
  std::string upper = pk;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::pair<const char*, std::string> edits[] = {
      {"version", "2"},
      {"version", "\"1\""},
      {"kdf", "\"scrypt\""},
      {"cipher", "\"aes256gcm\""},
      {"salt", "\"00\""},
      {"nonce", "\"" + std::string(46, '0') + "\""},
      {"ciphertext", "\"" + std::string(94, '0') + "\""},
      {"ciphertext", "\"" + std::string(98, '0') + "\""},
      {"public_key", "\"" + upper + "\""},
      {"public_key", "\"" + pk.substr(2) + "\""},
      {"public_key", "42"},
      {"did", "\"did:imi:\""},
      {"did", "null"},
  };
  for (const auto& [field, value] : edits) {
    CAPTURE(field);
    CAPTURE(value);
    CHECK(fx.load_text(replace_field(fx.text, field, value)).code() == "keystore.format");
  }
  // A duplicate, an unknown and a missing member.
  std::string dup = fx.text;
  dup.insert(dup.find('{') + 1, "\"version\": 1,");
  CHECK(fx.load_text(dup).code() == "keystore.format");
  std::string unknown = fx.text;
  unknown.insert(unknown.find('{') + 1, "\"comment\": \"hi\",");
  CHECK(fx.load_text(unknown).code() == "keystore.format");
  std::string missing = fx.text;
  size_t at = missing.find("\"cipher\"");
  missing.erase(at, missing.find('\n', at) - at + 1);
  CHECK(fx.load_text(missing).code() == "keystore.format");
}

TEST_CASE("every truncation of the file is keystore.format") {
  Fixture fx;
  size_t end = fx.text.rfind('}');
  REQUIRE(end != std::string::npos);
  for (size_t n = 0; n <= end; ++n) {
    CAPTURE(n);
    CHECK(fx.load_text(fx.text.substr(0, n)).code() == "keystore.format");
  }
  // Without only the trailing newline it is still the same keystore.
  CHECK(fx.load_text(fx.text.substr(0, end + 1)).is_ok());
}

TEST_CASE("garbage files are keystore.format, never a crash") {
  Fixture fx;
  std::string random(512, '\0');
  randombytes_buf(random.data(), random.size());
  const std::string inputs[] = {
      "",
      "null",
      "[]",
      "\"keystore\"",
      "{}",
      "{",
      "\xef\xbb\xbf{}",
      random,
      std::string(60000, '['),
      std::string(30000, '{') + std::string(30000, '}'),
      fx.text + "{}",
      fx.text.substr(0, fx.text.size() - 1) + std::string("\0garbage", 8),
      std::string("\xff\xfe", 2) + fx.text,
      std::string(kKeystoreFileBytesMax - fx.text.size() + 1, ' ') + fx.text,  // too large
  };
  for (const auto& in : inputs) {
    CAPTURE(in.size());
    CHECK(fx.load_text(in).code() == "keystore.format");
  }
  // Just under the cap, padding is harmless whitespace.
  CHECK(fx.load_text(std::string(kKeystoreFileBytesMax - fx.text.size(), ' ') + fx.text).is_ok());
}

TEST_CASE("a missing file is keystore.io") {
  TempDir dir;
  auto r = load_keystore(dir.file("absent.json"), kPassword);
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == "keystore.io");
  CHECK(load_keystore(dir.path().string(), kPassword).status().code() == "keystore.io");
}

TEST_CASE("a file open to group or others is keystore.permissions") {
  Fixture fx;
  const fs::perms modes[] = {
      kOwnerRw | fs::perms::group_read,
      kOwnerRw | fs::perms::others_read,
      kOwnerRw | fs::perms::group_write,
      fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read,
  };
  for (fs::perms m : modes) {
    fs::permissions(fx.path, m);
    auto r = load_keystore(fx.path, kPassword);
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == "keystore.permissions");
    CHECK(r.status().message().find("chmod 600") != std::string::npos);
  }
  fs::permissions(fx.path, fs::perms::owner_read);
  CHECK(load_keystore(fx.path, kPassword).is_ok());
}

TEST_CASE("save refuses to overwrite and leaves the existing file intact") {
  Fixture fx;
  KeyPair other = KeyPair::from_seed(test_seed(50));
  Status s = save_keystore(fx.path, other, "another password");
  CHECK(s.code() == "keystore.exists");
  CHECK(read_file(fx.path) == fx.text);
  auto loaded = load_keystore(fx.path, kPassword);
  REQUIRE(loaded.is_ok());
  CHECK(loaded->public_key() == fx.key.public_key());
  // Not even through a dangling symlink.
  std::string link = fx.dir.file("link.json");
  fs::create_symlink(fx.dir.file("nowhere.json"), link);
  CHECK(save_keystore(link, other, kPassword).code() == "keystore.exists");
  CHECK_FALSE(fs::exists(fx.dir.file("nowhere.json")));
}

TEST_CASE("save reports unwritable paths and out-of-range options") {
  TempDir dir;
  KeyPair key = KeyPair::from_seed(test_seed(7));
  CHECK(save_keystore(dir.file("no/such/dir/k.json"), key, kPassword).code() == "keystore.io");
  KeystoreOptions weak;
  weak.ops_limit = 1;
  CHECK(save_keystore(dir.file("a.json"), key, kPassword, weak).code() == "keystore.options");
  KeystoreOptions little_memory;
  little_memory.mem_limit = 1024 * 1024;
  CHECK(save_keystore(dir.file("b.json"), key, kPassword, little_memory).code() ==
        "keystore.options");
  KeystoreOptions huge;
  huge.mem_limit = kKeystoreMemLimitMax + 1;
  CHECK(save_keystore(dir.file("c.json"), key, kPassword, huge).code() == "keystore.options");
  CHECK_FALSE(fs::exists(dir.file("a.json")));

  KeystoreOptions stronger;
  stronger.ops_limit = 3;
  REQUIRE(save_keystore(dir.file("d.json"), key, kPassword, stronger).is_ok());
  auto loaded = load_keystore(dir.file("d.json"), kPassword);
  REQUIRE(loaded.is_ok());
  CHECK(loaded->seed() == key.seed());
}

// Builds a keystore by hand from the documented format: proves the format
// (including the associated data) is what the header says, and lets us seal a
// seed that does not match the stated public key.
std::string seal_by_hand(const std::string& saved_text, const Seed& seed) {
  auto salt = from_hex_fixed<crypto_pwhash_SALTBYTES>(field_value(saved_text, "salt"));
  auto nonce = from_hex_fixed<24>(field_value(saved_text, "nonce"));
  REQUIRE(salt.has_value());
  REQUIRE(nonce.has_value());
  std::array<uint8_t, 32> key{};
  REQUIRE(crypto_pwhash(key.data(), key.size(), kPassword.data(), kPassword.size(), salt->data(), 2,
                        64ull * 1024 * 1024, crypto_pwhash_ALG_ARGON2ID13) == 0);
  std::string ad =
      "IMI/keystore/v1\nversion=1\nkdf=argon2id13\nops_limit=2\nmem_limit=67108864\n"
      "cipher=xchacha20poly1305-ietf\npublic_key=" +
      field_value(saved_text, "public_key") + "\ndid=" + field_value(saved_text, "did") + "\n";
  std::array<uint8_t, 48> ct{};
  unsigned long long ct_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(ct.data(), &ct_len, seed.data(), seed.size(),
                                             reinterpret_cast<const uint8_t*>(ad.data()), ad.size(),
                                             nullptr, nonce->data(), key.data());
  return replace_field(saved_text, "ciphertext", "\"" + to_hex(ct) + "\"");
}

TEST_CASE("the associated data is exactly the documented clear fields") {
  Fixture fx;
  CHECK(fx.load_text(seal_by_hand(fx.text, fx.key.seed())).is_ok());
}

TEST_CASE("a sealed seed that does not derive the stated public key is keystore.format") {
  Fixture fx;
  Status s = fx.load_text(seal_by_hand(fx.text, test_seed(200)));
  CHECK(s.code() == "keystore.format");
}

}  // namespace
}  // namespace imi::identity

#include "identity/keystore.h"

#include <fcntl.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string_view>

namespace imi::identity {
namespace {

constexpr unsigned kVersion = 1;
constexpr std::string_view kKdfName = "argon2id13";
constexpr std::string_view kCipherName = "xchacha20poly1305-ietf";

constexpr size_t kSaltBytes = crypto_pwhash_argon2id_SALTBYTES;
constexpr size_t kKeyBytes = crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kCiphertextBytes =
    std::tuple_size_v<Seed> + crypto_aead_xchacha20poly1305_ietf_ABYTES;

using Salt = std::array<uint8_t, kSaltBytes>;
using Nonce = std::array<uint8_t, kNonceBytes>;
using Ciphertext = std::array<uint8_t, kCiphertextBytes>;

constexpr unsigned long long kOpsLimitMin = crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE;
constexpr size_t kMemLimitMin = crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE;
static_assert(KeystoreOptions{}.ops_limit == kOpsLimitMin);
static_assert(KeystoreOptions{}.mem_limit == kMemLimitMin);
static_assert(kKeystoreOpsLimitMax <= crypto_pwhash_argon2id_OPSLIMIT_MAX);
static_assert(kKeystoreMemLimitMax <= crypto_pwhash_argon2id_MEMLIMIT_MAX);

// Everything the file holds besides the secret.
struct ClearFields {
  unsigned long long ops_limit = 0;
  size_t mem_limit = 0;
  Salt salt{};
  Nonce nonce{};
  PublicKey public_key{};
  std::string did;
};

// Wipes a secret buffer when it goes out of scope, on every return path.
template <size_t N>
struct Secret {
  std::array<uint8_t, N> bytes{};
  Secret() = default;
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  ~Secret() { sodium_memzero(bytes.data(), bytes.size()); }
};

Status io_error(std::string_view what, const std::string& path, int err) {
  return Status::error("keystore.io", std::string(what) + " " + path + ": " + std::strerror(err));
}

Status format_error(const std::string& path, std::string_view what) {
  return Status::error("keystore.format",
                       path + " is not a valid keystore (" + std::string(what) + ")");
}

Status check_limits(unsigned long long ops_limit, size_t mem_limit) {
  if (ops_limit < kOpsLimitMin || ops_limit > kKeystoreOpsLimitMax || mem_limit < kMemLimitMin ||
      mem_limit > kKeystoreMemLimitMax) {
    return Status::error("keystore.options",
                         "ops_limit must be in [" + std::to_string(kOpsLimitMin) + ", " +
                             std::to_string(kKeystoreOpsLimitMax) + "] and mem_limit in [" +
                             std::to_string(kMemLimitMin) + ", " +
                             std::to_string(kKeystoreMemLimitMax) + "] bytes");
  }
  return Status::ok();
}

// The associated data binds every clear field that is not already an input
// of the key derivation (salt) or of the cipher (nonce): editing any of them
// makes decryption fail.
std::string associated_data(const ClearFields& f) {
  std::string ad = "IMI/keystore/v1\n";
  ad += "version=" + std::to_string(kVersion) + "\n";
  ad += "kdf=" + std::string(kKdfName) + "\n";
  ad += "ops_limit=" + std::to_string(f.ops_limit) + "\n";
  ad += "mem_limit=" + std::to_string(f.mem_limit) + "\n";
  ad += "cipher=" + std::string(kCipherName) + "\n";
  ad += "public_key=" + to_hex(f.public_key) + "\n";
  ad += "did=" + f.did + "\n";
  return ad;
}

Status derive_key(const std::string& password, const ClearFields& f, Secret<kKeyBytes>& key) {
  if (crypto_pwhash(key.bytes.data(), key.bytes.size(), password.data(), password.size(),
                    f.salt.data(), f.ops_limit, f.mem_limit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::error("keystore.kdf", "deriving the key from the password failed (mem_limit " +
                                             std::to_string(f.mem_limit) +
                                             " bytes): free memory and retry");
  }
  return Status::ok();
}

std::string encode(const ClearFields& f, const Ciphertext& ciphertext) {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  auto str = [&w](std::string_view key, std::string_view value) {
    w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  };
  w.StartObject();
  w.Key("version");
  w.Uint(kVersion);
  str("kdf", kKdfName);
  w.Key("ops_limit");
  w.Uint64(f.ops_limit);
  w.Key("mem_limit");
  w.Uint64(f.mem_limit);
  str("salt", to_hex(f.salt));
  str("cipher", kCipherName);
  str("nonce", to_hex(f.nonce));
  str("ciphertext", to_hex(ciphertext));
  str("public_key", to_hex(f.public_key));
  str("did", f.did);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

// Decodes the JSON text of a keystore. Exactly the known members, each once.
Status decode(const std::string& path, std::string_view text, ClearFields& f,
              Ciphertext& ciphertext) {
  if (text.find('\0') != std::string_view::npos) return format_error(path, "NUL byte");
  rapidjson::Document doc;
  // Iterative parsing: deep nesting in a hostile file cannot overflow the stack.
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(text.data(),
                                                                                    text.size());
  if (doc.HasParseError()) {
    return format_error(path, std::string("JSON error at byte ") +
                                  std::to_string(doc.GetErrorOffset()) + ": " +
                                  rapidjson::GetParseError_En(doc.GetParseError()));
  }
  if (!doc.IsObject()) return format_error(path, "not a JSON object");

  constexpr std::array<std::string_view, 10> kFields = {
      "version", "kdf",   "ops_limit",  "mem_limit",  "salt",
      "cipher",  "nonce", "ciphertext", "public_key", "did"};
  std::array<const rapidjson::Value*, kFields.size()> values{};
  const rapidjson::Document& cdoc = doc;  // const iterators: no ambiguous operator== under clang
  for (const auto& m : cdoc.GetObject()) {
    std::string_view name(m.name.GetString(), m.name.GetStringLength());
    size_t i = 0;
    while (i < kFields.size() && kFields[i] != name) ++i;
    if (i == kFields.size()) return format_error(path, "unknown field");
    if (values[i] != nullptr) return format_error(path, "duplicate field " + std::string(name));
    values[i] = &m.value;
  }
  for (size_t i = 0; i < kFields.size(); ++i) {
    if (values[i] == nullptr) return format_error(path, "missing " + std::string(kFields[i]));
  }
  auto text_of = [](const rapidjson::Value* v) -> std::optional<std::string_view> {
    if (!v->IsString()) return std::nullopt;
    return std::string_view(v->GetString(), v->GetStringLength());
  };
  const auto& [version, kdf, ops, mem, salt, cipher, nonce, ct, pk, did] = values;

  if (!version->IsUint() || version->GetUint() != kVersion) {
    return format_error(path, "unsupported version; this build reads version 1");
  }
  if (text_of(kdf) != kKdfName) return format_error(path, "kdf must be argon2id13");
  if (text_of(cipher) != kCipherName) {
    return format_error(path, "cipher must be xchacha20poly1305-ietf");
  }
  if (!ops->IsUint64() || !mem->IsUint64() ||
      !check_limits(ops->GetUint64(), mem->GetUint64()).is_ok()) {
    return format_error(path, "ops_limit or mem_limit out of range");
  }
  f.ops_limit = ops->GetUint64();
  f.mem_limit = static_cast<size_t>(mem->GetUint64());

  auto hex_field = [&]<size_t N>(const rapidjson::Value* v, std::array<uint8_t, N>& out,
                                 std::string_view name) -> Status {
    auto s = text_of(v);
    auto decoded = s ? from_hex_fixed<N>(*s) : std::nullopt;
    if (!decoded) {
      return format_error(path, std::string(name) + " must be " + std::to_string(2 * N) +
                                    " lowercase hex characters");
    }
    out = *decoded;
    return Status::ok();
  };
  IMI_RETURN_IF_ERROR(hex_field(salt, f.salt, "salt"));
  IMI_RETURN_IF_ERROR(hex_field(nonce, f.nonce, "nonce"));
  IMI_RETURN_IF_ERROR(hex_field(ct, ciphertext, "ciphertext"));
  IMI_RETURN_IF_ERROR(hex_field(pk, f.public_key, "public_key"));
  if (!is_valid_public_key(f.public_key)) return format_error(path, "invalid public_key");
  auto did_text = text_of(did);
  if (!did_text || *did_text != did_from_key(f.public_key)) {
    return format_error(path, "did does not match public_key");
  }
  f.did = std::string(*did_text);
  return Status::ok();
}

// Returns errno or 0.
int write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

// Moves `tmp` to `path` unless `path` exists (atomically where the file
// system supports RENAME_NOREPLACE, else with link + unlink, which is also
// atomic with respect to an existing target). Returns errno or 0.
int rename_no_replace(const std::string& tmp, const std::string& path) {
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return errno;
  if (::link(tmp.c_str(), path.c_str()) != 0) return errno;
  ::unlink(tmp.c_str());
  return 0;
}

Status write_new_file(const std::string& path, std::string_view contents) {
  std::filesystem::path p(path);
  std::string dir = p.has_parent_path() ? p.parent_path().string() : std::string(".");
  std::array<uint8_t, 8> suffix;
  randombytes_buf(suffix.data(), suffix.size());
  std::string tmp = path + ".tmp-" + to_hex(suffix);

  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return io_error("cannot create", tmp, errno);
  // The umask can only clear bits, but be explicit: the file is for its owner.
  int err = ::fchmod(fd, 0600) == 0 ? 0 : errno;
  if (err == 0) err = write_all(fd, contents);
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    return io_error("cannot write", tmp, err);
  }
  err = rename_no_replace(tmp, path);
  if (err != 0) {
    ::unlink(tmp.c_str());
    if (err == EEXIST) {
      return Status::error("keystore.exists",
                           path + " already exists; choose another path or remove it first");
    }
    return io_error("cannot move the keystore into place at", path, err);
  }
  // Make the new directory entry durable too.
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return io_error("cannot open directory", dir, errno);
  err = ::fsync(dfd) == 0 ? 0 : errno;
  ::close(dfd);
  if (err != 0) return io_error("cannot sync directory", dir, err);
  return Status::ok();
}

Status read_private_file(const std::string& path, std::string& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return Status::error("keystore.io", "no keystore at " + path + ": check the path");
    }
    return io_error("cannot open", path, errno);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return io_error("cannot stat", path, err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::error("keystore.io", path + " is not a regular file");
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status::error("keystore.permissions", path + " has mode " + mode +
                                                     ", open to other users; run chmod 600 " +
                                                     path + " (and consider the key exposed)");
  }
  out.clear();
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return io_error("cannot read", path, err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > kKeystoreFileBytesMax) {
      ::close(fd);
      return format_error(path, "larger than " + std::to_string(kKeystoreFileBytesMax) + " bytes");
    }
  }
  ::close(fd);
  return Status::ok();
}

}  // namespace

Status save_keystore(const std::string& path, const KeyPair& key, const std::string& password,
                     const KeystoreOptions& options) {
  IMI_RETURN_IF_ERROR(check_limits(options.ops_limit, options.mem_limit));
  // Fail fast before the (deliberately slow) key derivation; the final
  // no-replace rename still guards against a file created meanwhile.
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    return Status::error("keystore.exists",
                         path + " already exists; choose another path or remove it first");
  }
  ClearFields f;
  f.ops_limit = options.ops_limit;
  f.mem_limit = options.mem_limit;
  randombytes_buf(f.salt.data(), f.salt.size());
  randombytes_buf(f.nonce.data(), f.nonce.size());
  f.public_key = key.public_key();
  f.did = key.did();

  Secret<kKeyBytes> k;
  IMI_RETURN_IF_ERROR(derive_key(password, f, k));
  std::string ad = associated_data(f);
  Ciphertext ciphertext;
  unsigned long long ciphertext_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(ciphertext.data(), &ciphertext_len, key.seed().data(),
                                             key.seed().size(),
                                             reinterpret_cast<const unsigned char*>(ad.data()),
                                             ad.size(), nullptr, f.nonce.data(), k.bytes.data());
  return write_new_file(path, encode(f, ciphertext));
}

Result<KeyPair> load_keystore(const std::string& path, const std::string& password) {
  std::string text;
  IMI_RETURN_IF_ERROR(read_private_file(path, text));
  ClearFields f;
  Ciphertext ciphertext;
  IMI_RETURN_IF_ERROR(decode(path, text, f, ciphertext));

  Secret<kKeyBytes> k;
  IMI_RETURN_IF_ERROR(derive_key(password, f, k));
  std::string ad = associated_data(f);
  Secret<std::tuple_size_v<Seed>> seed;
  unsigned long long seed_len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(seed.bytes.data(), &seed_len, nullptr,
                                                 ciphertext.data(), ciphertext.size(),
                                                 reinterpret_cast<const unsigned char*>(ad.data()),
                                                 ad.size(), f.nonce.data(), k.bytes.data()) != 0) {
    return Status::error("keystore.wrong_password",
                         "cannot decrypt " + path + ": wrong password or the file was modified");
  }
  KeyPair key = KeyPair::from_seed(seed.bytes);
  if (key.public_key() != f.public_key) {
    return format_error(path, "the decrypted seed does not derive public_key");
  }
  return key;
}

}  // namespace imi::identity

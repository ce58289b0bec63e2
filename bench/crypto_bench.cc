// Prints single-thread figures for the chain's hot crypto: Ed25519 signing and
// strict verification of domain-tagged messages (identity/keys.h), SHA-256 of
// 64-byte inputs through base/sha256.h (OpenSSL EVP) against libsodium's
// portable crypto_hash_sha256, and the keystore's Argon2id unlock time.
//
//   build-x/bench/crypto_bench [seconds_per_figure]   (default 1.0)
#include <sodium.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "identity/keys.h"
#include "identity/keystore.h"

namespace {

using Clock = std::chrono::steady_clock;
using imi::identity::Domain;
using imi::identity::KeyPair;

// Runs `batch` (which does `batch_size` operations) until `seconds` pass;
// returns operations per second.
template <typename F>
double rate(double seconds, size_t batch_size, F&& batch) {
  batch();  // warm up caches and lazy initialisation
  size_t ops = 0;
  auto start = Clock::now();
  std::chrono::duration<double> elapsed{};
  do {
    batch();
    ops += batch_size;
    elapsed = Clock::now() - start;
  } while (elapsed.count() < seconds);
  return static_cast<double>(ops) / elapsed.count();
}

volatile uint8_t g_sink;  // keeps results observable so the work is not optimised away

}  // namespace

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
  if (!(seconds > 0)) {
    std::fprintf(stderr, "usage: %s [seconds_per_figure > 0]\n", argv[0]);
    return 2;
  }
  if (sodium_init() < 0) return 1;

  // A transaction-sized canonical JSON body (~250 bytes).
  const std::string body = R"({"app":"anchor","args":{"hash":")" + std::string(64, 'a') +
                           R"("},"chain":"imi-bench","from":"did:imi:)" + std::string(40, 'b') +
                           R"(","key":")" + std::string(64, 'c') +
                           R"(","nonce":12345,"op":"record","v":1})";
  constexpr size_t kKeys = 64;
  std::vector<KeyPair> keys;
  std::vector<imi::identity::Signature> sigs;
  for (size_t i = 0; i < kKeys; ++i) {
    keys.push_back(KeyPair::generate());
    sigs.push_back(keys.back().sign(Domain::kTx, body));
  }

  double sign_rate = rate(seconds, kKeys, [&] {
    for (const auto& k : keys) g_sink = k.sign(Domain::kTx, body)[0];
  });
  size_t failures = 0;
  double verify_rate = rate(seconds, kKeys, [&] {
    for (size_t i = 0; i < kKeys; ++i) {
      if (!imi::identity::verify(Domain::kTx, keys[i].public_key(), body, sigs[i])) ++failures;
    }
  });
  if (failures != 0) {
    std::fprintf(stderr, "verification failed %zu times\n", failures);
    return 1;
  }

  // The two halves of the strict check: identity::verify caches keys that
  // passed the (costly) subgroup check, so with these 64 keys it pays only for
  // the signature check.
  const std::string tagged = imi::identity::signed_bytes(Domain::kTx, body);
  double sodium_verify_rate = rate(seconds, kKeys, [&] {
    for (size_t i = 0; i < kKeys; ++i) {
      failures += crypto_sign_verify_detached(sigs[i].data(),
                                              reinterpret_cast<const uint8_t*>(tagged.data()),
                                              tagged.size(), keys[i].public_key().data()) != 0;
    }
  });
  double key_check_rate = rate(seconds, kKeys, [&] {
    for (size_t i = 0; i < kKeys; ++i) {
      failures += crypto_core_ed25519_is_valid_point(keys[i].public_key().data()) != 1;
    }
  });
  if (failures != 0) {
    std::fprintf(stderr, "verification failed %zu times\n", failures);
    return 1;
  }

  constexpr size_t kHashBatch = 1024;
  std::array<uint8_t, 64> block{};
  randombytes_buf(block.data(), block.size());
  double evp_rate = rate(seconds, kHashBatch, [&] {
    for (size_t i = 0; i < kHashBatch; ++i) {
      block[0] = static_cast<uint8_t>(i);
      g_sink = imi::sha256(imi::ByteView(block))[0];
    }
  });
  double sodium_rate = rate(seconds, kHashBatch, [&] {
    std::array<uint8_t, 32> out;
    for (size_t i = 0; i < kHashBatch; ++i) {
      block[0] = static_cast<uint8_t>(i);
      crypto_hash_sha256(out.data(), block.data(), block.size());
      g_sink = out[0];
    }
  });

  // Keystore unlock with the default (INTERACTIVE) Argon2id limits.
  std::string dir_template = "/tmp/imi-crypto-bench-XXXXXX";
  if (::mkdtemp(dir_template.data()) == nullptr) return 1;
  std::string path = dir_template + "/k.json";
  imi::Status saved = imi::identity::save_keystore(path, keys[0], "bench password");
  double unlock_ms = -1;
  if (saved.is_ok()) {
    auto start = Clock::now();
    auto loaded = imi::identity::load_keystore(path, "bench password");
    unlock_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (!loaded.is_ok()) unlock_ms = -1;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_template, ec);

  double load[1] = {-1};
  ::getloadavg(load, 1);
  std::printf("one thread, %.1f s per figure, libsodium %s, load average %.2f\n", seconds,
              sodium_version_string(), load[0]);
  std::printf("ed25519 sign   (IMI/tx/v1, %zu-byte body)  %10.0f /s\n", body.size(), sign_rate);
  std::printf("ed25519 verify (strict, same messages)     %10.0f /s\n", verify_rate);
  std::printf("  crypto_sign_verify_detached alone       %10.0f /s\n", sodium_verify_rate);
  std::printf("  is_valid_point alone (uncached key)     %10.0f /s\n", key_check_rate);
  std::printf("sha256 64 B, base/sha256.h (OpenSSL EVP)   %10.0f /s  (%.0f MB/s)\n", evp_rate,
              evp_rate * 64 / 1e6);
  std::printf("sha256 64 B, libsodium crypto_hash_sha256  %10.0f /s  (%.0f MB/s)\n", sodium_rate,
              sodium_rate * 64 / 1e6);
  if (unlock_ms >= 0) {
    std::printf("keystore unlock (argon2id, ops 2, 64 MiB)  %10.1f ms\n", unlock_ms);
  } else {
    std::printf("keystore unlock failed: %s\n", saved.to_string().c_str());
  }
  return 0;
}

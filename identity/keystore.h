// Encrypted keystore file for a validator's or a wallet's Ed25519 seed.
// The file is JSON: the key is derived from the password with crypto_pwhash
// (Argon2id, a random salt, the limits recorded in the file) and the seed is
// sealed with XChaCha20-Poly1305; the public key and DID are stored in clear
// (authenticated as associated data, together with the format version, the
// algorithm names and the KDF limits) so tools can show them without the
// password. Files are written with mode 0600 via a synced temp file + rename.
//
//   {"version":1,"kdf":"argon2id13","ops_limit":2,"mem_limit":67108864,
//    "salt":<32 hex>,"cipher":"xchacha20poly1305-ietf","nonce":<48 hex>,
//    "ciphertext":<96 hex>,"public_key":<64 hex>,"did":"did:imi:..."}
//
// Loading never trusts the file: its size is capped, its KDF limits must lie
// within [the defaults below, the maxima below], so a hostile file cannot make
// the loader allocate gigabytes or spin for minutes.
// Both functions are thread-safe (they share no state).
#pragma once

#include <cstddef>
#include <string>

#include "base/status.h"
#include "identity/keys.h"

namespace imi::identity {

struct KeystoreOptions {
  // crypto_pwhash limits; the defaults are libsodium's INTERACTIVE ones so a
  // node starts in well under a second. Tests may lower nothing below these.
  unsigned long long ops_limit = 2;        // crypto_pwhash_OPSLIMIT_INTERACTIVE
  size_t mem_limit = 64ull * 1024 * 1024;  // crypto_pwhash_MEMLIMIT_INTERACTIVE
};

// Largest KDF limits accepted when saving or loading (libsodium's MODERATE
// memory, a few passes more than SENSITIVE).
inline constexpr unsigned long long kKeystoreOpsLimitMax = 8;
inline constexpr size_t kKeystoreMemLimitMax = 256ull * 1024 * 1024;
// Largest keystore file read; a real one is about 500 bytes.
inline constexpr size_t kKeystoreFileBytesMax = 64 * 1024;

// Writes `key`'s seed to a new file at `path`, encrypted under `password`.
// Errors: "keystore.io" (cannot write), "keystore.exists" (refuses to
// overwrite), "keystore.options" (limits outside [defaults, maxima]),
// "keystore.kdf" (crypto_pwhash failed, e.g. out of memory).
Status save_keystore(const std::string& path, const KeyPair& key, const std::string& password,
                     const KeystoreOptions& options = {});

// Reads and decrypts the keystore at `path`.
// Errors: "keystore.io" (missing or unreadable), "keystore.permissions" (file
// readable or writable by group or others), "keystore.format" (not a
// keystore: malformed, truncated or oversized JSON, a missing, unknown or
// duplicate field, wrong hex lengths, limits out of range, a DID that does
// not match the public key, or a seed that does not re-derive the public key),
// "keystore.kdf" (crypto_pwhash failed), "keystore.wrong_password"
// (decryption failed: wrong password, or the ciphertext or any authenticated
// clear field was modified).
Result<KeyPair> load_keystore(const std::string& path, const std::string& password);

}  // namespace imi::identity

// Encrypted keystore file for a validator's or a wallet's Ed25519 seed.
// The file is JSON: the key is derived from the password with crypto_pwhash
// (Argon2id, a random salt, the limits recorded in the file) and the seed is
// sealed with XChaCha20-Poly1305; the public key and DID are stored in clear
// (authenticated as associated data) so tools can show them without the
// password. Files are written with mode 0600 via a temp file + rename.
#pragma once

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

// Errors: "keystore.io" (cannot write), "keystore.exists" (refuses to overwrite).
Status save_keystore(const std::string& path, const KeyPair& key, const std::string& password,
                     const KeystoreOptions& options = {});

// Errors: "keystore.io" (missing or unreadable), "keystore.format" (not a
// keystore or tampered clear fields), "keystore.wrong_password" (decryption
// failed: wrong password or tampered ciphertext), "keystore.permissions"
// (file readable by group or others).
Result<KeyPair> load_keystore(const std::string& path, const std::string& password);

}  // namespace imi::identity

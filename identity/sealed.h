// Sealed boxes (libsodium crypto_box_seal) addressed to an Ed25519 identity
// key: the recipient's Ed25519 public key is converted to X25519, so anything
// sealed to a DID's key is opened with that key's seed. The sender stays
// anonymous and cannot open what it sealed. Used for the answer and salt a
// department receives, and for access-log openings addressed to a resident
// and to auditors. Thread-safe (no state).
#pragma once

#include "base/bytes.h"
#include "base/status.h"
#include "identity/keys.h"

namespace imi::identity {

// Overhead crypto_box_seal adds to a message (ephemeral key + MAC): 48 bytes.
constexpr size_t kSealedOverheadBytes = 48;

// Seals `message` to `recipient`. sealed.bad_key if the key is not a valid
// Ed25519 public key (it then has no X25519 counterpart).
Result<Bytes> seal(const PublicKey& recipient, ByteView message);

// Opens a box sealed to `recipient.public_key()`. sealed.cannot_open if it
// was sealed to another key, was altered, or is shorter than the overhead.
Result<Bytes> open_sealed(const KeyPair& recipient, ByteView box);

}  // namespace imi::identity

// Internal to identity/sdjwt*: JSON and JWS helpers. identity/ sits below
// ledger/ (DESIGN "Layers"), so it uses RapidJSON directly rather than the
// ledger's strict parser; JWT payloads are not JCS anyway.
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "identity/keys.h"

namespace imi::identity::sdjwt::internal {

using Pool = rapidjson::MemoryPoolAllocator<>;

// Parses UTF-8-validated JSON of at most kSdJwtBytesMax bytes, nested at most
// 32 deep, with no duplicate member names (RFC 9901 requires rejecting them).
// With `pool`, the document allocates from it (and must not outlive it): one
// pool per verification avoids a fresh 64 KiB chunk for every small document.
std::optional<rapidjson::Document> parse_json(std::string_view text, Pool* pool = nullptr);
// Compact JSON of a value (member order as stored).
std::string to_json(const rapidjson::Value& v);

// A compact JWS: b64url(header) "." b64url(payload) "." b64url(Ed25519 sig).
std::string sign_jws(const KeyPair& key, std::string_view header_json,
                     std::string_view payload_json);

struct Jws {
  rapidjson::Document header;
  rapidjson::Document payload;
  std::string signing_input;
  Signature sig{};
};
// Splits and decodes a compact JWS (no signature check); nullopt if malformed.
std::optional<Jws> decode_jws(std::string_view jws, Pool* pool = nullptr);

// Reads an Ed25519 OKP JWK's "x"; nullopt if it is not one.
std::optional<PublicKey> jwk_key(const rapidjson::Value& jwk);

}  // namespace imi::identity::sdjwt::internal

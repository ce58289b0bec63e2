#include "identity/sdjwt_json.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <set>

#include "identity/base64url.h"
#include "identity/sdjwt.h"

namespace imi::identity::sdjwt::internal {
namespace {

constexpr int kDepthMax = 32;

bool well_formed(const rapidjson::Value& v, int depth) {
  if (depth > kDepthMax) return false;
  if (v.IsObject()) {
    std::set<std::string_view> names;
    for (const auto& m : v.GetObject()) {
      if (!names.emplace(m.name.GetString(), m.name.GetStringLength()).second) return false;
      if (!well_formed(m.value, depth + 1)) return false;
    }
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray()) {
      if (!well_formed(e, depth + 1)) return false;
    }
  }
  return true;
}

}  // namespace

std::optional<rapidjson::Document> parse_json(std::string_view text, Pool* pool) {
  if (text.size() > kSdJwtBytesMax) return std::nullopt;
  rapidjson::Document d(pool);
  // The iterative parser cannot overflow the stack; trailing non-whitespace
  // is an error (kParseErrorDocumentRootNotSingular). Depth and duplicate
  // names are checked by the walk below.
  d.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(text.data(),
                                                                                  text.size());
  if (d.HasParseError()) return std::nullopt;
  if (!well_formed(d, 0)) return std::nullopt;
  return d;
}

std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}

std::string sign_jws(const KeyPair& key, std::string_view header_json,
                     std::string_view payload_json) {
  std::string input = base64url_encode(header_json) + "." + base64url_encode(payload_json);
  Signature sig = key.sign_raw(as_bytes(input));
  return input + "." + base64url_encode(ByteView(sig.data(), sig.size()));
}

std::optional<Jws> decode_jws(std::string_view jws, Pool* pool) {
  size_t d1 = jws.find('.');
  if (d1 == std::string_view::npos) return std::nullopt;
  size_t d2 = jws.find('.', d1 + 1);
  if (d2 == std::string_view::npos || jws.find('.', d2 + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  auto header = base64url_decode_string(jws.substr(0, d1));
  auto payload = base64url_decode_string(jws.substr(d1 + 1, d2 - d1 - 1));
  auto sig = base64url_decode(jws.substr(d2 + 1));
  if (!header || !payload || !sig || sig->size() != 64) return std::nullopt;
  auto h = parse_json(*header, pool);
  auto p = parse_json(*payload, pool);
  if (!h || !p || !h->IsObject() || !p->IsObject()) return std::nullopt;
  Jws out;
  out.header = std::move(*h);
  out.payload = std::move(*p);
  out.signing_input = std::string(jws.substr(0, d2));
  std::copy(sig->begin(), sig->end(), out.sig.begin());
  return out;
}

std::optional<PublicKey> jwk_key(const rapidjson::Value& jwk) {
  if (!jwk.IsObject()) return std::nullopt;
  auto str = [&](const char* name) -> std::optional<std::string_view> {
    auto it = jwk.FindMember(name);
    if (it == jwk.MemberEnd() || !it->value.IsString()) return std::nullopt;
    return std::string_view(it->value.GetString(), it->value.GetStringLength());
  };
  if (str("kty") != "OKP" || str("crv") != "Ed25519") return std::nullopt;
  auto x = str("x");
  if (!x) return std::nullopt;
  auto raw = base64url_decode(*x);
  if (!raw || raw->size() != 32) return std::nullopt;
  PublicKey k{};
  std::copy(raw->begin(), raw->end(), k.begin());
  return k;
}

}  // namespace imi::identity::sdjwt::internal

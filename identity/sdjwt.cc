#include "identity/sdjwt.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sodium.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include "base/sha256.h"
#include "identity/base64url.h"
#include "identity/sdjwt_json.h"

namespace imi::identity::sdjwt {
namespace {

using internal::parse_json;
using internal::to_json;

constexpr std::string_view kReserved[] = {"iss", "vct",    "iat", "nbf",     "exp",
                                          "cnf", "status", "_sd", "_sd_alg", "..."};

Status bad_request(std::string message) {
  return Status::error("sdjwt.bad_request", std::move(message));
}

void fill_random(const RandomSource& random, uint8_t* out, size_t n) {
  if (random) {
    random(out, n);
  } else {
    if (sodium_init() < 0) std::abort();  // no randomness at all: unrecoverable
    randombytes_buf(out, n);
  }
}

std::string random_b64(const RandomSource& random, size_t n) {
  Bytes b(n);
  fill_random(random, b.data(), n);
  return base64url_encode(b);
}

rapidjson::Value str(std::string_view s, rapidjson::Document::AllocatorType& a) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
  int64_t y;
  unsigned m, d;
};
Civil civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

std::optional<Civil> parse_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  auto num = [&](size_t from, size_t len) -> std::optional<unsigned> {
    unsigned v = 0;
    for (size_t i = from; i < from + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + static_cast<unsigned>(s[i] - '0');
    }
    return v;
  };
  auto y = num(0, 4), m = num(5, 2), d = num(8, 2);
  if (!y || !m || !d || *m < 1 || *m > 12 || *d < 1) return std::nullopt;
  // Round-trip through day numbers rejects 31 April, 29 February 2023 etc.
  Civil c = civil_from_days(days_from_civil(*y, *m, *d));
  if (c.y != *y || c.m != *m || c.d != *d) return std::nullopt;
  return c;
}

}  // namespace

Claim string_claim(std::string name, std::string_view value) {
  rapidjson::Document d;
  d.SetString(value.data(), static_cast<rapidjson::SizeType>(value.size()), d.GetAllocator());
  return {std::move(name), to_json(d)};
}

Claim bool_claim(std::string name, bool value) {
  return {std::move(name), value ? "true" : "false"};
}

std::string disclosure_digest(std::string_view disclosure) {
  Hash32 h = sha256(disclosure);
  return base64url_encode(ByteView(h.data(), h.size()));
}

std::optional<Kid> parse_kid(std::string_view kid) {
  size_t hash = kid.find('#');
  if (hash == std::string_view::npos) return std::nullopt;
  std::string_view did = kid.substr(0, hash);
  std::string_view frag = kid.substr(hash + 1);
  if (!is_valid_did(did) || frag.size() < 5 || frag.size() > 10 || frag.substr(0, 4) != "key-") {
    return std::nullopt;
  }
  uint64_t n = 0;
  std::string_view digits = frag.substr(4);
  if (digits[0] == '0') return std::nullopt;  // one spelling per number
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return Kid{std::string(did), n};
}

std::string make_kid(std::string_view did, uint64_t n) {
  return std::string(did) + "#key-" + std::to_string(n);
}

Result<std::string> issue(const KeyPair& issuer_key, const IssueRequest& r) {
  if (r.typ != kTypDc && r.typ != kTypVc) return bad_request("typ must be dc+sd-jwt or vc+sd-jwt");
  if (r.vct.empty()) return bad_request("vct must name the credential type");
  if (!is_valid_did(r.issuer)) return bad_request("iss must be a did:imi");
  auto ikid = parse_kid(r.issuer_kid);
  if (!ikid || ikid->did != r.issuer) return bad_request("issuer_kid must be iss + \"#key-N\"");
  if (!parse_kid(r.holder_kid)) return bad_request("holder_kid must be \"did:imi:<hex>#key-N\"");
  if (r.disclosable.size() + r.decoys > kDisclosuresMax) return bad_request("too many claims");

  rapidjson::Document payload(rapidjson::kObjectType);
  auto& a = payload.GetAllocator();
  std::set<std::string> names;
  for (const auto* list : {&r.plain, &r.disclosable}) {
    for (const Claim& c : *list) {
      if (std::find(std::begin(kReserved), std::end(kReserved), c.name) != std::end(kReserved)) {
        return bad_request("claim name " + c.name + " is reserved");
      }
      if (!names.insert(c.name).second) return bad_request("claim " + c.name + " given twice");
      if (!parse_json(c.value_json)) return bad_request("claim " + c.name + " is not JSON");
    }
  }

  payload.AddMember("iss", str(r.issuer, a), a);
  payload.AddMember("vct", str(r.vct, a), a);
  payload.AddMember("iat", rapidjson::Value(r.iat), a);
  if (r.nbf) payload.AddMember("nbf", rapidjson::Value(*r.nbf), a);
  if (r.exp) payload.AddMember("exp", rapidjson::Value(*r.exp), a);
  rapidjson::Value cnf(rapidjson::kObjectType);
  if (r.holder_jwk) {
    rapidjson::Value jwk(rapidjson::kObjectType);
    jwk.AddMember("kty", "OKP", a);
    jwk.AddMember("crv", "Ed25519", a);
    jwk.AddMember("x", str(base64url_encode(ByteView(r.holder_jwk->data(), 32)), a), a);
    jwk.AddMember("kid", str(r.holder_kid, a), a);
    cnf.AddMember("jwk", jwk, a);
  } else {
    cnf.AddMember("kid", str(r.holder_kid, a), a);
  }
  payload.AddMember("cnf", cnf, a);
  if (r.status) {
    rapidjson::Value sl(rapidjson::kObjectType);
    sl.AddMember("idx", rapidjson::Value(static_cast<uint64_t>(r.status->idx)), a);
    sl.AddMember("uri", str(r.status->uri, a), a);
    rapidjson::Value st(rapidjson::kObjectType);
    st.AddMember("status_list", sl, a);
    payload.AddMember("status", st, a);
  }
  for (const Claim& c : r.plain) {
    auto v = parse_json(c.value_json);
    rapidjson::Value copy(*v, a);
    payload.AddMember(str(c.name, a), copy, a);
  }

  std::vector<std::string> disclosures;
  std::vector<std::string> digests;
  for (const Claim& c : r.disclosable) {
    std::string salt = random_b64(r.random, kSaltBytes);
    rapidjson::Document arr(rapidjson::kArrayType);
    auto& da = arr.GetAllocator();
    arr.PushBack(str(salt, da), da);
    arr.PushBack(str(c.name, da), da);
    auto v = parse_json(c.value_json);
    arr.PushBack(rapidjson::Value(*v, da), da);
    std::string d = base64url_encode(to_json(arr));
    digests.push_back(disclosure_digest(d));
    disclosures.push_back(std::move(d));
  }
  for (size_t i = 0; i < r.decoys; ++i) {
    // A decoy is the digest of random bytes, indistinguishable from a real one.
    Bytes b(kSaltBytes * 2);
    fill_random(r.random, b.data(), b.size());
    Hash32 h = sha256(ByteView(b.data(), b.size()));
    digests.push_back(base64url_encode(ByteView(h.data(), h.size())));
  }
  std::sort(digests.begin(), digests.end());
  rapidjson::Value sd(rapidjson::kArrayType);
  for (const auto& d : digests) sd.PushBack(str(d, a), a);
  payload.AddMember("_sd", sd, a);
  payload.AddMember("_sd_alg", "sha-256", a);

  rapidjson::Document header(rapidjson::kObjectType);
  auto& ha = header.GetAllocator();
  header.AddMember("alg", "EdDSA", ha);
  header.AddMember("typ", str(r.typ, ha), ha);
  header.AddMember("kid", str(r.issuer_kid, ha), ha);

  std::string out = internal::sign_jws(issuer_key, to_json(header), to_json(payload)) + "~";
  for (const auto& d : disclosures) out += d + "~";
  return out;
}

Result<std::vector<Claim>> predicate_claims(std::string_view birth_date, int64_t as_of,
                                            std::string_view district) {
  auto born = parse_date(birth_date);
  if (!born) return bad_request("birth date must be a calendar date YYYY-MM-DD");
  int64_t day = as_of >= 0 ? as_of / 86400 : -((-as_of + 86399) / 86400);
  Civil now = civil_from_days(day);
  int64_t age = now.y - born->y;
  if (now.m < born->m || (now.m == born->m && now.d < born->d)) --age;
  std::vector<Claim> out;
  out.push_back(bool_claim("age_over_18", age >= 18));
  out.push_back(bool_claim("age_over_60", age >= 60));
  if (!district.empty()) out.push_back(string_claim("resident_of", district));
  return out;
}

Result<Parts> split(std::string_view text) {
  auto malformed = [](std::string m) { return Status::error("sdjwt.malformed", std::move(m)); };
  if (text.size() > kSdJwtBytesMax) return malformed("SD-JWT longer than 64 KiB");
  size_t first = text.find('~');
  if (first == std::string_view::npos || first == 0) {
    return malformed("an SD-JWT is <JWT>~<disclosures>~[<KB-JWT>]");
  }
  Parts p;
  p.jwt = std::string(text.substr(0, first));
  size_t last = text.rfind('~');
  p.sd_jwt_for_hash = std::string(text.substr(0, last + 1));
  if (last + 1 < text.size()) p.kb_jwt = std::string(text.substr(last + 1));
  size_t pos = first + 1;
  while (pos <= last) {
    size_t next = text.find('~', pos);
    if (next == pos) return malformed("empty disclosure between two '~'");
    p.disclosures.emplace_back(text.substr(pos, next - pos));
    if (p.disclosures.size() > kDisclosuresMax) return malformed("too many disclosures");
    pos = next + 1;
  }
  return p;
}

Result<std::string> present(std::string_view sd_jwt, const KeyPair& holder_key,
                            const PresentRequest& request) {
  auto parts = split(sd_jwt);
  if (!parts) return parts.status();
  if (parts->kb_jwt) return Status::error("sdjwt.malformed", "already a presentation");
  std::string out = parts->jwt + "~";
  std::set<std::string> wanted(request.disclose.begin(), request.disclose.end());
  std::set<std::string> found;
  for (const auto& d : parts->disclosures) {
    auto text = base64url_decode_string(d);
    auto arr = text ? parse_json(*text) : std::nullopt;
    if (!arr || !arr->IsArray() || arr->Size() != 3 || !(*arr)[1].IsString()) continue;
    std::string name((*arr)[1].GetString(), (*arr)[1].GetStringLength());
    if (wanted.count(name)) {
      out += d + "~";
      found.insert(name);
    }
  }
  for (const auto& w : wanted) {
    if (!found.count(w)) return bad_request("the credential has no disclosable claim " + w);
  }
  rapidjson::Document header(rapidjson::kObjectType);
  header.AddMember("alg", "EdDSA", header.GetAllocator());
  header.AddMember("typ", str(kTypKb, header.GetAllocator()), header.GetAllocator());
  rapidjson::Document payload(rapidjson::kObjectType);
  auto& a = payload.GetAllocator();
  payload.AddMember("iat", rapidjson::Value(request.iat), a);
  payload.AddMember("aud", str(request.aud, a), a);
  payload.AddMember("nonce", str(request.nonce, a), a);
  Hash32 h = sha256(out);
  payload.AddMember("sd_hash", str(base64url_encode(ByteView(h.data(), h.size())), a), a);
  return out + internal::sign_jws(holder_key, to_json(header), to_json(payload));
}

}  // namespace imi::identity::sdjwt

#include "node/p2p/handshake.h"

#include <sodium.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

#include "base/json_string.h"

namespace imi::p2p {
namespace {

constexpr uint8_t kMagic[4] = {'I', 'M', 'I', 'P'};
constexpr std::string_view kKdfTag = "IMI/p2p-kdf/v1\n";

void ensure_sodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) std::abort();  // no cryptography at all: unrecoverable
  });
}

const char* role_name(Role r) { return r == Role::kInitiator ? "initiator" : "responder"; }

}  // namespace

Bytes encode_hello(const Hello& h) {
  Bytes out(std::begin(kMagic), std::end(kMagic));
  out.push_back(static_cast<uint8_t>(h.version >> 8));
  out.push_back(static_cast<uint8_t>(h.version & 0xff));
  out.insert(out.end(), h.identity.begin(), h.identity.end());
  out.insert(out.end(), h.ephemeral.begin(), h.ephemeral.end());
  // The chain id's length is checked where the Handshake is made; clamp
  // anyway so the encoding always matches its length byte.
  size_t n = std::min<size_t>(h.chain.size(), 255);
  out.push_back(static_cast<uint8_t>(n));
  out.insert(out.end(), h.chain.begin(), h.chain.begin() + static_cast<std::ptrdiff_t>(n));
  return out;
}

Result<Hello> decode_hello(ByteView body) {
  constexpr size_t kFixed = 4 + 2 + 32 + 32 + 1;
  if (body.size() < kFixed || std::memcmp(body.data(), kMagic, 4) != 0) {
    return Status::error("p2p.bad_hello", "the peer did not start with an IMI P2P hello");
  }
  Hello h;
  h.version = static_cast<uint16_t>((body[4] << 8) | body[5]);
  std::memcpy(h.identity.data(), body.data() + 6, 32);
  std::memcpy(h.ephemeral.data(), body.data() + 38, 32);
  size_t n = body[70];
  if (n == 0 || body.size() != kFixed + n) {
    return Status::error("p2p.bad_hello", "hello chain id length does not match the frame");
  }
  h.chain.assign(reinterpret_cast<const char*>(body.data() + kFixed), n);
  return h;
}

std::string transcript_json(const std::string& chain, const PublicKey& initiator_key,
                            const EphemeralKey& initiator_eph, const PublicKey& responder_key,
                            const EphemeralKey& responder_eph, const char* role) {
  std::string out = "{\"chain\":";
  append_jcs_string(out, chain);
  out += ",\"initiator_eph\":\"" + to_hex(initiator_eph) + "\"";
  out += ",\"initiator_key\":\"" + to_hex(initiator_key) + "\"";
  out += ",\"responder_eph\":\"" + to_hex(responder_eph) + "\"";
  out += ",\"responder_key\":\"" + to_hex(responder_key) + "\"";
  if (role != nullptr) {
    out += ",\"role\":";
    append_jcs_string(out, role);
  }
  out += ",\"v\":1}";
  return out;
}

Handshake::Handshake(const identity::KeyPair& self, std::string chain, Role role)
    : self_(self), role_(role) {
  ensure_sodium();
  randombytes_buf(ephemeral_secret_.data(), ephemeral_secret_.size());
  crypto_scalarmult_base(own_.ephemeral.data(), ephemeral_secret_.data());
  own_.identity = self.public_key();
  own_.chain = std::move(chain);
}

Handshake::~Handshake() {
  sodium_memzero(ephemeral_secret_.data(), ephemeral_secret_.size());
  sodium_memzero(send_key_.data(), send_key_.size());
  sodium_memzero(receive_key_.data(), receive_key_.size());
}

Status Handshake::accept_peer_hello(ByteView body) {
  if (peer_accepted_) return Status::error("p2p.protocol", "a second hello arrived");
  auto h = decode_hello(body);
  if (!h) return h.status();
  if (h->version != kProtocolVersion) {
    return Status::error("p2p.version", "peer speaks protocol version " +
                                            std::to_string(h->version) + ", this node " +
                                            std::to_string(kProtocolVersion));
  }
  if (h->chain != own_.chain) {
    return Status::error("p2p.wrong_chain",
                         "peer is on chain '" + h->chain + "', this node on '" + own_.chain + "'");
  }
  if (h->ephemeral == own_.ephemeral) {
    return Status::error("p2p.reflected", "peer echoed this node's own ephemeral key");
  }
  if (h->identity == own_.identity) {
    return Status::error("p2p.self", "peer presented this node's own identity key");
  }
  std::array<uint8_t, 32> shared{};
  if (crypto_scalarmult(shared.data(), ephemeral_secret_.data(), h->ephemeral.data()) != 0) {
    return Status::error("p2p.bad_key_exchange", "peer's ephemeral key is a low-order point");
  }
  peer_ = std::move(*h);
  peer_accepted_ = true;

  const Hello& ini = role_ == Role::kInitiator ? own_ : peer_;
  const Hello& res = role_ == Role::kInitiator ? peer_ : own_;
  std::string t = transcript_json(own_.chain, ini.identity, ini.ephemeral, res.identity,
                                  res.ephemeral, nullptr);
  std::array<uint8_t, 64> okm{};
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, okm.size());
  crypto_generichash_update(&st, reinterpret_cast<const uint8_t*>(kKdfTag.data()), kKdfTag.size());
  crypto_generichash_update(&st, shared.data(), shared.size());
  crypto_generichash_update(&st, reinterpret_cast<const uint8_t*>(t.data()), t.size());
  crypto_generichash_final(&st, okm.data(), okm.size());
  SessionKey i2r, r2i;
  std::memcpy(i2r.data(), okm.data(), 32);
  std::memcpy(r2i.data(), okm.data() + 32, 32);
  send_key_ = role_ == Role::kInitiator ? i2r : r2i;
  receive_key_ = role_ == Role::kInitiator ? r2i : i2r;
  sodium_memzero(shared.data(), shared.size());
  sodium_memzero(okm.data(), okm.size());
  sodium_memzero(i2r.data(), i2r.size());
  sodium_memzero(r2i.data(), r2i.size());
  return Status::ok();
}

std::string Handshake::signed_transcript(Role signer) const {
  const Hello& ini = role_ == Role::kInitiator ? own_ : peer_;
  const Hello& res = role_ == Role::kInitiator ? peer_ : own_;
  return transcript_json(own_.chain, ini.identity, ini.ephemeral, res.identity, res.ephemeral,
                         role_name(signer));
}

identity::Signature Handshake::own_signature() const {
  return self_.sign(identity::Domain::kHandshake, signed_transcript(role_));
}

Status Handshake::verify_peer_signature(ByteView sig) const {
  identity::Signature s{};
  if (!peer_accepted_ || sig.size() != s.size()) {
    return Status::error("p2p.bad_signature", "handshake signature is not 64 bytes");
  }
  std::memcpy(s.data(), sig.data(), s.size());
  Role peer_role = role_ == Role::kInitiator ? Role::kResponder : Role::kInitiator;
  if (!identity::verify(identity::Domain::kHandshake, peer_.identity, signed_transcript(peer_role),
                        s)) {
    return Status::error("p2p.bad_signature",
                         "peer's handshake signature does not verify under its key");
  }
  return Status::ok();
}

}  // namespace imi::p2p

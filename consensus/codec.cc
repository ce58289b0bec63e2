// Wire encoding and structural validation of engine messages (messages.h).
#include <algorithm>

#include "consensus/messages.h"
#include "consensus/wire.h"

namespace imi::consensus {

namespace {

constexpr uint8_t kVersion = 1;
enum Type : uint8_t {
  kProposalType = 1,
  kVoteType = 2,
  kViewChangeType = 3,
  kNewViewType = 4,
  kCheckpointType = 5,
  kDecidedType = 6,
};

void put_sigs(wire::Writer& w, const std::vector<SigEntry>& sigs) {
  w.u16(static_cast<uint16_t>(sigs.size()));
  for (const auto& e : sigs) {
    w.did(e.validator);
    w.fixed(e.sig);
  }
}

std::vector<SigEntry> get_sigs(wire::Reader& r, const Limits& limits, const char* field) {
  size_t n = r.count(field, limits.validators_max);
  std::vector<SigEntry> out;
  for (size_t i = 0; i < n && r.ok(); ++i) {
    SigEntry e;
    e.validator = r.did(field);
    e.sig = r.fixed<64>(field);
    if (r.ok() && !out.empty() && !(out.back().validator < e.validator))
      r.fail(std::string(field) + " not strictly sorted by validator");
    out.push_back(std::move(e));
  }
  return out;
}

void put_proposal(wire::Writer& w, const Proposal& p) {
  w.u64(p.height);
  w.u64(p.view);
  w.fixed(p.block);
  w.blob(p.payload);
  w.did(p.proposer);
  w.fixed(p.sig);
}

Proposal get_proposal(wire::Reader& r, const Limits& limits) {
  Proposal p;
  p.height = r.height("proposal.height");
  p.view = r.view("proposal.view");
  p.block = r.fixed<32>("proposal.block");
  p.payload = r.blob("proposal.payload", limits.payload_bytes_max);
  p.proposer = r.did("proposal.proposer");
  p.sig = r.fixed<64>("proposal.sig");
  return p;
}

void put_view_change(wire::Writer& w, const ViewChange& vc) {
  w.u64(vc.height);
  w.u64(vc.view);
  w.did(vc.validator);
  w.u8(vc.prepared ? 1 : 0);
  if (vc.prepared) wire::put_prepared(w, *vc.prepared);
  w.fixed(vc.sig);
}

ViewChange get_view_change(wire::Reader& r, const Limits& limits) {
  ViewChange vc;
  vc.height = r.height("viewchange.height");
  vc.view = r.view("viewchange.view");
  vc.validator = r.did("viewchange.validator");
  uint8_t has = r.u8("viewchange.has_prepared");
  if (r.ok() && has > 1) r.fail("viewchange.has_prepared must be 0 or 1");
  if (r.ok() && has == 1) {
    vc.prepared = wire::get_prepared(r, limits);
    if (r.ok() && vc.prepared->view >= vc.view)
      r.fail("viewchange.prepared.view must be below the new view");
  }
  if (r.ok() && vc.view == 0) r.fail("viewchange.view must be at least 1");
  vc.sig = r.fixed<64>("viewchange.sig");
  return vc;
}

void put_cert(wire::Writer& w, const CommitCertificate& c) {
  w.u64(c.height);
  w.u64(c.view);
  w.fixed(c.block);
  put_sigs(w, c.sigs);
}

CommitCertificate get_cert(wire::Reader& r, const Limits& limits) {
  CommitCertificate c;
  c.height = r.height("cert.height");
  c.view = r.view("cert.view");
  c.block = r.fixed<32>("cert.block");
  c.sigs = get_sigs(r, limits, "cert.sigs");
  return c;
}

struct Encoder {
  wire::Writer& w;
  void operator()(const Proposal& p) {
    w.u8(kProposalType);
    put_proposal(w, p);
  }
  void operator()(const Vote& v) {
    w.u8(kVoteType);
    w.u64(v.height);
    w.u64(v.view);
    w.fixed(v.block);
    w.u8(static_cast<uint8_t>(v.phase));
    w.did(v.validator);
    w.fixed(v.sig);
  }
  void operator()(const ViewChange& vc) {
    w.u8(kViewChangeType);
    put_view_change(w, vc);
  }
  void operator()(const NewView& nv) {
    w.u8(kNewViewType);
    w.u64(nv.height);
    w.u64(nv.view);
    w.u16(static_cast<uint16_t>(nv.view_changes.size()));
    for (const auto& vc : nv.view_changes) put_view_change(w, vc);
    put_proposal(w, nv.proposal);
  }
  void operator()(const Checkpoint& c) {
    w.u8(kCheckpointType);
    w.u64(c.height);
    w.fixed(c.block);
    w.did(c.validator);
    w.fixed(c.sig);
  }
  void operator()(const Decided& d) {
    w.u8(kDecidedType);
    put_cert(w, d.cert);
  }
};

Status malformed(const std::string& what) {
  return Status::error("consensus.malformed", "dropped a malformed message: " + what);
}

}  // namespace

namespace wire {

void put_prepared(Writer& w, const PreparedCert& pc) {
  w.u64(pc.view);
  w.fixed(pc.block);
  w.blob(pc.payload);
  w.fixed(pc.proposal_sig);
  put_sigs(w, pc.prepares);
}

PreparedCert get_prepared(Reader& r, const Limits& limits) {
  PreparedCert pc;
  pc.view = r.view("prepared.view");
  pc.block = r.fixed<32>("prepared.block");
  pc.payload = r.blob("prepared.payload", limits.payload_bytes_max);
  pc.proposal_sig = r.fixed<64>("prepared.proposal_sig");
  pc.prepares = get_sigs(r, limits, "prepared.prepares");
  return pc;
}

}  // namespace wire

Bytes encode(const Message& m) {
  wire::Writer w;
  w.u8(kVersion);
  std::visit(Encoder{w}, m);
  return w.take();
}

Bytes encode_certificate(const CommitCertificate& c) {
  wire::Writer w;
  w.u8(kVersion);
  put_cert(w, c);
  return w.take();
}

Result<CommitCertificate> decode_certificate(ByteView bytes, const Limits& limits) {
  wire::Reader r(bytes);
  if (r.u8("version") != kVersion && r.ok()) r.fail("unknown version");
  CommitCertificate c = get_cert(r, limits);
  if (r.ok() && !r.at_end()) r.fail("trailing bytes");
  if (!r.ok()) return malformed(r.error());
  return c;
}

Result<Message> decode(ByteView bytes, const Limits& limits) {
  wire::Reader r(bytes);
  uint8_t version = r.u8("version");
  if (r.ok() && version != kVersion) r.fail("unknown version");
  uint8_t type = r.u8("type");
  Message m;
  if (r.ok()) {
    switch (type) {
      case kProposalType:
        m = get_proposal(r, limits);
        break;
      case kVoteType: {
        Vote v;
        v.height = r.height("vote.height");
        v.view = r.view("vote.view");
        v.block = r.fixed<32>("vote.block");
        uint8_t phase = r.u8("vote.phase");
        if (r.ok() && phase != 1 && phase != 2) r.fail("vote.phase must be 1 or 2");
        v.phase = static_cast<Phase>(phase);
        v.validator = r.did("vote.validator");
        v.sig = r.fixed<64>("vote.sig");
        m = std::move(v);
        break;
      }
      case kViewChangeType:
        m = get_view_change(r, limits);
        break;
      case kNewViewType: {
        NewView nv;
        nv.height = r.height("newview.height");
        nv.view = r.view("newview.view");
        size_t n = r.count("newview.view_changes", limits.validators_max);
        for (size_t i = 0; i < n && r.ok(); ++i) {
          ViewChange vc = get_view_change(r, limits);
          if (!r.ok()) break;
          if (vc.height != nv.height || vc.view != nv.view)
            r.fail("newview.view_changes must be for the new view's height and view");
          if (!nv.view_changes.empty() && !(nv.view_changes.back().validator < vc.validator))
            r.fail("newview.view_changes not strictly sorted by validator");
          nv.view_changes.push_back(std::move(vc));
        }
        nv.proposal = get_proposal(r, limits);
        if (r.ok() && (nv.proposal.height != nv.height || nv.proposal.view != nv.view))
          r.fail("newview.proposal must be for the new view's height and view");
        if (r.ok() && nv.view == 0) r.fail("newview.view must be at least 1");
        m = std::move(nv);
        break;
      }
      case kCheckpointType: {
        Checkpoint c;
        c.height = r.height("checkpoint.height");
        c.block = r.fixed<32>("checkpoint.block");
        c.validator = r.did("checkpoint.validator");
        c.sig = r.fixed<64>("checkpoint.sig");
        m = std::move(c);
        break;
      }
      case kDecidedType:
        m = Decided{get_cert(r, limits)};
        break;
      default:
        r.fail("unknown message type");
    }
  }
  if (r.ok() && !r.at_end()) r.fail("trailing bytes");
  if (!r.ok()) return malformed(r.error());
  return m;
}

}  // namespace imi::consensus

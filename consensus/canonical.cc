#include "consensus/canonical.h"

#include <cassert>

#include "consensus/signer.h"

namespace imi::consensus {

std::string_view sig_tag(SigKind kind) {
  switch (kind) {
    case SigKind::kProposal:
      return "IMI/proposal/v1";
    case SigKind::kVote:
      return "IMI/vote/v1";
    case SigKind::kCheckpoint:
      return "IMI/checkpoint/v1";
    case SigKind::kViewChange:
      return "IMI/viewchange/v1";
  }
  return "";
}

std::string_view phase_name(Phase p) { return p == Phase::kCommit ? "commit" : "prepare"; }

namespace {

// Appends "key":value pieces; the caller writes keys in sorted order.
class Obj {
 public:
  Obj& str(std::string_view key, std::string_view value) {
    sep(key);
    out_ += '"';
    out_ += value;
    out_ += '"';
    return *this;
  }
  Obj& num(std::string_view key, uint64_t value) {
    assert(value <= kMaxSafeInteger);
    sep(key);
    out_ += std::to_string(value);
    return *this;
  }
  Obj& raw(std::string_view key, std::string_view json) {
    sep(key);
    out_ += json;
    return *this;
  }
  std::string done() { return out_ + "}"; }

 private:
  void sep(std::string_view key) {
    out_ += out_.size() == 1 ? "" : ",";
    out_ += '"';
    out_ += key;
    out_ += "\":";
  }
  std::string out_ = "{";
};

void check_chain(std::string_view chain) {
  // Callers pass the engine's own chain id, validated at construction.
  assert(is_valid_chain_id(chain));
  (void)chain;
}

}  // namespace

std::string vote_canonical(std::string_view chain, uint64_t height, uint64_t view,
                           const Hash32& block, Phase phase) {
  check_chain(chain);
  return Obj()
      .str("block", to_hex(block))
      .str("chain", chain)
      .num("height", height)
      .str("phase", phase_name(phase))
      .num("view", view)
      .done();
}

std::string proposal_canonical(std::string_view chain, uint64_t height, uint64_t view,
                               const Hash32& block, const Hash32& payload_digest) {
  check_chain(chain);
  return Obj()
      .str("block", to_hex(block))
      .str("chain", chain)
      .num("height", height)
      .str("payload", to_hex(payload_digest))
      .num("view", view)
      .done();
}

std::string checkpoint_canonical(std::string_view chain, uint64_t height, const Hash32& block) {
  check_chain(chain);
  return Obj().str("block", to_hex(block)).str("chain", chain).num("height", height).done();
}

std::string view_change_canonical(std::string_view chain, uint64_t height, uint64_t view,
                                  const std::optional<PreparedRef>& prepared) {
  check_chain(chain);
  std::string prep = "null";
  if (prepared)
    prep = Obj().str("block", to_hex(prepared->block)).num("view", prepared->view).done();
  return Obj()
      .str("chain", chain)
      .num("height", height)
      .raw("prepared", prep)
      .num("view", view)
      .done();
}

}  // namespace imi::consensus

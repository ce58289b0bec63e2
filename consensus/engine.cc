// Engine plumbing: construction and restart, input dispatch, timers,
// rebroadcast, censorship and the Ready assembly. The protocol phases live in
// normal_case.cc, view_change.cc and checkpoint.cc.
#include "consensus/engine.h"

#include <algorithm>
#include <cassert>

namespace imi::consensus {

std::string_view drop_reason_name(DropReason r) {
  switch (r) {
    case DropReason::kMalformed:
      return "malformed";
    case DropReason::kNotValidator:
      return "not_validator";
    case DropReason::kBadSignature:
      return "bad_signature";
    case DropReason::kWrongPrimary:
      return "wrong_primary";
    case DropReason::kOldHeight:
      return "old_height";
    case DropReason::kFutureHeight:
      return "future_height";
    case DropReason::kOldView:
      return "old_view";
    case DropReason::kFutureView:
      return "future_view";
    case DropReason::kDuplicate:
      return "duplicate";
    case DropReason::kBadNewView:
      return "bad_new_view";
    case DropReason::kBufferFull:
      return "buffer_full";
    case DropReason::kCount:
      break;
  }
  return "unknown";
}

uint64_t DropCounters::total() const {
  uint64_t t = 0;
  for (uint64_t c : by_reason) t += c;
  return t;
}

bool Ready::empty() const {
  return !to_persist && messages.empty() && committed.empty() && !propose && validate.empty() &&
         evidence.empty() && !sync && dropped.total() == 0;
}

namespace {}  // namespace

DropReason Engine::reason_for_status(const Status& s) {
  const std::string& c = s.code();
  if (c == "consensus.not_validator") return DropReason::kNotValidator;
  if (c == "consensus.bad_signature") return DropReason::kBadSignature;
  if (c == "consensus.wrong_primary") return DropReason::kWrongPrimary;
  if (c == "consensus.bad_new_view" || c == "consensus.no_quorum") return DropReason::kBadNewView;
  return DropReason::kMalformed;
}

namespace {

struct HeightOf {
  uint64_t operator()(const Proposal& m) const { return m.height; }
  uint64_t operator()(const Vote& m) const { return m.height; }
  uint64_t operator()(const ViewChange& m) const { return m.height; }
  uint64_t operator()(const NewView& m) const { return m.height; }
  uint64_t operator()(const Checkpoint& m) const { return m.height; }
  uint64_t operator()(const Decided& m) const { return m.cert.height; }
};

struct SenderOf {
  ValidatorId operator()(const Proposal& m) const { return m.proposer; }
  ValidatorId operator()(const Vote& m) const { return m.validator; }
  ValidatorId operator()(const ViewChange& m) const { return m.validator; }
  ValidatorId operator()(const NewView& m) const { return m.proposal.proposer; }
  ValidatorId operator()(const Checkpoint& m) const { return m.validator; }
  ValidatorId operator()(const Decided& m) const {
    return m.cert.sigs.empty() ? ValidatorId{} : m.cert.sigs.front().validator;
  }
};

}  // namespace

Status verify_message(const Message& m, std::string_view chain, const ValidatorSet& set,
                      const Verifier& verifier) {
  if (auto* p = std::get_if<Proposal>(&m)) return verify_proposal(*p, chain, set, verifier);
  if (auto* v = std::get_if<Vote>(&m)) return verify_vote(*v, chain, set, verifier);
  if (auto* vc = std::get_if<ViewChange>(&m)) return verify_view_change(*vc, chain, set, verifier);
  if (auto* nv = std::get_if<NewView>(&m)) return verify_new_view(*nv, chain, set, verifier);
  if (auto* c = std::get_if<Checkpoint>(&m)) return verify_checkpoint(*c, chain, set, verifier);
  return verify_commit_certificate(std::get<Decided>(m).cert, chain, set, verifier);
}

Engine::Engine(Options options, Signer& signer, const Verifier& verifier)
    : opts_(std::move(options)), signer_(signer), verifier_(verifier) {}

Result<std::unique_ptr<Engine>> Engine::create(Options options, Signer& signer,
                                               const Verifier& verifier, ChainTip tip,
                                               ValidatorSchedule schedule,
                                               std::optional<DurableState> durable) {
  auto bad = [](const std::string& m) { return Status::error("consensus.bad_options", m); };
  if (!is_valid_chain_id(options.chain_id))
    return bad("chain id must be 1-64 of [a-z0-9._-] starting with [a-z0-9]");
  if (!is_valid_validator_id(options.self)) return bad("self must be a did:imi");
  if (options.checkpoint_interval == 0 || options.view_timeout_ticks == 0 ||
      options.view_timeout_max_ticks < options.view_timeout_ticks ||
      options.rebroadcast_ticks == 0 || options.view_window == 0)
    return bad("intervals and timeouts must be positive, and the timeout cap >= the timeout");
  if (tip.height >= kMaxSafeInteger || schedule.at(tip.height + 1) == nullptr)
    return bad("the schedule has no validator set for the height after the tip");
  if (durable && durable->height > tip.height + 1)
    return Status::error("consensus.state_ahead_of_ledger",
                         "consensus state is for height " + std::to_string(durable->height) +
                             " but the ledger tip is " + std::to_string(tip.height) +
                             "; store committed blocks before persisting consensus state");
  std::unique_ptr<Engine> e(new Engine(std::move(options), signer, verifier));
  e->schedule_ = std::move(schedule);
  if (tip.cert && (tip.cert->height != tip.height || tip.cert->block != tip.block))
    return bad("the tip's certificate is for another block");
  if (tip.cert) e->certs_[tip.height] = *tip.cert;
  e->tip_ = tip;
  e->tip_.cert.reset();
  e->reset_height(tip.view);
  e->dirty_ = false;
  if (durable) e->restore(*durable);
  return e;
}

void Engine::restore(const DurableState& d) {
  if (d.stable_height <= tip_.height) {
    stable_height_ = d.stable_height;
    stable_block_ = d.stable_block;
  }
  if (d.height != height_) return;  // that height is decided; its promises no longer matter
  view_ = std::max(d.view, view_);
  start_view_ = d.start_view;
  view_changing_ = d.view_changing;
  spoken_ = d.spoken;
  prepared_ = d.prepared;
  if (prepared_) payloads_.emplace(prepared_->block, prepared_->payload);
  for (const Message& m : spoken_) {
    if (auto* v = std::get_if<Vote>(&m)) {
      votes_[VoteKey{v->view, v->phase, v->validator}] = *v;
      evidence_.observe(*v);
    } else if (auto* p = std::get_if<Proposal>(&m)) {
      evidence_.observe(*p);
      accept_proposal(*p);
    } else if (auto* vc = std::get_if<ViewChange>(&m)) {
      view_changes_[vc->view][vc->validator] = *vc;
    } else if (auto* nv = std::get_if<NewView>(&m)) {
      if (nv->view == view_) new_view_ = *nv;
      evidence_.observe(nv->proposal);
      accept_proposal(nv->proposal);
    }
  }
}

void Engine::reset_height(uint64_t start_view) {
  height_ = tip_.height + 1;
  view_ = start_view;
  start_view_ = start_view;
  view_changing_ = false;
  spoken_.clear();
  prepared_.reset();
  proposals_.clear();
  payloads_.clear();
  verdicts_.clear();
  validate_requested_.clear();
  votes_.clear();
  view_changes_.clear();
  new_view_.reset();
  proposal_requested_ = false;
  progress_deadline_ = 0;
  dirty_ = true;
}

DurableState Engine::durable_state() const {
  DurableState d;
  d.height = height_;
  d.view = view_;
  d.start_view = start_view_;
  d.view_changing = view_changing_;
  d.stable_height = stable_height_;
  d.stable_block = stable_block_;
  d.spoken = spoken_;
  d.prepared = prepared_;
  return d;
}

Ready Engine::take_ready() {
  if (dirty_) {
    ready_.to_persist = durable_state();
    dirty_ = false;
  }
  uint64_t next = progress_deadline_;
  if (progress_deadline_ != 0) next = std::min(next, next_rebroadcast_);
  ready_.next_deadline_tick = next;
  for (size_t i = 0; i < total_dropped_.by_reason.size(); ++i)
    total_dropped_.by_reason[i] += ready_.dropped.by_reason[i];
  Ready out = std::move(ready_);
  ready_ = Ready{};
  return out;
}

void Engine::drop(DropReason r) { ++ready_.dropped.by_reason[static_cast<size_t>(r)]; }

void Engine::send(const Message& m, std::optional<ValidatorId> to) {
  ready_.messages.push_back(Outbound{std::move(to), encode(m)});
}

void Engine::speak(Message m) {
  send(m);
  spoken_.push_back(std::move(m));
  dirty_ = true;
}

bool Engine::is_member() const {
  const ValidatorSet* s = current_set();
  return s != nullptr && s->contains(opts_.self);
}

bool Engine::is_primary() const {
  const ValidatorSet* s = current_set();
  return s != nullptr && s->primary(view_) == opts_.self;
}

uint64_t Engine::timeout_ticks() const {
  uint64_t t = opts_.view_timeout_ticks;
  for (uint64_t i = 0; i < attempt_ && t < opts_.view_timeout_max_ticks; ++i) t *= 2;
  return std::min(t, opts_.view_timeout_max_ticks);
}

bool Engine::view_change_quorum() const {
  auto it = view_changes_.find(view_);
  const ValidatorSet* set = current_set();
  return it != view_changes_.end() && set != nullptr && it->second.size() >= set->quorum();
}

void Engine::arm_progress_timer() {
  if (progress_deadline_ != 0) return;
  // PBFT liveness: after sending a view change, start the timer only once q
  // view changes for that view arrived, so a fast node cannot race ahead of
  // the others through views they never reach.
  if (view_changing_ && !view_change_quorum()) return;
  progress_deadline_ = now_tick_ + timeout_ticks();
  if (next_rebroadcast_ <= now_tick_) next_rebroadcast_ = now_tick_ + opts_.rebroadcast_ticks;
}

Ready Engine::start() {
  if (!spoken_.empty() || view_changing_) {
    rebroadcast();
    arm_progress_timer();
  }
  if (!pending_.empty()) arm_progress_timer();
  advance();
  return take_ready();
}

Ready Engine::on_message(ByteView wire) {
  auto m = decode(wire, opts_.limits);
  if (!m) {
    drop(DropReason::kMalformed);
    return take_ready();
  }
  return on_message(*m);
}

Ready Engine::on_message(const Message& m) {
  handle(m, false);
  advance();
  return take_ready();
}

void Engine::handle(const Message& m, bool verified) {
  if (auto* c = std::get_if<Checkpoint>(&m)) return handle_checkpoint(*c);
  if (auto* d = std::get_if<Decided>(&m)) return handle_decided(*d);
  uint64_t h = std::visit(HeightOf{}, m);
  ValidatorId from = std::visit(SenderOf{}, m);
  if (h != height_) {
    const ValidatorSet* set = schedule_.at(h);
    if (set == nullptr)
      return drop(h < height_ ? DropReason::kOldHeight : DropReason::kFutureHeight);
    Status st = verify_message(m, opts_.chain_id, *set, verifier_);
    if (!st) return drop(reason_for_status(st));
    if (h < height_) {
      handle_old_height(from, h, std::holds_alternative<ViewChange>(m));
      return drop(DropReason::kOldHeight);
    }
    if (h == height_ + 1) {
      if (future_.size() >= opts_.future_messages_max) return drop(DropReason::kBufferFull);
      future_.push_back(m);
      return;
    }
    // Validly signed for a height we cannot vote on yet: we are behind.
    if (from != opts_.self) ready_.sync = SyncHint{from, h - 1};
    return drop(DropReason::kFutureHeight);
  }
  if (!verified) {
    Status st = verify_message(m, opts_.chain_id, *current_set(), verifier_);
    if (!st) return drop(reason_for_status(st));
  }
  if (from == opts_.self) return drop(DropReason::kDuplicate);  // our own, echoed back
  if (auto* p = std::get_if<Proposal>(&m)) return handle_proposal(*p, false);
  if (auto* v = std::get_if<Vote>(&m)) return handle_vote(*v);
  if (auto* vc = std::get_if<ViewChange>(&m)) return handle_view_change(*vc);
  return handle_new_view(std::get<NewView>(m));
}

Ready Engine::on_tick(uint64_t now_ms) {
  ++now_tick_;
  now_ms_ = now_ms;
  on_tick_timers();
  advance();
  return take_ready();
}

void Engine::on_tick_timers() {
  if (progress_deadline_ != 0 && now_tick_ >= progress_deadline_) {
    progress_deadline_ = 0;
    if (is_member()) {
      start_view_change(view_ + 1);
    } else {
      arm_progress_timer();
    }
  }
  if ((progress_deadline_ != 0 || view_changing_) && now_tick_ >= next_rebroadcast_) {
    // Peers already work on the next height and we are still here after a
    // rebroadcast period: we missed the decision, so fetch the block.
    if (!future_.empty()) {
      // Rotate over the senders so one unhelpful peer cannot stall us.
      ValidatorId peer = std::visit(SenderOf{}, future_[now_tick_ % future_.size()]);
      if (peer != opts_.self) ready_.sync = SyncHint{peer, height_};
    }
    rebroadcast();
    next_rebroadcast_ = now_tick_ + opts_.rebroadcast_ticks;
  }
}

void Engine::rebroadcast() {
  for (const Message& m : spoken_) {
    bool current = false;
    if (auto* v = std::get_if<Vote>(&m)) current = v->view == view_ || v->phase == Phase::kCommit;
    if (auto* p = std::get_if<Proposal>(&m))
      current = p->proposer == opts_.self && p->view == view_;
    // Recent view changes too: peers still collecting q of them for an
    // earlier view need ours to start their timers (resending a message we
    // already sent is indistinguishable from network delay, so it is safe).
    if (auto* vc = std::get_if<ViewChange>(&m)) current = vc->view + 3 >= view_;
    if (auto* nv = std::get_if<NewView>(&m)) current = nv->view == view_;
    if (current) send(m);
  }
  if (own_checkpoint_) send(*own_checkpoint_);
}

Ready Engine::on_pending(const std::vector<Hash32>& pending) {
  std::unordered_map<Hash32, FirstSeen, Hash32Hasher> next;
  next.reserve(std::min<size_t>(pending.size(), opts_.pending_refs_max));
  oldest_.reset();
  for (const Hash32& id : pending) {
    if (next.size() >= opts_.pending_refs_max) break;
    auto it = pending_.find(id);
    const FirstSeen seen = it == pending_.end() ? FirstSeen{tip_.height, now_tick_} : it->second;
    next[id] = seen;
    if (!oldest_ || seen < *oldest_) oldest_ = seen;
  }
  pending_ = std::move(next);
  if (!pending_.empty()) {
    arm_progress_timer();
  } else if (!view_changing_ && proposals_.empty()) {
    // Nothing waits and nothing was proposed at this height: no progress is
    // owed, so an idle chain does not change views (the timer was armed for
    // transactions that have since committed).
    progress_deadline_ = 0;
  }
  advance();
  return take_ready();
}

void Engine::check_censorship() {
  if (view_changing_ || !is_member() || !oldest_) return;
  // Blocks alone are not enough when blocks are fast: a transaction admitted
  // elsewhere may not have reached the primary yet (gossip), so it must also
  // have waited censorship_ticks_min.
  if (tip_.height > oldest_->height + opts_.censorship_blocks_max &&
      now_tick_ >= oldest_->tick + opts_.censorship_ticks_min) {
    // The primary passed over a transaction it could include: treat it as
    // faulty. The next primary gets a fresh budget.
    const FirstSeen now{tip_.height, now_tick_};
    for (auto& [other, seen] : pending_) seen = now;
    oldest_ = now;
    start_view_change(view_ + 1);
  }
}

Ready Engine::on_verdict(uint64_t height, const Hash32& block, bool valid, uint64_t block_time_ms) {
  if (height == height_ && payloads_.count(block) != 0)
    verdicts_[block] = Verdict{valid, block_time_ms};
  advance();
  return take_ready();
}

Result<Ready> Engine::on_synced_block(const CommitCertificate& cert, uint64_t block_time_ms) {
  if (cert.height != height_)
    return Status::error("consensus.sync_gap", "synced block is for height " +
                                                   std::to_string(cert.height) + "; expected " +
                                                   std::to_string(height_));
  IMI_RETURN_IF_ERROR(verify_commit_certificate(cert, opts_.chain_id, *current_set(), verifier_));
  decide(cert, Bytes{}, block_time_ms, /*emit=*/false);
  advance(/*may_decide=*/false);  // the node applies this block's set change first
  return take_ready();
}

Status Engine::add_validator_set(uint64_t effective_height, ValidatorSet set) {
  if (effective_height <= height_ || set.size() == 0)
    return Status::error("consensus.bad_validator_set",
                         "a validator set change must take effect after the height in progress (" +
                             std::to_string(height_) + ")");
  schedule_.add(effective_height, std::move(set));
  return Status::ok();
}

void Engine::advance(bool may_decide) {
  // Level-triggered: re-evaluate every rule until nothing changes. At most
  // one height is decided per input, so the node applies each committed
  // block (and its validator-set change) before the engine uses later sets.
  bool decided = !may_decide;
  for (int guard = 0; guard < 64; ++guard) {
    uint64_t h = height_, v = view_;
    bool vc = view_changing_;
    size_t spoken = spoken_.size();
    maybe_join_higher_view();
    maybe_send_new_view();
    maybe_request_proposal();
    maybe_prepare();
    maybe_commit_vote();
    if (!decided) {
      maybe_decide();
      decided = h != height_;
    }
    check_censorship();
    if (h == height_ && v == view_ && vc == view_changing_ && spoken == spoken_.size()) break;
  }
}

}  // namespace imi::consensus

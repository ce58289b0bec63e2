// The PBFT engine: a pure, single-owner state machine (STYLE: etcd raft's
// Step/Ready, TigerBeetle's replica). No sockets, clocks, threads, files or
// randomness inside: every input is a method call, every effect is listed in
// the returned Ready. Not thread-safe: one owner calls it.
//
// Protocol (DESIGN "Consensus"), one height at a time:
//   primary(h, v) = set(h)[v mod n]; the view carries over from the view of the
//   previous height's certificate.
//   Proposal -> app verdict -> Prepare; q prepares -> prepared certificate ->
//   Commit; q commits (one view) -> commit certificate -> Committed.
//   No commit within the (backed-off) timeout, or a pending transaction passed
//   over for more than censorship_blocks_max blocks -> ViewChange(v+1) carrying
//   the highest prepared certificate; f+1 view changes for higher views -> join
//   the lowest of them; q view changes -> the new primary sends NewView with
//   them and a proposal that re-proposes the highest prepared block's original
//   bytes (or a fresh block if none prepared).
//   Every checkpoint_interval heights validators sign Checkpoint; q matching make
//   it stable and everything below it is dropped.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <unordered_map>

#include "consensus/durable.h"
#include "consensus/evidence.h"
#include "consensus/messages.h"

namespace imi::consensus {

// Plain options with commented defaults (LevelDB style). Units are in names.
struct Options {
  std::string chain_id;                      // 1-64 of [a-z0-9._-], starting with [a-z0-9]
  ValidatorId self;                          // this node's DID (may be an observer)
  uint64_t checkpoint_interval = 100;        // K: checkpoint every K heights
  uint64_t view_timeout_ticks = 20;          // first view-change timeout
  uint64_t view_timeout_max_ticks = 640;     // back-off cap
  uint64_t rebroadcast_ticks = 8;            // resend own messages of an undecided height
  uint64_t censorship_blocks_max = 3;        // blocks that may pass over a pending tx
  uint64_t censorship_ticks_min = 0;         // ... and ticks it must have waited too (gossip)
  uint64_t block_time_future_max_ms = 2000;  // Delta: block time <= own clock + Delta
  uint64_t view_window = 64;                 // accept views up to view + window
  uint64_t future_messages_max = 1024;       // buffered messages for height + 1
  uint64_t retained_certs_max = 1024;        // certificates kept above the stable checkpoint
  uint64_t pending_refs_max = 100000;        // censorship-tracked transactions
  Limits limits;                             // wire limits
};

// The committed tip the node's ledger holds (genesis: height 0, view 0).
struct ChainTip {
  uint64_t height = 0;
  Hash32 block{};
  uint64_t time_ms = 0;
  uint64_t view = 0;  // view of the tip's certificate (0 for genesis)
  // The tip's certificate, if the node has it: lets a restarted engine help
  // peers that are one height behind.
  std::optional<CommitCertificate> cert;
};

struct Outbound {
  std::optional<ValidatorId> to;  // nullopt: broadcast to every peer (validators and observers)
  Bytes wire;                     // encode(Message)
};

struct Committed {
  uint64_t height = 0;
  Hash32 block{};
  Bytes payload;
  uint64_t block_time_ms = 0;
  CommitCertificate cert;
};

// The engine wants the application to cut a block at (height, view) on top of
// `parent`. Answer with Engine::propose when there is something to propose;
// in a new view (`must_propose`) answer promptly, with an empty block if needed.
struct ProposeRequest {
  uint64_t height = 0;
  uint64_t view = 0;
  Hash32 parent{};
  uint64_t parent_time_ms = 0;
  bool must_propose = false;
};

// The application must execute `payload` in memory on top of `parent`, check
// it hashes to `block`, and answer with Engine::on_verdict.
struct ValidateRequest {
  uint64_t height = 0;
  Hash32 block{};
  Bytes payload;
  Hash32 parent{};
};

// The node is behind: fetch certified blocks from `peer` (up to `height`),
// verify and apply them, then call Engine::on_synced_block for each.
struct SyncHint {
  ValidatorId peer;
  uint64_t height = 0;
};

enum class DropReason : uint8_t {
  kMalformed,
  kNotValidator,
  kBadSignature,
  kWrongPrimary,
  kOldHeight,
  kFutureHeight,
  kOldView,
  kFutureView,
  kDuplicate,
  kBadNewView,
  kBufferFull,
  kCount,
};
std::string_view drop_reason_name(DropReason r);

struct DropCounters {
  std::array<uint64_t, static_cast<size_t>(DropReason::kCount)> by_reason{};
  uint64_t total() const;
  uint64_t operator[](DropReason r) const { return by_reason[static_cast<size_t>(r)]; }
};

// Everything one input caused. THE RULE: the node must first durably store
// `committed` blocks with their certificates (in order), then durably write
// `to_persist` (replacing the previous state), and only then send `messages`.
// A crash anywhere in between is safe; sending before persisting is not: a
// restarted node could then vote differently for a height and view it spoke in.
struct Ready {
  std::optional<DurableState> to_persist;
  std::vector<Outbound> messages;
  std::vector<Committed> committed;
  std::optional<ProposeRequest> propose;
  std::vector<ValidateRequest> validate;
  std::vector<Evidence> evidence;
  std::optional<SyncHint> sync;
  // Tick count at which the engine next needs a tick (0: none). A node that
  // ticks on a fixed period can ignore it.
  uint64_t next_deadline_tick = 0;
  DropCounters dropped;  // messages dropped by this input, by reason

  bool empty() const;
};

// Checks a message's signatures and who may send it against `set` (the set
// in force at the message's height), as the engine does on receipt. Pure: a
// node may call it on another thread first, e.g. to fill a verifier's memory.
Status verify_message(const Message& m, std::string_view chain, const ValidatorSet& set,
                      const Verifier& verifier);

class Engine {
 public:
  // `signer` and `verifier` must outlive the engine. `durable` is the state
  // last persisted from a Ready (nullopt on first start). Errors:
  // "consensus.bad_options", "consensus.state_ahead_of_ledger" (the durable
  // state is for a height beyond tip + 1: store the committed blocks first).
  static Result<std::unique_ptr<Engine>> create(Options options, Signer& signer,
                                                const Verifier& verifier, ChainTip tip,
                                                ValidatorSchedule schedule,
                                                std::optional<DurableState> durable);

  // Call once after create: resends what a restarted node had said and asks
  // for a proposal if this node is the primary.
  Ready start();
  // Bytes received from a peer. Bad input is dropped and counted, never fatal.
  Ready on_message(ByteView wire);
  Ready on_message(const Message& m);
  // A logical tick; `now_ms` is the node's clock, used only for the block-time check.
  Ready on_tick(uint64_t now_ms);
  // The application's block for a ProposeRequest. Ignored if stale.
  Ready propose(uint64_t height, uint64_t view, const Hash32& block, Bytes payload,
                uint64_t block_time_ms);
  // The application's answer to a ValidateRequest.
  Ready on_verdict(uint64_t height, const Hash32& block, bool valid, uint64_t block_time_ms);
  // Censorship: opaque ids of transactions that are valid and next-nonce for
  // their sender (e.g. hash of sender and nonce). Call after applying each
  // committed block: ids that disappeared (included, or nonce used) cancel.
  Ready on_pending(const std::vector<Hash32>& pending);
  // A block the node fetched, verified and applied through block sync.
  // Errors: "consensus.sync_gap" (not tip + 1), certificate errors.
  Result<Ready> on_synced_block(const CommitCertificate& cert, uint64_t block_time_ms);
  // A committed block changed the validator set, in force from `effective_height`.
  // Call right after applying that block. Errors: "consensus.bad_validator_set"
  // (effective height not after the current height).
  Status add_validator_set(uint64_t effective_height, ValidatorSet set);

  uint64_t height() const { return height_; }
  uint64_t view() const { return view_; }
  bool view_changing() const { return view_changing_; }
  uint64_t committed_height() const { return tip_.height; }
  uint64_t stable_checkpoint() const { return stable_height_; }
  const DropCounters& total_dropped() const { return total_dropped_; }
  const ValidatorSchedule& schedule() const { return schedule_; }
  DurableState durable_state() const;

 private:
  Engine(Options options, Signer& signer, const Verifier& verifier);
  struct VoteKey {
    uint64_t view;
    Phase phase;
    ValidatorId validator;
    auto operator<=>(const VoteKey&) const = default;
  };
  struct Verdict {
    bool valid = false;
    uint64_t block_time_ms = 0;
  };

  // engine.cc: plumbing
  static DropReason reason_for_status(const Status& s);
  Ready take_ready();
  void drop(DropReason r);
  void send(const Message& m, std::optional<ValidatorId> to = std::nullopt);
  void speak(Message m);  // records a signed message as durable, then broadcasts it
  const ValidatorSet* current_set() const { return schedule_.at(height_); }
  bool is_member() const;
  bool is_primary() const;
  uint64_t timeout_ticks() const;
  bool view_change_quorum() const;
  void arm_progress_timer();
  void reset_height(uint64_t start_view);
  void restore(const DurableState& d);
  void advance(bool may_decide = true);
  void handle(const Message& m, bool verified);
  void on_tick_timers();
  void rebroadcast();
  void check_censorship();

  // normal_case.cc
  void handle_proposal(const Proposal& p, bool via_new_view);
  void handle_vote(const Vote& v);
  void accept_proposal(const Proposal& p);
  void maybe_request_proposal();
  void maybe_prepare();
  void maybe_commit_vote();
  void maybe_decide();
  void decide(const CommitCertificate& cert, const Bytes& payload, uint64_t block_time_ms,
              bool emit);
  std::optional<Hash32> spoken_vote(uint64_t view, Phase phase) const;
  const Proposal* spoken_proposal(uint64_t view) const;
  std::vector<SigEntry> collect(uint64_t view, Phase phase, const Hash32& block) const;
  void handle_old_height(const ValidatorId& from, uint64_t height, bool stuck);
  void handle_decided(const Decided& d);

  // view_change.cc
  void start_view_change(uint64_t new_view);
  void handle_view_change(const ViewChange& vc);
  void handle_new_view(const NewView& nv);
  void maybe_join_higher_view();
  void maybe_send_new_view();
  void install_view(uint64_t view);

  // checkpoint.cc
  void maybe_checkpoint(uint64_t height, const Hash32& block);
  void handle_checkpoint(const Checkpoint& c);
  void try_stabilize();

  // constant after construction
  const Options opts_;
  Signer& signer_;
  const Verifier& verifier_;

  ValidatorSchedule schedule_;
  ChainTip tip_;

  // The height in progress (tip_.height + 1) and its view state.
  uint64_t height_ = 1;
  uint64_t view_ = 0;
  uint64_t start_view_ = 0;  // the view this height began in (plain proposals only there)
  bool view_changing_ = false;
  std::vector<Message> spoken_;             // own signed messages at height_ (durable)
  std::optional<PreparedCert> prepared_;    // highest prepared certificate held (durable)
  std::map<uint64_t, Proposal> proposals_;  // accepted proposal per view
  std::map<Hash32, Bytes> payloads_;
  std::map<Hash32, Verdict> verdicts_;
  std::set<Hash32> validate_requested_;
  std::map<VoteKey, Vote> votes_;
  std::map<uint64_t, std::map<ValidatorId, ViewChange>> view_changes_;
  std::optional<NewView> new_view_;  // the NewView that installed view_ (resent by its primary)
  bool proposal_requested_ = false;
  std::vector<Message> future_;  // verified messages for height_ + 1

  // timers (logical ticks)
  uint64_t now_tick_ = 0;
  uint64_t now_ms_ = 0;
  uint64_t progress_deadline_ = 0;  // 0: not armed
  uint64_t attempt_ = 0;            // view changes since the last commit (back-off)
  uint64_t next_rebroadcast_ = 0;

  // checkpoints and retained certificates
  uint64_t stable_height_ = 0;
  Hash32 stable_block_{};
  std::map<uint64_t, std::map<ValidatorId, Checkpoint>> checkpoints_;
  std::optional<Checkpoint> own_checkpoint_;
  std::map<uint64_t, CommitCertificate> certs_;
  std::map<std::pair<ValidatorId, uint64_t>, uint64_t> decided_sent_;  // (peer, height) -> tick

  // censorship: pending id -> committed height and tick when first seen
  struct FirstSeen {
    uint64_t height = 0;
    uint64_t tick = 0;
    auto operator<=>(const FirstSeen&) const = default;
  };
  std::unordered_map<Hash32, FirstSeen, Hash32Hasher> pending_;
  // The earliest FirstSeen in pending_ (nullopt when empty). Heights and
  // ticks only grow, so an entry seen earlier has both a lower-or-equal height
  // and tick: if any pending transaction has waited too long, this one has,
  // and check_censorship() runs on every advance() in O(1), not O(pending)
  // (a walk of up to pending_refs_max entries per message was 3.6% of all CPU
  // on 4 validators under load).
  std::optional<FirstSeen> oldest_;

  EvidenceTracker evidence_;

  // the Ready being assembled
  Ready ready_;
  bool dirty_ = false;
  DropCounters total_dropped_;
};

}  // namespace imi::consensus

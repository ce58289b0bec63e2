// Node: the validator network. P2P frames (node/peer_frames.h) over the
// authenticated transport (node/p2p), transaction gossip, block sync
// (node/block_sync.h) with certificate checks, validator-set changes and the
// stall log. Everything here runs on the loop thread (the transport runs on
// the loop's io_context), except queue_gossip.
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdio>

#include "apps/governance.h"
#include "node/consensus_convert.h"
#include "node/node.h"

namespace imi::node {
namespace {

namespace asio = boost::asio;

uint64_t now_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

void log_line(const std::string& s) { std::fprintf(stderr, "imid: %s\n", s.c_str()); }

// Gossip frames stay well below the transport's frame cap.
constexpr size_t kGossipFrameBytesMax = 4 * 1024 * 1024;
constexpr uint64_t kTipIntervalMs = 1000;
constexpr uint64_t kStallLogIntervalMs = 5000;

}  // namespace

void Node::queue_gossip(const ledger::Transaction& tx) {
  if (!gossip_enabled_) return;
  bool first;
  {
    std::lock_guard lock(gossip_mu_);
    first = gossip_out_.empty();
    gossip_out_.push_back(tx.canonical());
    local_txs_.push_back(LocalTx{now_ms(), tx.id(), tx.canonical()});
    if (local_txs_.size() > kLocalTxsMax) local_txs_.pop_front();
  }
  // The first transaction of a batch asks the loop to send at once (no tick
  // of delay for a lone transaction); under load the ones admitted while
  // that post waits go in the same frame.
  if (first)
    asio::post(loop_, [this] {
      if (!failed_ && !loop_closing_ && p2p_) flush_gossip();
    });
}

std::string Node::peer_name(const identity::PublicKey& key) const {
  auto it = key_names_.find(key);
  if (it != key_names_.end()) return it->second;
  return "observer " + identity::did_from_key(key);
}

Status Node::refresh_validator_sets() {
  const Head h = head();
  auto reader = executor_->reader_at(head_root_);
  auto now_set = apps::validator_set_at(*reader, h.height + 1);
  if (!now_set) return now_set.status();
  auto later = apps::validator_set_at(*reader, h.height + 2);
  if (!later) return later.status();
  auto cs_now = to_consensus_set(*now_set);
  if (!cs_now) return cs_now.status();
  std::optional<consensus::ValidatorSet> cs_next;
  if (later->hash() != now_set->hash()) {
    auto n = to_consensus_set(*later);
    if (!n) return n.status();
    cs_next = std::move(*n);
  }
  validators_hash_ = now_set->hash();
  if (engine_ && cs_next) {
    const consensus::ValidatorSet* known = engine_->schedule().at(h.height + 2);
    if (known == nullptr || !(*known == *cs_next)) {
      IMI_RETURN_IF_ERROR(engine_->add_validator_set(h.height + 2, *cs_next));
      log_line("validator set changes at height " + std::to_string(h.height + 2) + ": " +
               std::to_string(cs_next->size()) + " validators (quorum " +
               std::to_string(cs_next->quorum()) + ")" +
               (cs_next->contains(self_) ? "" : "; this node is not among them"));
    }
  }
  next_set_ = cs_next;
  {
    std::lock_guard lock(head_mu_);
    consensus_set_ = std::make_shared<const consensus::ValidatorSet>(std::move(*cs_now));
  }
  std::map<std::string, identity::PublicKey> keys;
  for (const ledger::ValidatorSet* set : {&*now_set, &*later})
    for (const auto& v : set->validators()) keys[v.id] = v.key;
  if (keys != validator_keys_) {
    validator_keys_ = std::move(keys);
    key_names_.clear();
    for (const auto& [id, key] : validator_keys_) key_names_[key] = id;
    if (p2p_) {
      std::vector<identity::PublicKey> admitted = observer_keys_;
      for (const auto& [id, key] : validator_keys_)
        if (key != home_.key.public_key()) admitted.push_back(key);
      p2p_->set_admitted(std::move(admitted));
    }
  }
  return Status::ok();
}

Status Node::open_network() {
  for (const std::string& hex : home_.config.observer_keys) {
    auto key = from_hex_fixed<32>(hex);
    if (!key) return Status::error("config.bad_value", "[p2p] observers: bad key " + hex);
    observer_keys_.push_back(*key);
  }
  const bool lone = validator_keys_.size() == 1 && validator_keys_.count(self_) &&
                    home_.config.peers.empty() && observer_keys_.empty();
  if (lone && !observer_) return Status::ok();  // a one-validator chain: nobody to talk to

  p2p::Options o;
  o.listen_host = home_.config.p2p_listen_enabled ? home_.config.p2p_listen_host : "";
  o.listen_port = home_.config.p2p_listen_port;
  o.frame_bytes_max = std::max<size_t>(16u << 20, limits_.block_bytes_max + (1u << 20));
  o.log = [](p2p::LogLevel level, const std::string& line) {
    log_line(std::string(level == p2p::LogLevel::kWarn ? "p2p warning: " : "p2p: ") + line);
  };
  p2p_ = std::make_unique<p2p::Transport>(loop_, o, home_.key, chain_);
  p2p_->on_message(
      [this](const identity::PublicKey& from, Bytes frame) { on_frame(from, std::move(frame)); });
  p2p_->on_peer_state(
      [this](const identity::PublicKey& peer, bool up) { on_peer_state(peer, up); });
  for (const PeerAddress& p : home_.config.peers) {
    auto key = from_hex_fixed<32>(p.key_hex);
    if (!key) return Status::error("config.bad_value", "[p2p] peers: bad key " + p.key_hex);
    if (*key == home_.key.public_key()) continue;  // a shared peer list may name this node
    p2p_->add_peer_address(*key, p.host, p.port);
  }
  BlockSyncOptions so;
  so.blocks_per_request = static_cast<uint32_t>(home_.config.sync_blocks_per_request);
  sync_ = BlockSync(so);
  std::vector<identity::PublicKey> admitted = observer_keys_;
  for (const auto& [id, key] : validator_keys_)
    if (key != home_.key.public_key()) admitted.push_back(key);
  p2p_->set_admitted(std::move(admitted));
  gossip_enabled_ = true;
  return Status::ok();
}

Status Node::start_network() {
  if (!p2p_) return Status::ok();
  IMI_RETURN_IF_ERROR(p2p_->start());
  log_line(std::string(observer_ ? "observer" : "validator") + " " + self_ + ": P2P on port " +
           std::to_string(p2p_->listen_port()) + ", " + std::to_string(home_.config.peers.size()) +
           " configured peer(s)");
  return Status::ok();
}

void Node::stop_network() {
  gossip_enabled_ = false;
  if (p2p_) p2p_->stop();
}

void Node::send_outbound(const consensus::Outbound& m) {
  if (byzantine_ != nullptr) {
    ByzantineContext ctx;
    ctx.chain = chain_;
    ctx.self = self_;
    ctx.signer = &signer_;
    for (const auto& [id, key] : validator_keys_) ctx.validators.push_back(id);
    ctx.send_to = [this](const std::string& to, const Bytes& wire) {
      auto it = validator_keys_.find(to);
      if (it != validator_keys_.end() && to != self_)
        p2p_->send(it->second, encode_consensus_frame(wire));
    };
    if (byzantine_->intercept(m, ctx)) return;
  }
  const Bytes frame = encode_consensus_frame(m.wire);
  if (m.to) {
    auto it = validator_keys_.find(*m.to);
    if (it != validator_keys_.end()) p2p_->send(it->second, frame);
    return;
  }
  // Consensus messages go to the validators only; observers follow by block sync.
  for (const auto& [id, key] : validator_keys_)
    if (id != self_) p2p_->send(key, frame);
}

void Node::announce_tip() {
  last_tip_sent_ms_ = now_ms();
  p2p_->broadcast(encode_tip_frame(head().height));
}

void Node::on_peer_state(const identity::PublicKey& peer, bool up) {
  log_line((up ? "connected to " : "lost the connection to ") + peer_name(peer));
  {
    std::vector<std::string> names;
    for (const auto& key : p2p_->connected_peers()) names.push_back(peer_name(key));
    std::lock_guard lock(head_mu_);
    peers_connected_ = std::move(names);
  }
  if (up) {
    p2p_->send(peer, encode_tip_frame(head().height));
    // It may have missed what was admitted here while it was away.
    if (key_names_.count(peer)) resend_local_txs(&peer, now_ms(), kTxsPerFrameMax);
  } else {
    sync_.on_disconnect(peer);
  }
}

void Node::on_frame(const identity::PublicKey& from, Bytes bytes) {
  if (failed_ || loop_closing_) return;
  auto frame = decode_frame(bytes);
  if (!frame) {
    metrics_.peer_dropped("p2p." + frame.status().code());
    log_line("dropped a bad frame from " + peer_name(from) + ": " + frame.status().to_string());
    return;
  }
  const bool from_validator = key_names_.count(from) != 0;
  if (auto* c = std::get_if<ConsensusFrame>(&*frame)) {
    if (!engine_ || !from_validator) return;
    // While stopping, the verify pool is being joined: check here, as the
    // engine would anyway.
    if (stopping_) return handle(engine_->on_message(c->wire));
    check_consensus_message(std::move(c->wire));
  } else if (auto* t = std::get_if<TxsFrame>(&*frame)) {
    if (observer_ || stopping_ || !started_) return;
    const size_t n = t->txs.size();
    if (peer_txs_queued_.load() + n > kPeerTxsQueuedMax) {
      metrics_.peer_dropped("p2p.verify_busy");
      return;
    }
    peer_txs_queued_ += n;
    asio::post(gossip_strand(from), [this, n, txs = std::move(t->txs)]() mutable {
      for (auto& tx : txs)
        verify_and_admit(
            std::move(tx), [](Result<api::TxAdmission>) {}, true);
      peer_txs_queued_ -= n;
    });
  } else if (auto* tip = std::get_if<TipFrame>(&*frame)) {
    sync_.on_tip(from, tip->height, now_ms());
  } else if (auto* get = std::get_if<GetBlocksFrame>(&*frame)) {
    serve_blocks(from, get->from, get->count);
  } else if (auto* blocks = std::get_if<BlocksFrame>(&*frame)) {
    sync_.on_blocks(from, blocks->from, std::move(blocks->blocks), now_ms());
    apply_synced_blocks();
  }
}

boost::asio::strand<boost::asio::thread_pool::executor_type>& Node::gossip_strand(
    const identity::PublicKey& peer) {
  auto it = gossip_strands_.find(peer);
  if (it == gossip_strands_.end())
    it = gossip_strands_.emplace(peer, asio::make_strand(verify_pool_->get_executor())).first;
  return it->second;
}

void Node::check_consensus_message(Bytes wire) {
  const bool queued = post_urgent([this, wire = std::move(wire)]() mutable {
    auto m = consensus::decode(wire, consensus_limits_);
    if (m) {
      // Against the set in force at the next height, which nearly every
      // message is for; one for another height (or a set that just changed)
      // is checked by the engine against its own set, as is a failure here.
      std::shared_ptr<const consensus::ValidatorSet> set;
      {
        std::lock_guard lock(head_mu_);
        set = consensus_set_;
      }
      (void)consensus::verify_message(*m, chain_, *set, verifier_);
    }
    asio::post(loop_, [this, wire = std::move(wire), m = std::move(m)] {
      if (failed_ || loop_closing_ || !engine_) return;
      handle(m ? engine_->on_message(*m) : engine_->on_message(wire));
    });
  });
  if (!queued) metrics_.peer_dropped("p2p.verify_busy");
}

void Node::serve_blocks(const identity::PublicKey& peer, uint64_t from, uint32_t count) {
  if (serve_queued_.load() >= kServeQueuedMax) {
    metrics_.peer_dropped("sync.serve_busy");
    return;
  }
  ++serve_queued_;
  const uint64_t top = head().height;
  asio::post(*serve_pool_, [this, peer, name = peer_name(peer), from, count, top] {
    const auto started = std::chrono::steady_clock::now();
    std::vector<SyncedBlock> out;
    size_t bytes = 0;
    for (uint64_t h = std::max<uint64_t>(from, 1); h <= top && h < from + count; ++h) {
      auto block = store_->block_json(h);
      auto cert = store_->cert_json(h);
      if (!block || !cert) break;
      bytes += block->size() + cert->size();
      if (!out.empty() && bytes > kBlocksFrameBytesMax) break;
      out.push_back(SyncedBlock{std::move(*block), std::move(*cert)});
    }
    if (from == 0) out.clear();  // genesis comes from the genesis file, never from a peer
    Bytes frame = encode_blocks_frame(from, out);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
    // Slow reads (a cold cache: 8 MiB took 199 ms once) are worth a line.
    if (ms >= kServeSlowMs)
      log_line("served blocks " + std::to_string(from) + ".." +
               std::to_string(from + out.size() - (out.empty() ? 0 : 1)) + " (" +
               std::to_string(frame.size() >> 10) + " KiB) to " + name + " in " +
               std::to_string(ms) + " ms");
    asio::post(loop_, [this, peer, frame = std::move(frame)] {
      --serve_queued_;
      if (!loop_closing_ && p2p_) p2p_->send(peer, frame);
    });
  });
}

void Node::apply_synced_blocks() {
  while (!failed_) {
    const uint64_t next = head().height + 1;
    auto item = sync_.take(next);
    if (!item) return;
    Status s = apply_synced(item->block);
    if (failed_) return;
    if (!s) {
      log_line("block " + std::to_string(next) + " from " + peer_name(item->peer) + " is bad (" +
               s.to_string() + "); ignoring that peer for a while");
      metrics_.peer_dropped("sync.bad_block");
      sync_.punish(item->peer, now_ms());
    }
  }
}

Status Node::apply_synced(const SyncedBlock& b) {
  const uint64_t height = head().height + 1;
  auto cert = ledger::CommitCertificate::decode(b.cert_json);
  if (!cert) return Status::error("sync.bad_certificate", cert.status().to_string());
  auto block = ledger::Block::decode(b.block_json, limits_, &mempool_);
  if (!block) return Status::error("sync.bad_block", block.status().to_string());
  if (cert->height != height || block->header().height != height)
    return Status::error("sync.wrong_height", "expected height " + std::to_string(height));
  if (cert->block != block->id())
    return Status::error("sync.bad_certificate", "the certificate is for another block");
  auto reader = executor_->reader_at(head_root_);
  auto set = apps::validator_set_at(*reader, height);
  if (!set) {
    fail(set.status());
    return set.status();
  }
  if (Status s = cert->validate(*set, chain_, height, block->id()); !s)
    return Status::error("sync.bad_certificate", s.to_string());
  const auto received_at = std::chrono::steady_clock::now();
  auto exec = check_and_execute(*block);
  const auto executed_at = std::chrono::steady_clock::now();
  if (!exec) {
    if (exec.status().code().starts_with("state.")) {
      fail(exec.status());
      return exec.status();
    }
    return Status::error("sync.bad_block", exec.status().to_string());
  }
  candidates_.clear();
  auto shared = std::make_shared<const ledger::Block>(std::move(*block));
  const uint64_t block_time = shared->header().time_ms;
  // In a run of fetched blocks only every 64th and the last is written synced
  // (each batch is still whole; a crash loses at most a tail that is fetched
  // again). A client waiting on this node for a transaction gets a synced block.
  bool watched;
  {
    std::lock_guard lock(watch_mu_);
    watched = watcher_count_ != 0;
  }
  const bool sync = sync_.buffered() == 0 || height % 64 == 0 || watched;
  if (Status s = commit_executed(shared, *cert, std::move(*exec), received_at, executed_at, sync);
      !s) {
    fail(s);
    return s;
  }
  if (engine_) {
    auto ready = engine_->on_synced_block(to_consensus_cert(*cert), block_time);
    if (!ready) {
      fail(ready.status());
      return ready.status();
    }
    handle(std::move(*ready));
  }
  return Status::ok();
}

void Node::flush_gossip() {
  std::vector<std::string> out;
  {
    std::lock_guard lock(gossip_mu_);
    out.swap(gossip_out_);
  }
  if (!out.empty() && !validator_keys_.empty()) {
    std::vector<std::string> batch;
    size_t bytes = 0;
    auto flush = [&] {
      if (batch.empty()) return;
      const Bytes frame = encode_txs_frame(batch);
      for (const auto& [id, key] : validator_keys_)
        if (id != self_) p2p_->send(key, frame);
      batch.clear();
      bytes = 0;
    };
    for (auto& tx : out) {
      if (batch.size() >= kTxsPerFrameMax || bytes + tx.size() > kGossipFrameBytesMax) flush();
      bytes += tx.size() + 4;
      batch.push_back(std::move(tx));
    }
    flush();
  }
}

void Node::resend_local_txs(const identity::PublicKey* to, uint64_t older_than_ms, size_t max) {
  std::vector<std::string> batch;
  {
    std::lock_guard lock(gossip_mu_);
    // Forget what committed or was rejected (oldest first, so stop early).
    while (!local_txs_.empty() && !mempool_.contains(local_txs_.front().id)) local_txs_.pop_front();
    for (const LocalTx& t : local_txs_) {
      if (batch.size() >= max || t.admitted_ms >= older_than_ms) break;
      if (mempool_.contains(t.id)) batch.push_back(t.canonical);
    }
  }
  if (batch.empty()) return;
  const Bytes frame = encode_txs_frame(batch);
  if (to != nullptr) {
    p2p_->send(*to, frame);
    return;
  }
  for (const auto& [id, key] : validator_keys_)
    if (id != self_) p2p_->send(key, frame);
}

void Node::report_pending() {
  // At most half a block of them, the oldest senders first.
  last_pending_ms_ = now_ms();
  std::vector<Hash32> pending =
      mempool_.pending_heads(std::max<size_t>(1, home_.config.block_txs_max / 2));
  // A deadline overdue by more than the clock tolerance and one empty-block
  // period counts as waiting work too, so a silent primary on an idle chain
  // is replaced (node_deadlines.cc).
  if (auto ref = overdue_deadline_ref()) pending.push_back(*ref);
  handle(engine_->on_pending(pending));
}

void Node::network_tick() {
  const uint64_t now = now_ms();
  // 1. Gossip anything a post has not sent yet; every view timeout, gossip
  //    again what was admitted here and still waits after two of them (a
  //    frame lost while a peer was cut off or restarting).
  flush_gossip();
  const uint64_t regossip_ms = std::max<uint64_t>(1000, home_.config.view_timeout_ms);
  if (now - last_regossip_ms_ >= regossip_ms) {
    last_regossip_ms_ = now;
    resend_local_txs(nullptr, now - 2 * regossip_ms, 5000);
  }
  // 2. Tell peers where we are now and then (tips are also sent on commit).
  if (now - last_tip_sent_ms_ >= kTipIntervalMs) announce_tip();
  // 3. Fetch certified blocks when behind.
  const uint64_t committed = head().height;
  const bool member = engine_ && validator_keys_.count(self_);
  if (sync_.wants_sync(committed, now, !member)) {
    for (const auto& r : sync_.poll(committed, now))
      p2p_->send(r.peer, encode_get_blocks_frame(r.from, r.count));
  }
  // 4. Censorship: the engine watches the transactions next in line (at most
  //    half a block of them, the oldest), and changes view if the primary
  //    keeps passing them over.
  if (member && now - last_pending_ms_ >= 100) {
    report_pending();
    if (failed_) return;
  }
  // 5. Say why the chain is not moving, when it should.
  const bool work_waiting = mempool_.size() > 0 || (engine_ && engine_->view_changing());
  const uint64_t stall_ms = std::max<uint64_t>(5000, 2 * home_.config.view_timeout_ms);
  if (member && work_waiting && now - last_commit_ms_ > stall_ms &&
      now - last_stall_log_ms_ >= kStallLogIntervalMs) {
    last_stall_log_ms_ = now;
    std::string up, down;
    for (const auto& [id, key] : validator_keys_) {
      if (id == self_) continue;
      std::string& list = p2p_->connected(key) ? up : down;
      list += (list.empty() ? "" : ", ") + id;
    }
    std::shared_ptr<const consensus::ValidatorSet> set;
    {
      std::lock_guard lock(head_mu_);
      set = consensus_set_;
    }
    log_line("stalled: no commit for " + std::to_string((now - last_commit_ms_) / 1000) +
             " s at height " + std::to_string(committed + 1) + ", view " +
             std::to_string(engine_->view()) + " (primary " + set->primary(engine_->view()) + ")" +
             (engine_->view_changing() ? ", view change in progress" : "") + "; " +
             std::to_string(mempool_.size()) + " txs waiting; waiting for votes from a quorum of " +
             std::to_string(set->quorum()) + " of " + std::to_string(set->size()) +
             "; connected: [" + up + "]; not connected: [" + down + "]; best peer tip " +
             std::to_string(sync_.best_tip()));
  }
}

}  // namespace imi::node

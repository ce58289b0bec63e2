// Node: the NodeApi reads (any API thread) and wait-for-commit watchers.
// Bodies follow api/openapi.yaml; hashes are lowercase hex.
#include <boost/asio/post.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "api/json_text.h"
#include "apps/identity_registry.h"
#include "apps/identity_registry_resolver.h"
#include "base/sha256.h"
#include "identity/sdjwt_verify.h"
#include "ledger/executor.h"
#include "ledger/json.h"
#include "node/block_results.h"
#include "node/node.h"

namespace imi::node {
namespace {

std::string hex_array(const std::vector<Hash32>& hashes) {
  std::string out = "[";
  for (size_t i = 0; i < hashes.size(); ++i) {
    if (i) out += ",";
    out.push_back('"');
    out.append(to_hex(hashes[i]));
    out.push_back('"');
  }
  return out + "]";
}

constexpr int64_t kPresentationMaxAgeDefaultS = 300;
constexpr int64_t kPresentationMaxAgeMaxS = 86400;

}  // namespace

Node::Head Node::head() const {
  std::lock_guard lock(head_mu_);
  return head_;
}

Result<Node::RecentBlock> Node::recent_block(uint64_t height) {
  {
    std::lock_guard lock(recent_mu_);
    auto it = recent_.find(height);
    if (it != recent_.end()) return it->second;
  }
  auto json = store_->block_json(height);
  if (!json) return json.status();
  auto block = ledger::Block::decode(*json, limits_);
  if (!block) return block.status();
  RecentBlock r;
  std::vector<Hash32> ids;
  for (const auto& tx : block->txs()) ids.push_back(tx.id());
  r.paths = std::make_shared<const MerklePaths>(ids);
  r.block = std::make_shared<const ledger::Block>(std::move(*block));
  std::lock_guard lock(recent_mu_);
  if (recent_.size() < kRecentBlocksMax || height > recent_.begin()->first) {
    recent_[height] = r;
    while (recent_.size() > kRecentBlocksMax) recent_.erase(recent_.begin());
  }
  return r;
}

std::string Node::committed_tx_json(const RecentBlock& rb, uint32_t position,
                                    const std::string& result_json) const {
  const ledger::Block& b = *rb.block;
  const ledger::Transaction& tx = b.txs()[position];
  std::string out = "{\"id\":\"" + tx.id_hex() +
                    "\",\"status\":\"committed\",\"height\":" + std::to_string(b.header().height) +
                    ",\"position\":" + std::to_string(position) + ",\"block_id\":\"" +
                    to_hex(b.id()) + "\",\"time\":" + std::to_string(b.header().time_ms) +
                    ",\"result\":" + result_json;
  if (position < rb.messages.size() && !rb.messages[position].empty())
    out += ",\"message\":" + api::json_quote(rb.messages[position]);
  out += ",\"proof\":{\"index\":" + std::to_string(position) +
         ",\"tree_size\":" + std::to_string(rb.paths->size()) +
         ",\"audit_path\":" + hex_array(rb.paths->path(position)) + ",\"root\":\"" +
         to_hex(b.header().txs_root) + "\"},\"tx\":" + tx.canonical() + "}";
  return out;
}

std::string Node::rejected_tx_json(const Hash32& id, const Rejection& r) const {
  return "{\"id\":\"" + to_hex(id) +
         "\",\"status\":\"rejected\",\"reason\":{\"code\":" + api::json_quote(r.code) +
         ",\"message\":" + api::json_quote(r.message) + "}}";
}

std::optional<api::JsonReply> Node::final_status(const Hash32& id) {
  auto loc = store_->tx_location(id);
  if (loc) {
    auto rb = recent_block(loc->height);
    if (!rb) return api::JsonReply(rb.status());
    auto result = store_->result_json(loc->height, loc->position);
    if (!result) return api::JsonReply(result.status());
    return api::JsonReply(committed_tx_json(*rb, loc->position, *result));
  }
  if (loc.status().code() != "store.not_found") return api::JsonReply(loc.status());
  if (mempool_.contains(id)) return std::nullopt;
  if (auto r = mempool_.rejection(id)) return api::JsonReply(rejected_tx_json(id, *r));
  return std::nullopt;
}

void Node::notify(const Hash32& id, const api::JsonReply& body) {
  std::vector<TxWatcher> waiting;
  {
    std::lock_guard lock(watch_mu_);
    auto it = watchers_.find(id);
    if (it == watchers_.end()) return;
    waiting = std::move(it->second);
    watcher_count_ -= waiting.size();
    watchers_.erase(it);
  }
  for (auto& w : waiting) w.done(body);
}

bool Node::room_for_tx_watcher() {
  if (watcher_count_ < kWatchersMax) return true;
  if (!tx_sweep_.due(kWatchersMax)) {
    ++tx_sweep_.refused;
    return false;
  }
  tx_sweep_ = {};
  for (auto it = watchers_.begin(); it != watchers_.end();) {
    auto& list = it->second;
    const size_t before = list.size();
    std::erase_if(list, [](const TxWatcher& w) { return w.owner.expired(); });
    watcher_count_ -= before - list.size();
    it = list.empty() ? watchers_.erase(it) : std::next(it);
  }
  if (watcher_count_ < kWatchersMax) return true;
  ++tx_sweep_.refused;
  return false;
}

bool Node::room_for_height_watcher() {
  if (height_watchers_.size() < kHeightWatchersMax) return true;
  if (!height_sweep_.due(kHeightWatchersMax)) {
    ++height_sweep_.refused;
    return false;
  }
  height_sweep_ = {};
  std::erase_if(height_watchers_, [](const auto& e) { return e.second.owner.expired(); });
  if (height_watchers_.size() < kHeightWatchersMax) return true;
  ++height_sweep_.refused;
  return false;
}

void Node::watch_tx(std::string id_hex, Owner owner, TxDone done) {
  auto id = from_hex_fixed<32>(id_hex);
  if (!id) {
    done(Status::error("tx.not_found", "no transaction " + id_hex));
    return;
  }
  std::unique_lock lock(watch_mu_);
  // Checked under watch_mu_: a commit notifies after its synced write, under
  // the same lock, so no commit can slip between this check and the insert.
  if (auto final = final_status(*id)) {
    lock.unlock();
    done(std::move(*final));
    return;
  }
  if (stopping_ || !room_for_tx_watcher()) {
    lock.unlock();
    done(Status::error(
        "node.watchers_full",
        "the node cannot wait for more transactions now; poll GET /v1/txs/" + id_hex));
    return;
  }
  watchers_[*id].push_back(TxWatcher{std::move(owner), std::move(done)});
  ++watcher_count_;
  ++tx_sweep_.added;
}

void Node::watch_height(uint64_t height, Owner owner, HeightDone done) {
  std::unique_lock lock(watch_mu_);
  // Checked under watch_mu_: a commit moves the head, then fires under the
  // same lock, so none can slip between this check and the insert.
  if (head().height >= height || stopping_ || !room_for_height_watcher()) {
    lock.unlock();
    done();
    return;
  }
  height_watchers_.emplace(height, HeightWatcher{std::move(owner), std::move(done)});
  ++height_sweep_.added;
}

api::JsonReply Node::get_tx(std::string_view id_hex) {
  auto id = from_hex_fixed<32>(id_hex);
  if (!id) return Status::error("tx.not_found", "no transaction " + std::string(id_hex));
  if (auto final = final_status(*id)) return std::move(*final);
  if (auto tx = mempool_.get(*id))
    return "{\"id\":\"" + tx->id_hex() + "\",\"status\":\"pending\",\"tx\":" + tx->canonical() +
           "}";
  if (auto final = final_status(*id)) return std::move(*final);  // committed meanwhile
  return Status::error("tx.not_found", "no transaction " + std::string(id_hex) +
                                           " is known to this node; submit it with POST /v1/txs");
}

namespace {

// {"certificate",["deadlines",]"header","height","id"[,"txs"]} from a
// stored block; with_txs also gives the deadlines it fired (at most
// `deadlines_max`), as node/block_results.h serves them.
Result<std::string> block_body(ledger::Store& store, uint64_t height, bool with_txs,
                               size_t deadlines_max) {
  auto json = store.block_json(height);
  if (!json) {
    if (json.status().code() == "store.not_found")
      return Status::error("block.not_found", "no block at height " + std::to_string(height) +
                                                  "; see GET /v1/status for the chain height");
    return json.status();
  }
  ledger::JsonLimits limits;
  limits.max_bytes = json->size();
  limits.max_depth = ledger::kJsonDepthCeiling;
  limits.max_members = 1u << 20;
  limits.max_string_bytes = json->size();
  auto doc = ledger::parse_strict(*json, limits);
  if (!doc) return doc.status();
  auto header = ledger::get_object(*doc, "header");
  if (!header) return header.status();
  const std::string header_json = ledger::jcs(**header);
  std::string cert = "null";
  if (height > 0) {
    auto c = store.cert_json(height);
    if (!c) return c.status();
    cert = *c;
  }
  std::string out = "{\"certificate\":" + cert;
  if (with_txs) {
    auto tx_count = ledger::get_uint(**header, "tx_count");
    if (!tx_count) return tx_count.status();
    auto deadlines = read_deadline_results(store, height, *tx_count, deadlines_max);
    if (!deadlines) return deadlines.status();
    out += ",\"deadlines\":[";
    for (size_t i = 0; i < deadlines->size(); ++i) {
      if (i) out += ",";
      out += deadline_result_json((*deadlines)[i]);
    }
    out += "]";
  }
  out += ",\"header\":" + header_json + ",\"height\":" + std::to_string(height) + ",\"id\":\"" +
         to_hex(sha256(header_json)) + "\"";
  if (with_txs) {
    auto txs = ledger::get_array(*doc, "txs");
    if (!txs) return txs.status();
    out += ",\"txs\":" + ledger::jcs(**txs);
  }
  return out + "}";
}

}  // namespace

api::JsonReply Node::get_block(uint64_t height) {
  return block_body(*store_, height, true, home_.genesis.block_time().deadlines_per_block_max);
}

Result<api::BlockPage> Node::list_blocks(uint64_t from, uint32_t limit) {
  const uint64_t top = head().height;
  if (from > top)
    return Status::error("block.not_found", "no block at height " + std::to_string(from) +
                                                "; the chain height is " + std::to_string(top));
  api::BlockPage page;
  const uint64_t end = std::min<uint64_t>(top, from + (limit == 0 ? 1 : limit) - 1);
  // A page stops once it holds [api] page_bytes_max (always at least one
  // block): 100 full blocks would be gigabytes built on an API thread.
  const size_t budget = home_.config.api.page_bytes_max;
  size_t bytes = 0;
  uint64_t h = from;
  for (; h <= end && (page.blocks.empty() || bytes < budget); ++h) {
    auto body = block_body(*store_, h, true, home_.genesis.block_time().deadlines_per_block_max);
    if (!body) return body.status();
    bytes += body->size();
    page.blocks.push_back(std::move(*body));
  }
  if (h <= top) page.next = h;
  return page;
}

uint64_t Node::head_height() { return head().height; }

api::JsonReply Node::get_state(std::string_view app, std::string_view key) {
  if (app != "account" && executor_app(std::string(app)) == nullptr)
    return Status::error("state.unknown_app",
                         "no app named \"" + std::string(app) + "\" on this chain");
  const Head h = head();
  std::lock_guard lock(state_mu_);
  if (!read_tree_) return Status::error("node.stopping", "the node is shutting down");
  auto proven = read_tree_->prove(h.state_root, app, key);
  if (!proven) return proven.status();
  std::string out = "{\"app\":" + api::json_quote(app) + ",\"key\":" + api::json_quote(key) +
                    ",\"value\":" + (proven->value ? *proven->value : std::string("null")) +
                    ",\"height\":" + std::to_string(h.height) + ",\"block\":\"" + to_hex(h.id) +
                    "\",\"state_root\":\"" + to_hex(h.state_root) +
                    "\",\"proof\":" + ledger::state_proof_to_json(proven->proof) + "}";
  return out;
}

api::JsonReply Node::get_did(std::string_view did) {
  const Head h = head();
  std::lock_guard lock(state_mu_);
  if (!read_tree_) return Status::error("node.stopping", "the node is shutting down");
  const ledger::RootReader reader(*read_tree_, h.state_root);
  auto doc = apps::did_document(reader, did);
  if (!doc) return doc.status();
  if (!*doc) {
    return Status::error("did.not_found", "no identity " + std::string(did) +
                                              " is registered on this chain (as of height " +
                                              std::to_string(h.height) + ")");
  }
  return std::move(**doc);
}

api::JsonReply Node::verify_presentation(std::string body) {
  auto parsed = ledger::parse_strict(body);
  if (!parsed) return parsed.status();
  const rapidjson::Document& d = *parsed;
  IMI_RETURN_IF_ERROR(
      ledger::expect_members(d, {"presentation", "audience", "nonce"}, {"max_age_s"}));
  auto presentation = ledger::get_string(d, "presentation");
  if (!presentation) return presentation.status();
  auto audience = ledger::get_string(d, "audience");
  if (!audience) return audience.status();
  auto nonce = ledger::get_string(d, "nonce");
  if (!nonce) return nonce.status();
  identity::sdjwt::Expectations expect;
  expect.aud = std::string(*audience);
  expect.nonce = std::string(*nonce);
  expect.max_age_s = kPresentationMaxAgeDefaultS;
  if (ledger::has_field(d, "max_age_s")) {
    auto max_age = ledger::get_int(d, "max_age_s");
    if (!max_age) return max_age.status();
    if (*max_age < 1 || *max_age > kPresentationMaxAgeMaxS) {
      return Status::error("json.integer_range",
                           "max_age_s must be from 1 to 86400 seconds (default 300)");
    }
    expect.max_age_s = *max_age;
  }
  expect.now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  const Head h = head();
  std::lock_guard lock(state_mu_);
  if (!read_tree_) return Status::error("node.stopping", "the node is shutting down");
  const ledger::RootReader reader(*read_tree_, h.state_root);
  const apps::ChainResolver resolver(reader);
  auto verification = identity::sdjwt::verify(*presentation, expect, resolver);
  if (!verification) return verification.status();
  return verification->to_json();
}

api::JsonReply Node::status() {
  const Head h = head();
  std::shared_ptr<const consensus::ValidatorSet> set;
  std::vector<std::string> peers;
  {
    std::lock_guard lock(head_mu_);
    set = consensus_set_;
    peers = peers_connected_;
  }
  std::string validators = "[";
  for (size_t i = 0; i < set->validators().size(); ++i) {
    const auto& v = set->validators()[i];
    if (i) validators += ",";
    validators += "{\"id\":\"" + v.id + "\",\"key\":\"" + to_hex(v.key) + "\"}";
  }
  validators += "]";
  std::string connected = "[";
  for (size_t i = 0; i < peers.size(); ++i) connected += (i ? ",\"" : "\"") + peers[i] + "\"";
  connected += "]";
  std::string apps = "[";
  for (const auto& entry : apps_) apps += (apps.size() > 1 ? ",\"" : "\"") + entry.first + "\"";
  apps += "]";
  return "{\"apps\":" + apps + ",\"chain\":" + api::json_quote(chain_) +
         ",\"height\":" + std::to_string(h.height) + ",\"last_block_id\":\"" + to_hex(h.id) +
         "\",\"last_block_time\":" + std::to_string(h.time_ms) +
         ",\"mempool_size\":" + std::to_string(mempool_.size()) +
         ",\"node\":" + api::json_quote(self_) + ",\"peers_connected\":" + connected +
         ",\"primary\":\"" + set->primary(h.view) + "\",\"role\":\"" +
         (observer_ ? "observer" : (set->contains(self_) ? "validator" : "follower")) +
         "\",\"validators\":" + validators + ",\"view\":" + std::to_string(h.view) + "}";
}

Status Node::ready() {
  if (failed_) return Status::error("node.not_ready", "the node stopped after a storage error");
  if (stopping_) return Status::error("node.stopping", "the node is shutting down");
  if (!started_) return Status::error("node.not_ready", "the node is starting");
  return Status::ok();
}

std::string Node::metrics_text() {
  Gauges g;
  const Head h = head();
  g.height = h.height;
  g.view = h.view;
  g.mempool_txs = mempool_.size();
  g.mempool_bytes = mempool_.bytes();
  g.sig_cache_size = sig_cache_.size();
  g.consensus_sigs_prechecked = verifier_.remembered_hits();
  return metrics_.render(g);
}

namespace {

// One signed message of a piece of evidence: what it says, the exact text
// its signer signed (`domain`, one '\n', then `signed`) and the signature.
Result<rapidjson::Value> evidence_message(std::string_view chain, std::string_view hex,
                                          const consensus::Limits& limits,
                                          rapidjson::Document::AllocatorType& a) {
  auto wire = from_hex(hex);
  if (!wire) return Status::error("node.bad_evidence", "a message is not hex");
  auto m = consensus::decode(*wire, limits);
  if (!m)
    return Status::error("node.bad_evidence",
                         "a message does not decode: " + m.status().to_string());
  rapidjson::Value out(rapidjson::kObjectType);
  auto put = [&](const char* key, std::string_view value) {
    out.AddMember(rapidjson::StringRef(key),
                  rapidjson::Value(value.data(), static_cast<rapidjson::SizeType>(value.size()), a),
                  a);
  };
  auto put_uint = [&](const char* key, uint64_t value) {
    out.AddMember(rapidjson::StringRef(key), rapidjson::Value(value), a);
  };
  if (const auto* p = std::get_if<consensus::Proposal>(&*m)) {
    const Hash32 digest = sha256(p->payload);
    put("type", "proposal");
    put("signer", p->proposer);
    put_uint("height", p->height);
    put_uint("view", p->view);
    put("block", to_hex(p->block));
    put("payload_sha256", to_hex(digest));
    put("domain", identity::domain_tag(identity::Domain::kProposal));
    put("signed", consensus::proposal_canonical(chain, p->height, p->view, p->block, digest));
    put("sig", to_hex(p->sig));
  } else if (const auto* v = std::get_if<consensus::Vote>(&*m)) {
    put("type", "vote");
    put("signer", v->validator);
    put_uint("height", v->height);
    put_uint("view", v->view);
    put("phase", consensus::phase_name(v->phase));
    put("block", to_hex(v->block));
    put("domain", identity::domain_tag(identity::Domain::kVote));
    put("signed", consensus::vote_canonical(chain, v->height, v->view, v->block, v->phase));
    put("sig", to_hex(v->sig));
  } else {
    return Status::error("node.bad_evidence", "a message is neither a proposal nor a vote");
  }
  return out;
}

}  // namespace

api::JsonReply Node::list_evidence(uint64_t from, uint32_t limit) {
  // The loop appends whole lines and fsyncs each; a last line without its
  // newline is still being written and is left for the next call.
  const auto path = std::filesystem::path(home_.data_dir) / "evidence.jsonl";
  std::ifstream in(path);
  rapidjson::Document page(rapidjson::kObjectType);
  auto& a = page.GetAllocator();
  rapidjson::Value pieces(rapidjson::kArrayType);
  uint64_t index = 0;
  std::optional<uint64_t> next;
  std::string line;
  while (in && std::getline(in, line) && !in.eof()) {
    const uint64_t at = index++;
    if (at < from) continue;
    if (pieces.Size() == limit) {
      next = at;
      break;
    }
    rapidjson::Document d;
    d.Parse(line.data(), line.size());
    auto str = [&d](const char* k) -> std::string_view {
      if (!d.IsObject() || !d.HasMember(k) || !d[k].IsString()) return {};
      return {d[k].GetString(), d[k].GetStringLength()};
    };
    auto num = [&d](const char* k) -> uint64_t {
      return d.IsObject() && d.HasMember(k) && d[k].IsUint64() ? d[k].GetUint64() : 0;
    };
    auto text = [&a](std::string_view s) {
      return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
    };
    rapidjson::Value piece(rapidjson::kObjectType);
    piece.AddMember("index", at, a);
    piece.AddMember("kind", text(str("kind")), a);
    piece.AddMember("validator", text(str("validator")), a);
    piece.AddMember("height", num("height"), a);
    piece.AddMember("view", num("view"), a);
    std::string error;
    for (const char* which : {"first", "second"}) {
      auto m = evidence_message(chain_, str(which), consensus_limits_, a);
      if (m) {
        piece.AddMember(rapidjson::StringRef(which), std::move(*m), a);
      } else {
        piece.AddMember(rapidjson::StringRef(which), rapidjson::Value(), a);
        error = m.status().message();
      }
    }
    // Not expected (lines are written whole and fsynced): say where to look.
    if (!error.empty())
      piece.AddMember(
          "error", text(error + " (line " + std::to_string(at + 1) + " of " + path.string() + ")"),
          a);
    pieces.PushBack(std::move(piece), a);
  }
  page.AddMember("evidence", std::move(pieces), a);
  page.AddMember("next", next ? rapidjson::Value(*next) : rapidjson::Value(), a);
  return ledger::jcs(page);
}

}  // namespace imi::node

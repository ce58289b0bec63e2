// The narrow interface the HTTP API consumes and the node implements
// (STYLE: interfaces are declared where they are consumed). The API server
// knows nothing about the mempool, consensus or LevelDB; it validates HTTP,
// path and query parameters, then asks the node through this class.
//
// Bodies are JSON text already serialised by the node (the node owns the
// ledger data and its JSON mapping, see api/openapi.yaml for the shapes).
// Errors are imi::Status values with stable codes; the server maps each code
// to an RFC 9457 problem with api/problems.h, so the node never deals in
// HTTP statuses.
//
// Threading: the server calls every method on one of the threads running
// its io_context (see api/http_server.h), possibly on several threads at
// once. The synchronous methods must therefore be thread-safe and quick (a
// LevelDB read or a snapshot taken under a mutex): they must not wait for
// the consensus loop. The asynchronous methods return at once and call
// `done` later, exactly once, from any thread (also from inside the call);
// the server hops back to the connection's strand itself.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace imi::api {

// A JSON body serialised by the node, or an error Status.
using JsonReply = Result<std::string>;

// What the node answers once a submitted transaction passed admission.
struct TxAdmission {
  std::string id;  // 64 lowercase hex: SHA-256 of the transaction's JCS
};

// One page of blocks for GET /v1/blocks?from=&limit=.
struct BlockPage {
  std::vector<std::string> blocks;  // each a block object (header, id, certificate), ascending
  // Height to pass as `from` for the next page; nullopt when the page ends at
  // the chain's current height.
  std::optional<uint64_t> next;
};

// One committed block as the event stream (GET /v1/events) sends it.
struct BlockEvents {
  // {"type":"block","height","id","time","txs":[{"id","position","from",
  // "app","op","result":{"code","events"}}],"deadlines":[{"app","key",
  // "time","code","events","position"}]} (api/openapi.yaml): the deadlines
  // the block fired, in firing order, position = tx_count + i (their leaf in
  // results_root).
  std::string json;
  size_t matched = 0;  // entries in `txs` and `deadlines` (after the filter)
};

// GET /v1/events?app=&skill=&cell=: which transactions and fired deadlines
// a block message keeps; an empty member does not filter. `app`: of that
// app. `skill`: one of its events has "skill" equal to it. `cell`: one of its
// events has "cell" equal to it or "cells" (an array) holding it. With both
// skill and cell, one event must match both.
struct EventFilter {
  std::string app;
  std::string skill;
  std::string cell;
  bool empty() const { return app.empty() && skill.empty() && cell.empty(); }
};

// GET /v1/apps/{app}/{query}?<params>&cursor=&limit=.
struct AppQuery {
  std::string app;    // [a-z][a-z0-9_]{0,31}
  std::string query;  // [a-z][a-z0-9_]{0,31}
  // The other query parameters, percent-decoded (the app checks them).
  std::map<std::string, std::string, std::less<>> params;
  std::string cursor;   // empty: the first page
  uint32_t limit = 50;  // 1..100
};

class NodeApi {
 public:
  virtual ~NodeApi() = default;

  // POST /v1/txs. `body` is the raw request body (at most the server's
  // body_bytes_max, content type already checked as application/json). The
  // node runs its admission checks (strict JSON, chain, signature, nonce,
  // caps) and calls `done` with the id, or with the Status that rejected it
  // (e.g. "json.float", "tx.bad_signature", "tx.wrong_chain",
  // "tx.nonce_used", "mempool.full", "node.not_ready"). A transaction that
  // is already pending or committed is not an error: `done` gets its id.
  using SubmitDone = std::function<void(Result<TxAdmission>)>;
  virtual void submit_tx(std::string body, SubmitDone done) = 0;

  // Who waits: a watcher whose owner expired (the request is over) may be
  // forgotten by the node without being called, so that requests that ended
  // never use up the node's room for watchers.
  using Owner = std::weak_ptr<const void>;

  // For POST /v1/txs?wait=commit, called after submit_tx admitted `id`.
  // Calls `done` once the transaction is final (committed or rejected) with
  // the same body GET /v1/txs/{id} would return, or with an error. If it is
  // already final when this is called, `done` may run at once. When too many
  // wait (or the node is stopping), `done` runs at once with
  // "node.watchers_full": the server answers as if the wait ran out. The
  // server stops waiting after wait_commit_timeout_ms and ignores a later
  // call.
  using TxDone = std::function<void(JsonReply)>;
  virtual void watch_tx(std::string id, Owner owner, TxDone done) = 0;

  // For GET /v1/blocks?from=H&wait_ms=W when block H does not exist yet.
  // Calls `done` once the chain's height is at least `height` (at once if it
  // is already), exactly once, from any thread. It may call it sooner (while
  // stopping, or when too many requests wait); the server then answers an
  // empty page. The server stops waiting after W ms and ignores a later call.
  using HeightDone = std::function<void()>;
  virtual void watch_height(uint64_t height, Owner owner, HeightDone done) = 0;

  // Height of the last committed block (GET /v1/events starts after it when
  // the client names no `from`).
  virtual uint64_t head_height() = 0;

  // GET /v1/events: block `height` for the event stream, with each
  // transaction's result and the deadlines it fired; with a filter only the
  // transactions and deadlines it keeps (the block is still answered,
  // `matched` 0). Above the chain height: "block.not_found".
  virtual Result<BlockEvents> block_events(uint64_t height, const EventFilter& filter) = 0;

  // GET /v1/txs/{id} (`id` already checked: 64 lowercase hex). The status
  // object: pending | committed (height, position, result, inclusion proof)
  // | rejected (reason). Unknown id: "tx.not_found".
  virtual JsonReply get_tx(std::string_view id) = 0;

  // GET /v1/blocks/{height}: the block with header, id and commit
  // certificate. Above the chain height: "block.not_found".
  virtual JsonReply get_block(uint64_t height) = 0;

  // GET /v1/blocks?from=&limit=: up to `limit` (1..100) blocks from height
  // `from` upwards. `from` above the chain height: "block.not_found".
  virtual Result<BlockPage> list_blocks(uint64_t from, uint32_t limit) = 0;

  // GET /v1/state/{app}/{key} (`key` percent-decoded, valid UTF-8). The value
  // (null when absent) with its sparse-Merkle proof against the state_root
  // of a named committed block. Unknown app: "state.unknown_app".
  virtual JsonReply get_state(std::string_view app, std::string_view key) = 0;

  // GET /v1/apps/{app}/{query}: runs the app's named query over the ordered
  // index at the committed head, then reads each key it names, with its
  // sparse-Merkle proof, at one committed state root (taken before the
  // scan; keys absent there are left out):
  // {"app","query","height","block","state_root","items":[{"key","value",
  // "proof"}],"next":cursor|null}. Errors: "query.unknown_app" (no such
  // app), "query.unknown" (the app has no such query, or none; the message
  // lists its queries), "query.bad_param" (the message names the
  // parameter), store.* if reading failed.
  virtual JsonReply app_query(const AppQuery& query) = 0;

  // GET /v1/dids/{did} (`did` already checked: identity::is_valid_did). The
  // W3C DID document from the latest committed state (apps::did_document).
  // Never registered: "did.not_found".
  virtual JsonReply get_did(std::string_view did) = 0;

  // GET /v1/evidence?from=&limit=: up to `limit` (1..100) pieces of
  // equivocation evidence this node kept, from the `from`-th (0-based, in the
  // order kept): {"evidence":[...],"next":index|null}, each message with the
  // exact text its signer signed, so anyone can check it (api/openapi.yaml).
  virtual JsonReply list_evidence(uint64_t from, uint32_t limit) = 0;

  // POST /v1/presentations/verify. `body` is the raw request body
  // (application/json): {"presentation","audience","nonce"[,"max_age_s"]}.
  // Runs identity::sdjwt::verify against the latest committed state and
  // answers Verification::to_json() (a failed check is still an answer, not
  // an error). A body that breaks the schema: a "json.*" Status.
  virtual JsonReply verify_presentation(std::string body) = 0;

  // GET /v1/status: chain, height, last_block_id, last_block_time, view,
  // primary, validators.
  virtual JsonReply status() = 0;

  // GET /readyz: ok when the node serves current data and admits
  // transactions; otherwise a Status saying why (e.g. "node.syncing").
  virtual Status ready() = 0;

  // GET /metrics: the node's own metrics in Prometheus text exposition
  // format (height, view, mempool size, ...); the server appends its own.
  virtual std::string metrics_text() = 0;
};

}  // namespace imi::api

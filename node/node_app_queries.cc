// Node: app queries (GET /v1/apps/{app}/{query}; ledger/app.h "Queries"):
// the app names keys by scanning the ordered index, and each is served with
// its value and sparse-Merkle proof at one committed state root.
#include "api/json_text.h"
#include "ledger/json.h"
#include "ledger/smt_proof.h"
#include "node/node.h"

namespace imi::node {
namespace {

std::string names_list(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
  return out;
}

}  // namespace

api::JsonReply Node::app_query(const api::AppQuery& q) {
  const ledger::App* app = executor_app(q.app);
  if (app == nullptr)
    return Status::error("query.unknown_app", "no app named \"" + q.app + "\" on this chain");
  const std::vector<std::string> names = app->query_names();
  if (!app->indexed() || names.empty())
    return Status::error("query.unknown", "app " + q.app + " answers no queries");
  // The root every value is read and proven at, taken before the scan: the
  // index may move on while it runs (a commit), and keys it names that are
  // absent at this root are left out, so every item is proven at one root.
  const Head h = head();
  auto page = app->query(q.query, q.params, q.cursor, q.limit, *index_);
  if (!page) {
    if (page.status().code() == "query.unknown")
      return Status::error("query.unknown", "app " + q.app + " has no query \"" + q.query +
                                                "\"; its queries: " + names_list(names));
    return page.status();
  }
  std::string items = "[";
  size_t n = 0;
  {
    std::lock_guard lock(state_mu_);
    if (!read_tree_) return Status::error("node.stopping", "the node is shutting down");
    for (const std::string& key : page->keys) {
      auto proven = read_tree_->prove(h.state_root, q.app, key);
      if (!proven) return proven.status();
      if (!proven->value) continue;
      if (n++ > 0) items += ",";
      items += "{\"key\":" + api::json_quote(key) +
               ",\"proof\":" + ledger::state_proof_to_json(proven->proof) +
               ",\"value\":" + *proven->value + "}";
    }
  }
  items += "]";
  return "{\"app\":" + api::json_quote(q.app) + ",\"block\":\"" + to_hex(h.id) +
         "\",\"height\":" + std::to_string(h.height) + ",\"items\":" + items +
         ",\"next\":" + (page->next.empty() ? std::string("null") : api::json_quote(page->next)) +
         ",\"query\":" + api::json_quote(q.query) + ",\"state_root\":\"" + to_hex(h.state_root) +
         "\"" + (page->summary.empty() ? std::string() : ",\"summary\":" + page->summary) + "}";
}

}  // namespace imi::node

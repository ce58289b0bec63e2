// Node: the event stream's block messages (GET /v1/events), with the
// deadlines each block fired and the app / skill / cell filters.
#include "api/json_text.h"
#include "ledger/json.h"
#include "node/block_results.h"
#include "node/node.h"

namespace imi::node {

Result<api::BlockEvents> Node::block_events(uint64_t height, const api::EventFilter& filter) {
  const uint64_t top = head().height;
  if (height > top)
    return Status::error("block.not_found", "no block at height " + std::to_string(height) +
                                                "; the chain height is " + std::to_string(top));
  auto json = store_->block_json(height);
  if (!json) return json.status();
  auto block = ledger::Block::decode(*json, limits_);
  if (!block) return block.status();
  const ledger::BlockHeader& h = block->header();
  // Filters on events need each result parsed; the app filter alone does not.
  const bool by_events = !filter.skill.empty() || !filter.cell.empty();
  api::BlockEvents ev;
  std::string& out = ev.json;
  out = "{\"type\":\"block\",\"height\":" + std::to_string(height) + ",\"id\":\"" +
        to_hex(block->id()) + "\",\"time\":" + std::to_string(h.time_ms) + ",\"txs\":[";
  const auto& txs = block->txs();
  size_t listed = 0;
  for (uint32_t i = 0; i < txs.size(); ++i) {
    const ledger::Transaction& tx = txs[i];
    if (!filter.app.empty() && tx.app() != filter.app) continue;
    auto result = store_->result_json(height, i);
    if (!result) return result.status();
    if (by_events) {
      auto parsed = ledger::TxResult::decode(*result);
      if (!parsed) return parsed.status();
      if (!events_match(parsed->events(), filter.skill, filter.cell)) continue;
    }
    if (listed++ > 0) out += ",";
    out += "{\"id\":\"" + tx.id_hex() + "\",\"position\":" + std::to_string(i) +
           ",\"from\":" + api::json_quote(tx.from()) + ",\"app\":" + api::json_quote(tx.app()) +
           ",\"op\":" + api::json_quote(tx.op()) + ",\"result\":" + *result + "}";
  }
  out += "],\"deadlines\":[";
  auto deadlines = read_deadline_results(*store_, height, txs.size(),
                                         home_.genesis.block_time().deadlines_per_block_max);
  if (!deadlines) return deadlines.status();
  size_t fired = 0;
  for (const DeadlineResult& d : *deadlines) {
    if (!filter.app.empty() && d.result.deadline()->app != filter.app) continue;
    if (by_events && !events_match(d.result.events(), filter.skill, filter.cell)) continue;
    if (fired++ > 0) out += ",";
    out += deadline_result_json(d);
  }
  out += "]}";
  ev.matched = listed + fired;
  return ev;
}

}  // namespace imi::node

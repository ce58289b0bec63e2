#include "ledger/reindex.h"

namespace imi::ledger {

Status rebuild_index(Store& store, Executor& exec, const Genesis& genesis,
                     const std::function<void(uint64_t)>& progress) {
  std::optional<StoreHead> head = store.head();
  if (!head) return Status::error("store.not_found", "the store holds no chain yet");
  LevelDbNodeStore roots(*store.db());
  IMI_RETURN_IF_ERROR(store.clear_index());

  auto gen = exec.make_genesis(genesis);
  if (!gen) return gen.status();
  auto root0 = roots.read_root(0);
  if (!root0) return root0.status();
  if (!*root0 || **root0 != gen->second.state_root)
    return Status::error("exec.state_root_mismatch",
                         "this genesis does not give the store's genesis state root");
  IMI_RETURN_IF_ERROR(store.apply_index(exec.index_writes(gen->second)));

  Hash32 parent = gen->second.state_root;
  for (uint64_t h = 1; h <= head->height; ++h) {
    auto text = store.block_json(h);
    if (!text) return text.status();
    auto block = Block::decode(*text, genesis.limits());
    if (!block) return block.status();
    exec.set_committed_root(parent);
    auto executed = exec.execute_block(*block, parent);
    if (!executed) return executed.status();
    IMI_RETURN_IF_ERROR(store.apply_index(exec.index_writes(*executed)));
    parent = executed->state_root;
    if (progress) progress(h);
  }
  exec.set_committed_root(parent);
  // A schema 2 store (opened with accept_schema_2) is whole now.
  return store.write_current_schema();
}

}  // namespace imi::ledger

// Rebuilding the ordered index of committed values (ledger/app.h "Queries")
// from the chain, for an operator whose index is lost or suspect (or after a
// new rule makes another namespace indexed). The state tree's leaves hold
// paths (hashes of "<app>/<key>"), not names, so the index cannot be read
// back out of the tree alone; instead every committed block is executed
// again on its parent's state root (the store keeps every root), which gives
// the block's writes by name. Each block's results_root and state_root must
// come out as its header says, so a rebuilt index that differs from what the
// chain implies (e.g. a deadline schedule that fires other deadlines) is an
// error, never written silently.
#pragma once

#include <functional>

#include "ledger/executor.h"
#include "ledger/genesis.h"
#include "ledger/store.h"

namespace imi::ledger {

// Clears `store`'s index and rebuilds it from genesis to the head with
// `exec`, which must read that store's tree and index (ExecutorOptions.index
// a StoreIndex over `store`). The store must be offline (no node running).
// Errors: store.* (reading or writing), block.* (a stored block that does not
// decode), exec.* (a block whose roots differ on re-execution: the chain
// data is corrupt, or this node runs other rules than the chain).
// `progress` (optional) is called with each height done. At the end the
// store records the current schema version: a schema 2 store (opened with
// StoreOptions::accept_schema_2) becomes a schema 3 one only once its index
// is whole, so a crash half-way leaves it refused until reindex runs again.
Status rebuild_index(Store& store, Executor& exec, const Genesis& genesis,
                     const std::function<void(uint64_t)>& progress = {});

}  // namespace imi::ledger

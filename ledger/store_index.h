// The ordered index (ledger/app.h "Queries") read from a Store's "x/" range.
// Thread-safe (LevelDB reads are).
#pragma once

#include "ledger/app.h"
#include "ledger/store.h"

namespace imi::ledger {

class StoreIndex : public IndexReader {
 public:
  // `store` must outlive this object.
  explicit StoreIndex(const Store& store) : store_(store) {}
  Result<std::vector<IndexEntry>> scan(std::string_view app, std::string_view prefix,
                                       std::string_view start_after,
                                       size_t limit) const override {
    auto rows = store_.scan_index(app, prefix, start_after, limit);
    if (!rows) return rows.status();
    std::vector<IndexEntry> out;
    out.reserve(rows->size());
    for (auto& [k, v] : *rows) out.push_back(IndexEntry{std::move(k), std::move(v)});
    return out;
  }

 private:
  const Store& store_;
};

}  // namespace imi::ledger

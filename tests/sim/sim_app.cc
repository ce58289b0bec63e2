#include "tests/sim/sim_app.h"

#include <charconv>

#include "base/sha256.h"

namespace imi::sim {

namespace {

template <typename T>
std::string join(const std::vector<T>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s;
}

bool parse_u64(std::string_view s, uint64_t& out) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// Strictly increasing unless `any_order` (fired deadlines are in (time, key) order).
template <typename T>
bool parse_list(std::string_view s, std::vector<T>& out, bool any_order = false) {
  out.clear();
  if (s.empty()) return true;
  size_t pos = 0;
  while (true) {
    size_t comma = s.find(',', pos);
    uint64_t v = 0;
    if (!parse_u64(s.substr(pos, comma == std::string_view::npos ? s.npos : comma - pos), v))
      return false;
    if (!any_order && !out.empty() && v <= out.back()) return false;
    out.push_back(static_cast<T>(v));
    if (comma == std::string_view::npos) return true;
    pos = comma + 1;
  }
}

}  // namespace

Bytes encode_body(const BlockBody& b) {
  std::string s = "sim2;h=" + std::to_string(b.height) + ";p=" + to_hex(b.parent) +
                  ";t=" + std::to_string(b.time_ms) + ";by=" + std::to_string(b.proposer) +
                  ";tx=" + join(b.txs) + ";dl=" + join(b.fired) +
                  ";set=" + (b.set_change ? "y" + join(*b.set_change) : "n") +
                  ";bad=" + (b.bad ? "1" : "0") + ";salt=" + b.salt;
  return Bytes(s.begin(), s.end());
}

std::optional<BlockBody> parse_body(ByteView payload) {
  std::string_view s(reinterpret_cast<const char*>(payload.data()), payload.size());
  BlockBody b;
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t semi = s.find(';', pos);
    parts.push_back(s.substr(pos, semi == s.npos ? s.npos : semi - pos));
    if (semi == s.npos) break;
    pos = semi + 1;
  }
  if (parts.size() != 10 || parts[0] != "sim2") return std::nullopt;
  auto field = [&](size_t i, std::string_view key) -> std::optional<std::string_view> {
    if (parts[i].substr(0, key.size()) != key) return std::nullopt;
    return parts[i].substr(key.size());
  };
  auto h = field(1, "h="), p = field(2, "p="), t = field(3, "t="), by = field(4, "by="),
       tx = field(5, "tx="), dl = field(6, "dl="), set = field(7, "set="), bad = field(8, "bad="),
       salt = field(9, "salt=");
  if (!h || !p || !t || !by || !tx || !dl || !set || !bad || !salt) return std::nullopt;
  uint64_t proposer = 0;
  if (!parse_u64(*h, b.height) || !parse_u64(*t, b.time_ms) || !parse_u64(*by, proposer))
    return std::nullopt;
  b.proposer = static_cast<uint32_t>(proposer);
  auto parent = from_hex_fixed<32>(*p);
  if (!parent) return std::nullopt;
  b.parent = *parent;
  if (!parse_list(*tx, b.txs) || !parse_list(*dl, b.fired, true)) return std::nullopt;
  if (*set != "n") {
    if (set->empty() || (*set)[0] != 'y') return std::nullopt;
    std::vector<uint32_t> members;
    if (!parse_list(set->substr(1), members) || members.empty()) return std::nullopt;
    b.set_change = members;
  }
  if (*bad != "0" && *bad != "1") return std::nullopt;
  b.bad = *bad == "1";
  b.salt = std::string(*salt);
  if (encode_body(b) != Bytes(payload.begin(), payload.end())) return std::nullopt;  // one spelling
  return b;
}

Hash32 block_id(ByteView payload) { return sha256(payload); }

std::vector<uint64_t> due_deadlines(const Deadlines& pending, uint64_t time_ms) {
  std::vector<uint64_t> keys;
  for (const auto& [at, key] : pending) {
    if (at > time_ms || keys.size() == kDeadlinesPerBlockMax) break;
    keys.push_back(key);
  }
  return keys;
}

void apply_deadlines(Deadlines& pending, const BlockBody& b, const Workload& w) {
  // Fired before the block's transactions run, so a deadline a transaction
  // schedules at or before its own block's time fires in the next block.
  for (uint64_t key : b.fired)
    for (auto it = pending.begin(); it != pending.end(); ++it)
      if (it->second == key) {
        pending.erase(it);
        break;
      }
  for (uint64_t tx : b.txs)
    if (auto at = w.deadline_of(tx, b.time_ms)) pending.insert({*at, tx});
}

bool app_valid(const BlockBody& b, uint64_t height, const Hash32& parent, const LedgerView& view) {
  if (b.bad || b.height != height || b.parent != parent) return false;
  for (uint64_t tx : b.txs)
    if (tx >= view.published || view.included.count(tx) != 0) return false;
  return b.fired == due_deadlines(view.deadlines, b.time_ms);
}

}  // namespace imi::sim

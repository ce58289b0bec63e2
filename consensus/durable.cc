#include "consensus/durable.h"

#include "consensus/wire.h"

namespace imi::consensus {

Bytes encode_durable(const DurableState& s) {
  wire::Writer w;
  w.u8(1);
  w.u64(s.height);
  w.u64(s.view);
  w.u64(s.start_view);
  w.u8(s.view_changing ? 1 : 0);
  w.u64(s.stable_height);
  w.fixed(s.stable_block);
  w.u16(static_cast<uint16_t>(s.spoken.size()));
  for (const auto& m : s.spoken) w.blob(encode(m));
  w.u8(s.prepared ? 1 : 0);
  if (s.prepared) wire::put_prepared(w, *s.prepared);
  return w.take();
}

Result<DurableState> decode_durable(ByteView bytes, const Limits& limits) {
  wire::Reader r(bytes);
  DurableState s;
  if (r.u8("version") != 1 && r.ok()) r.fail("unknown version");
  s.height = r.height("height");
  s.view = r.view("view");
  s.start_view = r.view("start_view");
  uint8_t vc = r.u8("view_changing");
  if (r.ok() && vc > 1) r.fail("view_changing must be 0 or 1");
  s.view_changing = vc == 1;
  s.stable_height = r.u64("stable_height");
  s.stable_block = r.fixed<32>("stable_block");
  uint16_t n = r.u16("spoken");
  for (uint16_t i = 0; i < n && r.ok(); ++i) {
    // Bounded by the record itself: a NewView this node sent carries the
    // view changes (and prepared blocks) it was built from.
    Bytes m = r.blob("spoken", bytes.size());
    if (!r.ok()) break;
    auto msg = decode(m, limits);
    if (!msg) {
      r.fail("spoken message: " + msg.status().message());
      break;
    }
    s.spoken.push_back(std::move(*msg));
  }
  uint8_t has = r.u8("has_prepared");
  if (r.ok() && has > 1) r.fail("has_prepared must be 0 or 1");
  if (r.ok() && has == 1) s.prepared = wire::get_prepared(r, limits);
  if (r.ok() && !r.at_end()) r.fail("trailing bytes");
  if (r.ok() && (s.start_view > s.view)) r.fail("start_view above view");
  if (!r.ok())
    return Status::error("consensus.bad_durable_state",
                         "consensus state file is corrupt (" + r.error() +
                             "); restore it from backup, never delete it on a validator");
  return s;
}

}  // namespace imi::consensus

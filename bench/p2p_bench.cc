// Frames/s and MB/s between two transports on loopback, one io_context
// (one thread: both ends' crypto and syscalls share a core).
#include <chrono>
#include <cstdio>

#include "node/p2p/transport.h"

using namespace imi;
using namespace imi::p2p;

int main() {
  for (size_t size : {100, 1024, 16 * 1024, 256 * 1024}) {
    boost::asio::io_context io;
    identity::Seed sa{}, sb{};
    sa.fill(1);
    sb.fill(2);
    auto ka = identity::KeyPair::from_seed(sa), kb = identity::KeyPair::from_seed(sb);
    Options o;
    o.log_level_min = LogLevel::kWarn;
    Transport a(io, o, ka, "bench"), b(io, o, kb, "bench");
    std::vector<PublicKey> keys = {ka.public_key(), kb.public_key()};
    a.set_admitted(keys);
    b.set_admitted(keys);
    uint64_t got = 0;
    b.on_message([&](const PublicKey&, Bytes) { ++got; });
    if (!a.start() || !b.start()) return 1;
    a.add_peer_address(kb.public_key(), "127.0.0.1", b.listen_port());
    while (!a.connected(kb.public_key()) || !b.connected(ka.public_key())) io.run_one();
    const uint64_t total = size <= 1024 ? 200000 : (size <= 16384 ? 20000 : 1000);
    Bytes frame(size, 0x5a);
    uint64_t sent = 0;
    auto t0 = std::chrono::steady_clock::now();
    while (got < total) {
      for (int k = 0; k < 256 && sent < total; ++k) {
        if (!a.send(kb.public_key(), frame)) break;  // queue full: let it drain
        ++sent;
      }
      io.poll();
      if (sent == total && got < total) io.run_one();
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("frame %7zu B: %9.0f frames/s  %8.1f MB/s  (%llu frames, %.2f s)\n", size,
                total / s, total * double(size) / s / 1e6, (unsigned long long)total, s);
  }
}

// Throughput of the strict parser and of RFC 8785 serialisation on a typical
// anchor transaction (~430 bytes with its 128-hex signature, nested args, one
// escaped non-ASCII string), one core.
// Prints figures (per second of this thread's CPU time); asserts nothing
// about speed.
#include <time.h>

#include <cstdio>
#include <string>

#include "ledger/json.h"

namespace {

const std::string kTx =
    R"({"v":1,"chain":"imi-main","from":"did:imi:3f2a9c0b7d41e8a6c5b2d90f1e3a7c4b8d6e2f10",)"
    R"("key":"8f3c2a1b0d9e7f6a5c4b3a29180706f5e4d3c2b1a09f8e7d6c5b4a3928170605","nonce":42,)"
    R"("app":"anchor","op":"record","args":{"hash":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",)"
    R"("note":"\u4e1c\u8def manhole"},"sig":"5a1f0c3e9b2d4a6c8e0f1a3b5c7d9e2f4a6b8c0d1e3f5a7b9c2d4e6f8a0b1c3d)"
    R"(5e7f9a2b4c6d8e0f1a3b5c7d9e2f4a6b8c0d1e3f5a7b9c2d4e6f8a0b1c3d5e7f"})";

// CPU time of this thread: the machine is shared, so wall time would count
// other processes' turns on the core.
double thread_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

template <typename F>
void measure(const char* name, size_t bytes, F&& op) {
  long iterations = 0;
  double start = thread_seconds();
  double elapsed = 0;
  while (elapsed < 1.0) {
    for (int i = 0; i < 1000; ++i) op();
    iterations += 1000;
    elapsed = thread_seconds() - start;
  }
  double ops = iterations / elapsed;
  std::printf("%-28s %10.0f ops/s  %7.1f MB/s  %6.0f ns/op\n", name, ops, ops * bytes / 1e6,
              1e9 / ops);
}

}  // namespace

int main() {
  using namespace imi::ledger;
  auto doc = parse_strict(kTx);
  if (!doc) {
    std::fprintf(stderr, "bench input rejected: %s\n", doc.status().to_string().c_str());
    return 1;
  }
  const std::string canonical = jcs(*doc);
  std::printf("transaction object: %zu bytes as sent, %zu bytes canonical\n", kTx.size(),
              canonical.size());
  size_t sink = 0;
  measure("parse_strict", kTx.size(), [&] { sink += parse_strict(kTx)->MemberCount(); });
  measure("jcs", canonical.size(), [&] { sink += jcs(*doc).size(); });
  measure("jcs_without(\"sig\")", canonical.size(),
          [&] { sink += jcs_without(*doc, "sig").size(); });
  measure("parse_strict + jcs", kTx.size(), [&] { sink += jcs(*parse_strict(kTx)).size(); });
  std::printf("(checksum %zu)\n", sink);
  return 0;
}

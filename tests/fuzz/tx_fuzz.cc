// libFuzzer target for the record decoders: transactions first, and the same
// bytes as a block and as a commit certificate. Any input must be rejected
// with an error code of the right family, or decode to a record whose
// canonical form decodes again to the same record (same id, same bytes).
// Never a crash, an assertion or a sanitizer report.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ledger/block.h"
#include "ledger/certificate.h"
#include "ledger/transaction.h"

namespace {

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "tx_fuzz: %s: %.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

void expect_family(const imi::Status& s, std::string_view a, std::string_view b) {
  std::string_view code = s.code();
  if (!code.starts_with(a) && !code.starts_with(b) && !code.starts_with("json."))
    fail("unexpected error code", code);
}

imi::ledger::ValidityLimits small_limits() {
  imi::ledger::ValidityLimits l;
  l.tx_bytes_max = 4096;
  l.block_bytes_max = 16384;
  l.block_txs_max = 8;
  l.json_depth_max = 8;
  l.json_string_bytes_max = 1024;
  l.json_members_max = 32;
  return l;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace imi::ledger;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const ValidityLimits limits = small_limits();

  auto tx = Transaction::decode(text, limits);
  if (!tx) {
    expect_family(tx.status(), "tx.", "tx.");
  } else {
    auto again = Transaction::decode(tx->canonical(), limits);
    if (!again) fail("canonical form does not decode", again.status().to_string());
    if (again->id() != tx->id() || again->canonical() != tx->canonical())
      fail("canonical form is not a fixed point", tx->canonical());
    if (tx->unsigned_canonical().size() >= tx->canonical().size())
      fail("signed bytes not shorter than the transaction", tx->canonical());
    imi::Status v = tx->validate("imi-test");
    if (!v.is_ok() && v.code() != "tx.wrong_chain" && v.code() != "tx.bad_signature")
      fail("unexpected validation code", v.code());
    (void)tx->key_matches_from();
  }

  auto block = Block::decode(text, limits);
  if (!block) {
    expect_family(block.status(), "block.", "tx.");
  } else {
    auto again = Block::decode(block->canonical(), limits);
    if (!again) fail("canonical block does not decode", again.status().to_string());
    if (again->id() != block->id() || again->canonical_size() != block->canonical().size())
      fail("block canonical form is not a fixed point", block->canonical());
    imi::Status v = block->validate("imi-test");
    if (!v.is_ok()) expect_family(v, "block.", "tx.");
  }

  auto cert = CommitCertificate::decode(text);
  if (!cert) {
    expect_family(cert.status(), "cert.", "cert.");
  } else {
    auto again = CommitCertificate::decode(cert->canonical());
    if (!again || !(*again == *cert)) fail("certificate does not round-trip", cert->canonical());
  }
  return 0;
}

// imid: the IMI Chain node daemon.
//
//   imid init  --home DIR [--chain ID] [--api HOST:PORT]
//   imid start --home DIR [--api HOST:PORT]
//   imid dev   [--home DIR] [--api HOST:PORT]
//
// Exit codes: 0 clean stop (SIGTERM/SIGINT), 1 runtime failure (storage),
// 2 usage error, 3 cannot start (config, key, ledger, port).
#include <signal.h>
#include <sodium.h>
#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "ledger/reindex.h"
#include "ledger/store_index.h"
#include "node/home.h"
#include "node/node.h"
#ifdef IMI_BYZANTINE_BUILD
#include "node/byzantine/equivocator.h"
#endif

namespace {

using imi::Status;
namespace node = imi::node;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitCannotStart = 3;

const char* kUsage =
    "usage:\n"
    "  imid init  --home DIR [--chain ID] [--api HOST:PORT]\n"
    "             create a node home: config, encrypted validator key, genesis.\n"
    "             The keystore password is read from IMI_KEY_PASSWORD.\n"
    "  imid start --home DIR [--api HOST:PORT]\n"
    "             run the node of an initialised home.\n"
    "  imid dev   [--home DIR] [--api HOST:PORT]\n"
    "             create (if needed) and run a single-validator development chain\n"
    "             (default home: $HOME/.imi/dev; password in DIR/dev-password).\n"
    "  imid reindex --home DIR\n"
    "             rebuild the index the app queries and deadlines read (data/ledger\n"
    "             x/ range) by executing every committed block again; the node\n"
    "             must be stopped. Each block's roots must match its header.\n"
    "Stop with Ctrl-C or SIGTERM: the node finishes the block in progress and\n"
    "closes its database cleanly.\n";

int usage_error(const std::string& why) {
  std::fprintf(stderr, "imid: %s\n%s", why.c_str(), kUsage);
  return kExitUsage;
}

int cannot_start(const Status& s) {
  std::fprintf(stderr, "imid: %s\n", s.to_string().c_str());
  return kExitCannotStart;
}

std::string default_dev_home() {
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr && *home ? home : ".") + "/.imi/dev";
}

// Runs the node of `home_dir` until SIGINT or SIGTERM.
int run(const std::string& home_dir, const std::string& api_override, bool dev) {
  auto home = node::load_home(home_dir);
  if (!home) return cannot_start(home.status());
  if (!api_override.empty()) {
    Status s = node::parse_host_port(api_override, home->config.api.listen_host,
                                     home->config.api.listen_port);
    if (!s) return cannot_start(s);
  }
  // Block the signals before any thread starts so only the waiter sees them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  auto n = node::Node::open(std::move(*home));
  if (!n) return cannot_start(n.status());
#ifdef IMI_BYZANTINE_BUILD
  // Test build: IMI_BYZANTINE=equivocate makes this node a two-faced primary.
  static node::Equivocator equivocator;
  const char* byz = std::getenv("IMI_BYZANTINE");
  if (byz != nullptr && std::string(byz) == "equivocate") {
    std::fprintf(stderr, "imid-byzantine: this node equivocates when it proposes (test build)\n");
    (*n)->set_byzantine_hook(&equivocator);
  }
#endif
  if (Status s = (*n)->start(); !s) return cannot_start(s);
  std::printf("imid: %s chain running; API at %s\n", dev ? "dev" : "node", (*n)->api_url().c_str());
  std::printf("API_URL=%s\n", (*n)->api_url().c_str());
  std::fflush(stdout);

  // Wait for a signal, or for the node to fail.
  int sig = 0;
  timespec poll{0, 200 * 1000 * 1000};
  while (!(*n)->failed()) {
    siginfo_t info;
    sig = sigtimedwait(&set, &info, &poll);
    if (sig == SIGINT || sig == SIGTERM) break;
  }
  const bool failed = (*n)->failed();
  std::fprintf(stderr, "imid: stopping%s\n", failed ? " after a failure" : "");
  (*n)->shutdown();
  n->reset();
  std::fprintf(stderr, "imid: stopped\n");
  return failed ? kExitFailed : kExitOk;
}

// `imid reindex`: ledger/reindex.h over the home's store, with this build's apps.
int reindex(const std::string& home_dir) {
  auto home = node::load_home(home_dir);
  if (!home) return cannot_start(home.status());
  const std::string path = (std::filesystem::path(home->data_dir) / "ledger").string();
  imi::ledger::StoreOptions so;
  so.create_if_missing = false;
  so.accept_schema_2 = true;  // converted once its index is built
  auto store = imi::ledger::Store::open(path, so);
  if (!store) return cannot_start(store.status());
  imi::ledger::LevelDbNodeStore nodes(*(*store)->db());
  imi::ledger::StoreIndex index(**store);
  imi::ledger::ExecutorOptions eo;
  eo.index = &index;
  eo.deadlines_per_block_max = home->genesis.block_time().deadlines_per_block_max;
  auto exec = imi::ledger::Executor::make(nodes, node::make_apps(), eo);
  if (!exec) return cannot_start(exec.status());
  const uint64_t head = (*store)->head() ? (*store)->head()->height : 0;
  std::printf("imid: rebuilding the index of %s from blocks 0..%llu\n", path.c_str(),
              static_cast<unsigned long long>(head));
  Status s = imi::ledger::rebuild_index(**store, **exec, home->genesis, [head](uint64_t h) {
    if (h % 1000 == 0 || h == head)
      std::printf("imid: block %llu of %llu\n", static_cast<unsigned long long>(h),
                  static_cast<unsigned long long>(head));
  });
  if (!s) {
    std::fprintf(stderr, "imid: reindex failed: %s\n", s.to_string().c_str());
    return kExitFailed;
  }
  std::printf("imid: index rebuilt at height %llu\n", static_cast<unsigned long long>(head));
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) {
    std::fprintf(stderr, "imid: libsodium failed to initialise\n");
    return kExitCannotStart;
  }
  // LevelDB keeps table files open (ledger/store.h, max_open_files) and the
  // API one socket per client: take the hard open-file limit, not the often
  // much lower soft one (1,024 on a default Debian login).
  if (struct rlimit rl; ::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (argc < 2) return usage_error("no command");
  const std::string cmd = argv[1];
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    std::printf("%s", kUsage);
    return kExitOk;
  }
  std::map<std::string, std::string> flags;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a != "--home" && a != "--chain" && a != "--api") return usage_error("unknown option " + a);
    if (i + 1 >= argc) return usage_error(a + " needs a value");
    flags[a] = argv[++i];
  }
  if (cmd == "init") {
    if (!flags.count("--home")) return usage_error("init needs --home DIR");
    node::InitOptions o;
    o.home = flags["--home"];
    if (flags.count("--chain")) o.chain_id = flags["--chain"];
    if (flags.count("--api")) o.api_listen = flags["--api"];
    if (Status s = node::init_home(o); !s) return cannot_start(s);
    std::printf("initialised %s\nstart it with: imid start --home %s\n", o.home.c_str(),
                o.home.c_str());
    return kExitOk;
  }
  if (cmd == "reindex") {
    if (!flags.count("--home")) return usage_error("reindex needs --home DIR");
    if (flags.count("--chain") || flags.count("--api"))
      return usage_error("reindex takes only --home");
    return reindex(flags["--home"]);
  }
  if (cmd == "start") {
    if (!flags.count("--home")) return usage_error("start needs --home DIR");
    if (flags.count("--chain")) return usage_error("--chain is only for init");
    return run(flags["--home"], flags["--api"], false);
  }
  if (cmd == "dev") {
    if (flags.count("--chain")) return usage_error("--chain is only for init");
    const std::string home = flags.count("--home") ? flags["--home"] : default_dev_home();
    const std::string conf = node::resolve(home, std::string(node::kConfigFileName));
    if (!std::filesystem::exists(conf)) {
      // A throwaway password for a development key, kept beside it.
      std::error_code ec;
      std::filesystem::create_directories(home, ec);
      if (ec) return cannot_start(Status::error("node.io", "cannot create " + home));
      unsigned char raw[16];
      randombytes_buf(raw, sizeof raw);
      const std::string password = imi::to_hex(imi::ByteView(raw, sizeof raw));
      const std::string pw_path = node::resolve(home, std::string(node::kDevPasswordFile));
      if (Status s = node::write_file_atomic(pw_path, password + "\n", 0600); !s)
        return cannot_start(s);
      node::InitOptions o;
      o.home = home;
      o.password = password;
      o.password_file = std::string(node::kDevPasswordFile);
      if (flags.count("--api")) o.api_listen = flags["--api"];
      if (Status s = node::init_home(o); !s) return cannot_start(s);
      std::printf("imid: created dev chain home %s\n", home.c_str());
    }
    return run(home, flags["--api"], true);
  }
  return usage_error("unknown command " + cmd);
}

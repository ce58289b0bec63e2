// A main() for fuzz targets when libFuzzer is not available (the default g++
// build). It feeds every file of the given corpus directories, then a fixed
// number of deterministic mutations of them, through LLVMFuzzerTestOneInput,
// so the ordinary test run still exercises each target. On a crash it writes
// the input to ./crash-input and prints the mutation index; the same seed and
// corpus reproduce the run exactly.
//
// Usage: <target> [-mutations=N] [-seed=S] corpus_dir...
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

using Input = std::vector<uint8_t>;

// Fragments that make mutations reach deeper than random bytes would.
const char* const kTokens[] = {"{",
                               "}",
                               "[",
                               "]",
                               ",",
                               ":",
                               "\"",
                               "\\",
                               "\\u",
                               "\\ud83d",
                               "\\ude00",
                               "null",
                               "true",
                               "false",
                               "0",
                               "-",
                               "1.5",
                               "1e9",
                               "9007199254740992",
                               "\"a\":1",
                               "\xc3\xa9",
                               "\xed\xa0\x80",
                               "\xf0\x9f\x98\x80",
                               "\xef\xbb\xbf"};

const Input* g_current = nullptr;
long g_index = -1;

// Only async-signal-safe calls (open, write, close, signal, raise).
void on_crash(int sig) {
  static const char kMsg[] = "standalone fuzz driver: crashed; input written to ./crash-input\n";
  (void)!write(2, kMsg, sizeof kMsg - 1);
  char num[32];
  int n = 0;
  for (unsigned long v = static_cast<unsigned long>(g_index < 0 ? 0 : g_index);; v /= 10) {
    num[n++] = static_cast<char>('0' + v % 10);
    if (v < 10) break;
  }
  (void)!write(2, "mutation index ", 15);
  while (n > 0) (void)!write(2, &num[--n], 1);
  (void)!write(2, g_index < 0 ? " (corpus file)\n" : "\n", g_index < 0 ? 15 : 1);
  if (g_current != nullptr) {
    int fd = open("crash-input", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      (void)!write(fd, g_current->data(), g_current->size());
      close(fd);
    }
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

void run(const Input& in) { LLVMFuzzerTestOneInput(in.data(), in.size()); }

Input mutate(const std::vector<Input>& corpus, std::mt19937_64& rng) {
  auto pick = [&](size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng() % n); };
  Input out = corpus[pick(corpus.size())];
  int steps = 1 + static_cast<int>(pick(4));
  for (int s = 0; s < steps; ++s) {
    switch (pick(6)) {
      case 0:  // flip a bit
        if (!out.empty()) out[pick(out.size())] ^= static_cast<uint8_t>(1u << pick(8));
        break;
      case 1:  // set a random byte
        if (!out.empty()) out[pick(out.size())] = static_cast<uint8_t>(rng());
        break;
      case 2: {  // delete a range
        if (out.empty()) break;
        size_t at = pick(out.size());
        size_t len = 1 + pick(std::min<size_t>(8, out.size() - at));
        out.erase(out.begin() + static_cast<ptrdiff_t>(at),
                  out.begin() + static_cast<ptrdiff_t>(at + len));
        break;
      }
      case 3: {  // insert a token
        const char* t = kTokens[pick(std::size(kTokens))];
        size_t at = pick(out.size() + 1);
        out.insert(out.begin() + static_cast<ptrdiff_t>(at), t, t + std::strlen(t));
        break;
      }
      case 4: {  // duplicate a range
        if (out.empty()) break;
        size_t at = pick(out.size());
        size_t len = 1 + pick(std::min<size_t>(32, out.size() - at));
        Input piece(out.begin() + static_cast<ptrdiff_t>(at),
                    out.begin() + static_cast<ptrdiff_t>(at + len));
        out.insert(out.begin() + static_cast<ptrdiff_t>(pick(out.size() + 1)), piece.begin(),
                   piece.end());
        break;
      }
      case 5: {  // splice in part of another input
        const Input& other = corpus[pick(corpus.size())];
        if (other.empty()) break;
        size_t at = pick(other.size());
        size_t len = 1 + pick(other.size() - at);
        out.resize(pick(out.size() + 1));
        out.insert(out.end(), other.begin() + static_cast<ptrdiff_t>(at),
                   other.begin() + static_cast<ptrdiff_t>(at + len));
        break;
      }
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  long mutations = 5000;
  unsigned long long seed = 1;
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("-mutations=", 0) == 0) {
      mutations = std::stol(arg.substr(11));
    } else if (arg.rfind("-seed=", 0) == 0) {
      seed = std::stoull(arg.substr(6));
    } else if (std::filesystem::is_directory(arg)) {
      for (const auto& e : std::filesystem::directory_iterator(arg))
        if (e.is_regular_file()) files.push_back(e.path());
    } else {
      std::fprintf(stderr, "usage: %s [-mutations=N] [-seed=S] corpus_dir...\n", argv[0]);
      return 2;
    }
  }
  std::sort(files.begin(), files.end());  // directory order is not deterministic
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) std::signal(sig, on_crash);
  std::vector<Input> corpus;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    corpus.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    g_current = &corpus.back();
    run(corpus.back());
  }
  if (corpus.empty()) corpus.emplace_back();
  std::mt19937_64 rng(seed);
  for (long i = 0; i < mutations; ++i) {
    Input in = mutate(corpus, rng);
    g_current = &in;
    g_index = i;
    run(in);
    // Grow the pool a little so mutations compound, deterministically.
    if (i % 16 == 0 && corpus.size() < 512) corpus.push_back(std::move(in));
  }
  std::printf("%s: %zu corpus files and %ld mutations (seed %llu) ran without a failure\n", argv[0],
              files.size(), mutations, seed);
  return 0;
}

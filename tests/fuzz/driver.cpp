// SPDX-License-Identifier: MIT
// A libFuzzer-compatible main for g++ builds: runs a seed corpus, then deterministic mutations of it.
//
// Usage: fuzz_<target> [--iterations=N] [--seed=S] PATH...
//   PATH is a corpus directory (every regular file in it, sorted by name) or one input
//   file (to replay a crash). N mutations follow the seeds (env FUZZ_ITERATIONS overrides
//   --iterations; FUZZ_SEED overrides --seed), so CI exercises every target without clang.
// On a crash (signal) the input being run is written to ./fuzz-crash-input and its path
// printed, then the signal is re-raised.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "rng.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;
using buntime::test::Rng;  // xorshift64*: the same mutations on every machine for a seed

constexpr std::size_t kMaxInput = 64 * 1024;

// The input being run, for the crash handler (only read from the signal handler).
const std::uint8_t* volatile g_current = nullptr;
volatile std::size_t g_current_size = 0;

void writeAll(int fd, const void* p, std::size_t n) {
    const auto* b = static_cast<const char*>(p);
    while (n > 0) {
        const ssize_t w = ::write(fd, b, n);
        if (w <= 0) return;
        b += w;
        n -= std::size_t(w);
    }
}

void onCrash(int sig) {
    static const char kName[] = "fuzz-crash-input";
    const int fd = ::open(kName, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        writeAll(fd, const_cast<const std::uint8_t*>(g_current), g_current_size);
        ::close(fd);
    }
    static const char kMsg[] = "fuzz driver: crashing input written to ./fuzz-crash-input\n";
    writeAll(2, kMsg, sizeof kMsg - 1);
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

void run(const Bytes& input) {
    g_current = input.data();
    g_current_size = input.size();
    LLVMFuzzerTestOneInput(input.data(), input.size());
    g_current = nullptr;
    g_current_size = 0;
}

bool readFile(const fs::path& path, Bytes& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (out.size() > kMaxInput) out.resize(kMaxInput);
    return true;
}

// Values that tend to sit on boundaries of length checks.
constexpr std::uint64_t kInteresting[] = {0,
                                          1,
                                          2,
                                          7,
                                          8,
                                          31,
                                          32,
                                          33,
                                          63,
                                          64,
                                          127,
                                          128,
                                          255,
                                          256,
                                          4095,
                                          4096,
                                          4097,
                                          0x7fff,
                                          0x8000,
                                          0xffff,
                                          0x10000,
                                          0x7fffffff,
                                          0x80000000,
                                          0xffffffff,
                                          0x100000000ull,
                                          0x7fffffffffffffffull,
                                          ~0ull};

void mutateOnce(Bytes& b, const std::vector<Bytes>& seeds, Rng& rng) {
    switch (rng.below(10)) {
    case 0:  // flip one bit
        if (!b.empty()) b[rng.below(b.size())] ^= std::uint8_t(1u << rng.below(8));
        break;
    case 1:  // random byte
        if (!b.empty()) b[rng.below(b.size())] = std::uint8_t(rng.next());
        break;
    case 2: {  // insert random bytes
        const std::size_t n = 1 + rng.below(16);
        const std::size_t at = rng.below(b.size() + 1);
        Bytes ins(n);
        for (auto& x : ins) x = std::uint8_t(rng.next());
        b.insert(b.begin() + std::ptrdiff_t(at), ins.begin(), ins.end());
        break;
    }
    case 3: {  // erase a range
        if (b.empty()) break;
        const std::size_t at = rng.below(b.size());
        const std::size_t n = 1 + rng.below(std::min<std::size_t>(b.size() - at, 32));
        b.erase(b.begin() + std::ptrdiff_t(at), b.begin() + std::ptrdiff_t(at + n));
        break;
    }
    case 4: {  // duplicate a range somewhere else
        if (b.empty()) break;
        const std::size_t at = rng.below(b.size());
        const std::size_t n = 1 + rng.below(std::min<std::size_t>(b.size() - at, 64));
        const Bytes piece(b.begin() + std::ptrdiff_t(at), b.begin() + std::ptrdiff_t(at + n));
        const std::size_t to = rng.below(b.size() + 1);
        b.insert(b.begin() + std::ptrdiff_t(to), piece.begin(), piece.end());
        break;
    }
    case 5: {  // overwrite 1, 2, 4 or 8 bytes with an interesting little-endian value
        const std::size_t width = std::size_t(1) << rng.below(4);
        if (b.size() < width) break;
        const std::uint64_t v = kInteresting[rng.below(std::size(kInteresting))];
        std::memcpy(b.data() + rng.below(b.size() - width + 1), &v, width);
        break;
    }
    case 6: {  // add a small delta to a 4-byte word (lengths off by a few)
        if (b.size() < 4) break;
        const std::size_t at = rng.below(b.size() - 3);
        std::uint32_t v;
        std::memcpy(&v, b.data() + at, 4);
        v += std::uint32_t(int(rng.below(17)) - 8);
        std::memcpy(b.data() + at, &v, 4);
        break;
    }
    case 7: {  // splice: keep a prefix, append the tail of another seed
        const Bytes& other = seeds[rng.below(seeds.size())];
        const std::size_t keep = rng.below(b.size() + 1);
        const std::size_t from = rng.below(other.size() + 1);
        b.resize(keep);
        b.insert(b.end(), other.begin() + std::ptrdiff_t(from), other.end());
        break;
    }
    case 8:  // truncate
        b.resize(rng.below(b.size() + 1));
        break;
    default: {  // printable byte (parsers of text see mostly text)
        static constexpr char kText[] = " \t\r\n/.%@^~<>=-|*:;,\"'{}[]#?&0129azAZ\\x";
        if (!b.empty()) b[rng.below(b.size())] = std::uint8_t(kText[rng.below(sizeof kText - 1)]);
        break;
    }
    }
    if (b.size() > kMaxInput) b.resize(kMaxInput);
}

std::uint64_t envOr(const char* name, std::uint64_t fallback) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') return fallback;
    return std::strtoull(v, nullptr, 10);
}

}  // namespace

int main(int argc, char** argv) {
    std::uint64_t iterations = 1000;
    std::uint64_t seed = 1;
    std::vector<fs::path> paths;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a.starts_with("--iterations=")) {
            iterations = std::strtoull(argv[i] + 13, nullptr, 10);
        } else if (a.starts_with("--seed=")) {
            seed = std::strtoull(argv[i] + 7, nullptr, 10);
        } else {
            paths.emplace_back(a);
        }
    }
    iterations = envOr("FUZZ_ITERATIONS", iterations);
    seed = envOr("FUZZ_SEED", seed);

    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) ::signal(sig, onCrash);

    std::vector<Bytes> seeds;
    for (const auto& p : paths) {
        std::error_code ec;
        if (fs::is_directory(p, ec)) {
            std::vector<fs::path> files;
            for (const auto& e : fs::directory_iterator(p, ec))
                if (e.is_regular_file()) files.push_back(e.path());
            std::sort(files.begin(), files.end());
            for (const auto& f : files) {
                Bytes b;
                if (readFile(f, b)) seeds.push_back(std::move(b));
            }
        } else {
            Bytes b;
            if (!readFile(p, b)) {
                std::fprintf(stderr, "fuzz driver: cannot read %s\n", p.c_str());
                return 2;
            }
            seeds.push_back(std::move(b));
        }
    }
    if (seeds.empty()) seeds.emplace_back();  // still exercise the mutator from nothing

    const auto start = std::chrono::steady_clock::now();
    for (const auto& s : seeds) run(s);
    Rng rng(seed);
    for (std::uint64_t i = 0; i < iterations; ++i) {
        Bytes b = seeds[rng.below(seeds.size())];
        const std::size_t rounds = 1 + rng.below(4);
        for (std::size_t r = 0; r < rounds; ++r) mutateOnce(b, seeds, rng);
        run(b);
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%s: %zu seeds + %llu mutations (seed %llu) in %.2f s, no crash\n", argv[0], seeds.size(),
                static_cast<unsigned long long>(iterations), static_cast<unsigned long long>(seed), secs);
    return 0;
}

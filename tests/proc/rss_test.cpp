// SPDX-License-Identifier: MIT
// rssBytes/selfRssBytes: positive for live processes, growing with touched memory, empty for dead ones.
#include <doctest/doctest.h>

#include <unistd.h>

#include <vector>

#include "buntime/proc/process.h"
#include "buntime/proc/rss.h"

using namespace buntime::proc;

TEST_CASE("selfRssBytes grows when memory is touched") {
    auto before = selfRssBytes();
    REQUIRE(before);
    CHECK(*before > 0);
    CHECK(rssBytes(::getpid()));
    std::vector<char> block(64 << 20);
    for (std::size_t i = 0; i < block.size(); i += 4096) block[i] = static_cast<char>(i);
    // Optimiser barrier: the block "escapes" to memory, so the stores above must happen.
    asm volatile("" : : "r"(block.data()) : "memory");
    auto after = selfRssBytes();
    REQUIRE(after);
    CHECK(*after >= *before + (48u << 20));
}

TEST_CASE("rssBytes of a child, of a reaped child and of invalid pids") {
    SpawnOptions o;
    o.executable = "/bin/sleep";
    o.argv = {"sleep", "30"};
    auto p = Process::spawn(o);
    REQUIRE(p);
    pid_t pid = p->pid();
    auto rss = rssBytes(pid);
    REQUIRE(rss);
    CHECK(*rss > 0);
    p->kill();
    p->wait();
    CHECK(!rssBytes(pid));
    CHECK(!rssBytes(0));
    CHECK(!rssBytes(-1));
}

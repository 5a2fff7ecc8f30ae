// SPDX-License-Identifier: MIT
// counter: an `app` executable (buntime-worker execs it, same pid) with in-memory state;
// every request increments the count and answers it.
#include <buntime/app.h>

#include <atomic>
#include <cstdlib>
#include <string>

struct Counter {
    explicit Counter(const buntime::app::AppInfo&) {
        if (const char* start = std::getenv("COUNTER_START")) count = std::strtoull(start, nullptr, 10);
    }
    void handle(buntime::app::Request&, buntime::app::Response& res) {
        const unsigned long long n = ++count;
        res.header("content-type", "application/json");
        res.end("{\"count\":" + std::to_string(n) + "}");
    }
    std::atomic<unsigned long long> count{0};
};

BUNTIME_APP_MAIN(Counter)

// SPDX-License-Identifier: MIT
// Fixture app for the supervisor integration tests: crashes, sleeps, streams, reports its pid
// and environment, fails or hangs init on demand, and logs its lifecycle hooks to a file.
#include <buntime/app.h>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

namespace {

unsigned long numberParam(const buntime::app::Request& req, std::string_view key, unsigned long fallback) {
    auto v = req.queryParam(key);
    if (!v || v->empty()) return fallback;
    return std::strtoul(std::string(*v).c_str(), nullptr, 10);
}

void hookLog(const char* event) {
    if (const char* path = std::getenv("FIXTURE_HOOK_LOG"))
        std::ofstream(path, std::ios::app) << event << ' ' << ::getpid() << '\n';
}

}  // namespace

struct Fixture {
    Fixture() {
        if (std::getenv("FIXTURE_FAIL_INIT"))
            throw std::runtime_error("fixture init failure (FIXTURE_FAIL_INIT is set)");
        if (std::getenv("FIXTURE_HANG_INIT"))  // a constructor that never returns
            for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
        hookLog("init");
    }
    void onIdle() { hookLog("idle"); }
    void onTerminate() { hookLog("terminate"); }

    void handle(buntime::app::Request& req, buntime::app::Response& res) {
        auto path = req.path();
        if (path == "/crash") {
            std::abort();
        } else if (path == "/pid") {
            res.end(std::to_string(::getpid()));
        } else if (path == "/sleep") {
            std::this_thread::sleep_for(std::chrono::milliseconds(numberParam(req, "ms", 100)));
            res.end("slept");
        } else if (path == "/wait-for-cancel") {
            // Polls the cancel flag the supervisor sets (timeout or client gone) for up to 5 s.
            for (int i = 0; i < 500 && !res.cancelled(); ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            hookLog(res.cancelled() ? "cancel-seen" : "cancel-missed");
            res.end("done");
        } else if (path == "/env") {
            auto name = req.queryParam("name");
            const char* v = name ? std::getenv(std::string(*name).c_str()) : nullptr;
            res.end(v ? v : "(unset)");
        } else if (path == "/headers") {
            std::string out = "path=" + std::string(req.path()) + "\nbase=" + std::string(req.base()) + "\n";
            if (auto b = req.header("x-base")) out += "x-base=" + std::string(*b) + "\n";
            if (auto id = req.header("x-request-id")) out += "x-request-id=" + std::string(*id) + "\n";
            res.end(out);
        } else if (path == "/download") {
            // Streams `mb` MiB without knowing the length up front (chunked to the client).
            std::string chunk(64 * 1024, 'd');
            auto total = numberParam(req, "mb", 1) * 16;
            for (unsigned long i = 0; i < total; ++i)
                if (res.write(chunk) != BUNTIME_OK) return;
            res.end();
        } else if (path == "/length") {
            res.end(std::to_string(req.body().size()));
        } else {
            res.end("fixture ok");
        }
    }
};

BUNTIME_APP(Fixture)

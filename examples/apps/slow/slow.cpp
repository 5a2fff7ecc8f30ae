// SPDX-License-Identifier: MIT
// slow: waits ?ms= (default 50, at most 1000) on the host timer, then answers; no thread
// is held while it waits (async style).
#include <buntime/app.h>

#include <charconv>
#include <string>

struct Slow {
    void handle(buntime::app::Request req, buntime::app::Response res) {
        unsigned ms = 50;
        if (auto v = req.queryParam("ms")) {
            unsigned parsed = 0;
            auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), parsed);
            if (ec == std::errc() && end == v->data() + v->size()) ms = parsed;
        }
        if (ms > 1000) ms = 1000;
        buntime::app::after(std::chrono::milliseconds(ms), [res, ms]() mutable {
            res.header("content-type", "text/plain; charset=utf-8");
            res.end("waited " + std::to_string(ms) + " ms\n");
        });
    }
};

BUNTIME_ASYNC_APP(Slow)

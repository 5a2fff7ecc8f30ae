// SPDX-License-Identifier: MIT
// Fixture app for the hardening tests: errors and an init failure whose messages hold bytes
// that are not UTF-8 (0xff, Latin-1 0xe9), as an app echoing `?user=%ff` would produce.
#include <buntime/app.h>

#include <cstdlib>
#include <stdexcept>
#include <string>

struct Hostile {
    Hostile() {
        if (std::getenv("HOSTILE_LATIN1_INIT")) throw std::runtime_error("caf\xe9 could not start: \xff");
    }

    void handle(buntime::app::Request& req, buntime::app::Response& res) {
        if (req.path() == "/throw") throw std::runtime_error("bad user \xff\xfe in request");
        res.end("hostile ok");
    }
};

BUNTIME_APP(Hostile)

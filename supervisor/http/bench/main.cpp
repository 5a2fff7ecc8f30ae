// SPDX-License-Identifier: MIT
// Benchmark server: a trivial "ok" handler on 127.0.0.1:PORT for wrk; prints the port.
// Usage: buntime-http-bench [port (0 = any)] [event loops (1)] [access log: off|stderr|path]
#include "buntime/http/server.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
    buntime::http::ServerConfig cfg;
    cfg.bind_address = "127.0.0.1";
    cfg.port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 0);
    cfg.threads = argc > 2 ? static_cast<unsigned>(std::atoi(argv[2])) : 1;
    cfg.access_log = argc > 3 ? argv[3] : "off";
    buntime::http::Server server(cfg, [](std::shared_ptr<buntime::http::Exchange> ex) { ex->respond(200, {}, "ok"); });
    auto r = server.start();
    if (!r) {
        std::fprintf(stderr, "%s\n", r.error().message.c_str());
        return 1;
    }
    std::printf("listening on 127.0.0.1:%u\n", server.port());
    std::fflush(stdout);
    server.run();
    return 0;
}

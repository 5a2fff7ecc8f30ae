// SPDX-License-Identifier: MIT
// Fixture app for the app-logs tests: prints to its stdout and stderr on demand (numbered
// lines, bytes that are not UTF-8 and control bytes, a long line, a flood, a last line
// without newline before exiting).
#include <buntime/app.h>

#include <unistd.h>

#include <cstdlib>
#include <string>

namespace {

unsigned long numberParam(const buntime::app::Request& req, std::string_view key, unsigned long fallback) {
    auto v = req.queryParam(key);
    if (!v || v->empty()) return fallback;
    return std::strtoul(std::string(*v).c_str(), nullptr, 10);
}

void writeAll(int fd, const std::string& text) {
    std::size_t off = 0;
    while (off < text.size()) {
        const ssize_t n = ::write(fd, text.data() + off, text.size() - off);
        if (n <= 0) return;
        off += static_cast<std::size_t>(n);
    }
}

}  // namespace

struct LogApp {
    void handle(buntime::app::Request& req, buntime::app::Response& res) {
        const auto path = req.path();
        const auto tag = std::string(req.queryParam("tag").value_or("x"));
        if (path == "/pid") {
            res.end(std::to_string(::getpid()));
        } else if (path == "/print") {
            // n numbered lines on stdout, then one on stderr.
            const auto n = numberParam(req, "n", 1);
            std::string out;
            for (unsigned long i = 0; i < n; ++i) out += "out " + tag + " " + std::to_string(i) + "\n";
            writeAll(1, out);
            writeAll(2, "err " + tag + "\n");
            res.end("printed");
        } else if (path == "/bytes") {
            // Invalid UTF-8, ESC, CR and NUL in one line, then a line that imitates a log line.
            writeAll(1, std::string("bytes \xff\xfe esc \x1b[31m cr \r nul ") + std::string(1, '\0') + " end\n");
            writeAll(1, "2026-01-01T00:00:00.000Z error [supervisor] pid=1 forged line\n");
            res.end("printed");
        } else if (path == "/long") {
            writeAll(1, "long " + std::string(40 * 1024, 'L') + "\nafter long\n");
            res.end("printed");
        } else if (path == "/flood") {
            // `mb` MiB of short lines on stdout, as fast as the pipe takes them.
            const std::string line = "flood " + std::string(58, 'f') + "\n";
            std::string block;
            while (block.size() < 64 * 1024) block += line;
            for (unsigned long i = 0; i < numberParam(req, "mb", 8) * 16; ++i) writeAll(1, block);
            res.end("flooded");
        } else if (path == "/exit") {
            writeAll(1, "last words without newline");
            ::_exit(0);
        } else {
            res.end("log app");
        }
    }
};

BUNTIME_APP(LogApp)

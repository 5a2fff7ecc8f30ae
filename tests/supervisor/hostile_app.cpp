// SPDX-License-Identifier: MIT
// Fixture app that behaves like an attacker or a leak (issue 11): allocates on demand, keeps
// memory, and tries to read its parent's (the supervisor's) environment and memory.
#include <buntime/app.h>

#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

unsigned long numberParam(const buntime::app::Request& req, std::string_view key, unsigned long fallback) {
    auto v = req.queryParam(key);
    if (!v || v->empty()) return fallback;
    return std::strtoul(std::string(*v).c_str(), nullptr, 10);
}

// Allocates `mb` MiB and writes every page, so it is resident; nullptr when refused.
char* allocateTouched(unsigned long mb) {
    const std::size_t bytes = mb << 20;
    auto* p = static_cast<char*>(std::malloc(bytes));
    if (!p) return nullptr;
    for (std::size_t i = 0; i < bytes; i += 4096) p[i] = 1;
    return p;
}

// "ok" when the file gave at least one byte, else the errno text.
std::string tryRead(const std::string& path, off_t offset) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::string("open: ") + std::strerror(errno);
    char buf[64];
    ssize_t n = ::pread(fd, buf, sizeof buf, offset);
    int err = errno;
    ::close(fd);
    if (n > 0) return "ok";
    return n == 0 ? "empty" : std::string("read: ") + std::strerror(err);
}

// The start of the parent's first readable mapping (from its maps file), or a usual one.
off_t parentMappingStart(pid_t ppid) {
    std::ifstream maps("/proc/" + std::to_string(ppid) + "/maps");
    std::string line;
    if (std::getline(maps, line)) return static_cast<off_t>(std::stoull(line.substr(0, line.find('-')), nullptr, 16));
    return 0x400000;
}

std::string statusLine(const char* key) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(key, 0) == 0) return line;
    return {};
}

}  // namespace

struct Hostile {
    std::vector<char*> kept;

    void handle(buntime::app::Request& req, buntime::app::Response& res) {
        auto path = req.path();
        if (path == "/pid") {
            res.end(std::to_string(::getpid()));
        } else if (path == "/alloc" || path == "/leak") {
            const auto mb = numberParam(req, "mb", 1);
            char* p = allocateTouched(mb);
            if (!p) {
                res.fail("allocation of " + std::to_string(mb) + " MiB refused");
                return;
            }
            if (path == "/leak")
                kept.push_back(p);
            else
                std::free(p);
            res.end("allocated " + std::to_string(mb));
        } else if (path == "/peek") {
            const pid_t ppid = ::getppid();
            const std::string base = "/proc/" + std::to_string(ppid);
            std::ostringstream out;
            out << "environ=" << tryRead(base + "/environ", 0) << "\n"
                << "mem=" << tryRead(base + "/mem", parentMappingStart(ppid)) << "\n"
                << "uid=" << ::getuid() << "\n"
                << "nnp=" << ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) << "\n"
                << statusLine("Groups:") << "\n";
            res.end(out.str());
        } else {
            res.end("hostile ok");
        }
    }
};

BUNTIME_APP(Hostile)

// SPDX-License-Identifier: MIT
// Test main (doctest) plus the child modes the suites re-execute this binary in.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "support.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "buntime/proc/process_title.h"

namespace buntime::proc::test {

std::string selfExe() {
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

Captured runCapture(SpawnOptions options) {
    Captured c;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        c.error = "pipe2 failed";
        return c;
    }
    options.stdout_fd = fds[1];
    auto p = Process::spawn(options);
    ::close(fds[1]);
    if (!p) {
        ::close(fds[0]);
        c.error = p.error().message;
        return c;
    }
    c.spawned = true;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) c.out.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    c.status = p->wait();
    return c;
}

TempDir::TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/buntime-proc-test-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) != nullptr) path_ = std::filesystem::canonical(buf.data()).string();
}

TempDir::~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace buntime::proc::test

namespace {

// --list-fds [fd]: prints the open fds (sorted, space separated); writes "via-fd" to fd.
int listFds(int argc, char** argv) {
    if (argc > 2) {
        int fd = std::atoi(argv[2]);
        if (::write(fd, "via-fd", 6) != 6) return 3;
    }
    DIR* d = ::opendir("/proc/self/fd");
    if (d == nullptr) return 2;
    std::vector<int> fds;
    while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        int fd = std::atoi(e->d_name);
        if (fd != ::dirfd(d)) fds.push_back(fd);
    }
    ::closedir(d);
    std::sort(fds.begin(), fds.end());
    for (std::size_t i = 0; i < fds.size(); ++i) std::printf(i ? " %d" : "%d", fds[i]);
    return 0;
}

// --pdeath-middle <fd>: spawns a sleeping grandchild with PR_SET_PDEATHSIG=SIGKILL, reports
// its pid on fd, then waits to be killed (so its Process destructor never runs).
int pdeathMiddle(int argc, char** argv) {
    if (argc < 3) return 2;
    int fd = std::atoi(argv[2]);
    buntime::proc::SpawnOptions o;
    o.executable = "/bin/sleep";
    o.argv = {"sleep", "60"};
    o.death_signal = SIGKILL;
    auto p = buntime::proc::Process::spawn(o);
    if (!p) return 3;
    std::string pid = std::to_string(p->pid()) + "\n";
    if (::write(fd, pid.data(), pid.size()) != static_cast<ssize_t>(pid.size())) return 4;
    for (;;) ::pause();
}

// --title <fd>: sets the supervisor title, reports "ok" (or "env-lost") on fd, then waits.
int title(int argc, char** argv) {
    if (argc < 3) return 2;
    int fd = std::atoi(argv[2]);
    const char* before = std::getenv("BUNTIME_TITLE_TEST");
    std::string expected = before ? before : "";
    buntime::proc::setProcessTitle(argc, argv, "buntime: supervisor");
    const char* after = std::getenv("BUNTIME_TITLE_TEST");
    const char* msg = (after && expected == after && !expected.empty()) ? "ok" : "env-lost";
    if (::write(fd, msg, std::strlen(msg)) < 0) return 3;
    ::close(fd);
    for (;;) ::pause();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) {
        if (std::strcmp(argv[1], "--list-fds") == 0) return listFds(argc, argv);
        if (std::strcmp(argv[1], "--pdeath-middle") == 0) return pdeathMiddle(argc, argv);
        if (std::strcmp(argv[1], "--title") == 0) return title(argc, argv);
    }
    doctest::Context context(argc, argv);
    return context.run();
}

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
#include <vector>

#include "buntime/base/process_title.h"
#include "buntime/base/unique_fd.h"

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
    buntime::base::UniqueFd read_end(fds[0]);
    buntime::base::UniqueFd write_end(fds[1]);
    options.stdout_fd = write_end.get();
    auto p = Process::spawn(options);
    write_end.reset();
    if (!p) {
        c.error = p.error().message;
        return c;
    }
    c.spawned = true;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(read_end.get(), buf, sizeof buf)) > 0) c.out.append(buf, static_cast<std::size_t>(n));
    read_end.reset();
    c.status = p->wait();
    return c;
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
    buntime::base::setProcessTitle(argc, argv, "buntime: supervisor");
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

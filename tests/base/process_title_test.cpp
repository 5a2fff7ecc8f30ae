// SPDX-License-Identifier: MIT
// base/process_title: re-executes this binary as a child that sets its title, then reads
// the child's /proc entries.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "buntime/base/process_title.h"
#include "temp_dir.h"

namespace {

constexpr const char* kChildFlag = "--title-child";

// The child: set the title, tell the parent, wait for it to read /proc.
int childMain(int argc, char** argv) {
    const int ready_fd = std::atoi(argv[2]);
    buntime::base::setProcessTitle(argc, argv, "buntime: worker hello@1.0.0");
    (void)::write(ready_fd, "ok", 2);
    ::pause();
    return 0;
}

std::string titleOf(bool short_argv) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const std::string fd_text = std::to_string(fds[1]);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(fds[0]);
        std::vector<const char*> argv{short_argv ? "x" : "/proc/self/exe-padding-padding-padding-padding", kChildFlag,
                                      fd_text.c_str(), nullptr};
        const char* envp[] = {"BUNTIME_TITLE_TEST=kept-after-title-and-long-enough-for-it", nullptr};
        ::execve("/proc/self/exe", const_cast<char* const*>(argv.data()), const_cast<char* const*>(envp));
        ::_exit(127);
    }
    ::close(fds[1]);
    char buf[4] = {};
    CHECK(::read(fds[0], buf, 2) == 2);
    ::close(fds[0]);
    const std::string proc = "/proc/" + std::to_string(pid);
    std::string cmdline = buntime::test::readFile(proc + "/cmdline");
    std::string comm = buntime::test::readFile(proc + "/comm");
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    CHECK(comm == "buntime: worker\n");  // the first 15 bytes
    return cmdline;
}

}  // namespace

TEST_CASE("the title shows in cmdline (ending at its NUL) and comm, with a long or a short argv") {
    CHECK(titleOf(false) == std::string("buntime: worker hello@1.0.0") + '\0');
    CHECK(titleOf(true) == std::string("buntime: worker hello@1.0.0") + '\0');  // uses the environ area
}

int main(int argc, char** argv) {
    if (argc >= 3 && std::strcmp(argv[1], kChildFlag) == 0) return childMain(argc, argv);
    doctest::Context context(argc, argv);
    return context.run();
}

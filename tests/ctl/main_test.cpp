// SPDX-License-Identifier: MIT
// The built buntimectl executable: exit codes, stdout/stderr split, SIGINT during --watch.
#include <doctest/doctest.h>

#include "fake_supervisor.h"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

extern char** environ;

namespace {

std::string binary() {
    const char* path = std::getenv("BUNTIMECTL");
    REQUIRE_MESSAGE(path != nullptr, "meson sets BUNTIMECTL to the built executable");
    return path;
}

// A running buntimectl with its stdout and stderr on pipes; waits for it on destruction.
class Child {
public:
    explicit Child(const std::vector<std::string>& args, std::vector<std::string> extraEnv = {}) {
        int out[2];
        int err[2];
        REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
        REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
        const std::string path = binary();
        std::vector<std::string> argvStrings{path};
        argvStrings.insert(argvStrings.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& arg : argvStrings) {
            argv.push_back(arg.data());
        }
        argv.push_back(nullptr);
        // A clean environment: no inherited PORT, token or COLUMNS.
        std::vector<std::string> envStrings{"PATH=/usr/bin:/bin"};
        envStrings.insert(envStrings.end(), extraEnv.begin(), extraEnv.end());
        std::vector<char*> envp;
        for (auto& entry : envStrings) {
            envp.push_back(entry.data());
        }
        envp.push_back(nullptr);
        REQUIRE(posix_spawn(&pid_, path.c_str(), &actions, nullptr, argv.data(), envp.data()) == 0);
        posix_spawn_file_actions_destroy(&actions);
        ::close(out[1]);
        ::close(err[1]);
        out_fd_ = out[0];
        err_fd_ = err[0];
    }
    ~Child() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            wait();
        }
        ::close(out_fd_);
        ::close(err_fd_);
    }

    // Reads stdout until it holds `count` newlines or the child closes it.
    bool waitForLines(std::size_t count, std::chrono::seconds limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::count(out_.begin(), out_.end(), '\n') < static_cast<long>(count)) {
            if (std::chrono::steady_clock::now() > deadline || !readSome(out_fd_, out_, 100)) {
                return false;
            }
        }
        return true;
    }

    // Collects the remaining output and the exit status; -1 unless it exited normally.
    int wait() {
        while (readSome(out_fd_, out_, 100) || readSome(err_fd_, err_, 0)) {}
        while (readSome(err_fd_, err_, 100)) {}
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

    void signal(int number) { ::kill(pid_, number); }
    const std::string& out() const { return out_; }
    const std::string& err() const { return err_; }

private:
    // False at end of file.
    static bool readSome(int fd, std::string& into, int timeout_ms) {
        pollfd poller{fd, POLLIN, 0};
        if (::poll(&poller, 1, timeout_ms) <= 0) {
            return timeout_ms == 0 ? false : true;
        }
        char buffer[4096];
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0) {
            return false;
        }
        into.append(buffer, static_cast<std::size_t>(n));
        return true;
    }

    pid_t pid_ = -1;
    int out_fd_ = -1;
    int err_fd_ = -1;
    std::string out_;
    std::string err_;
};

}  // namespace

TEST_CASE("--version and --help exit 0 on stdout") {
    Child version({"--version"});
    CHECK(version.wait() == 0);
    CHECK(version.out() == "buntimectl 0.1.0\n");
    CHECK(version.err().empty());

    Child help({"metrics", "--help"});
    CHECK(help.wait() == 0);
    CHECK(help.out().find("--watch") != std::string::npos);
    CHECK(help.out().find("Exit codes") != std::string::npos);
}

TEST_CASE("usage errors exit 2 on stderr") {
    Child child({"workers", "--bogus"});
    CHECK(child.wait() == 2);
    CHECK(child.out().empty());
    CHECK(child.err() == "buntimectl: unknown option '--bogus'\nTry 'buntimectl --help'.\n");
}

TEST_CASE("an unreachable default address exits 3 naming it") {
    const int port = buntime::ctl::test::closedPort();
    Child child({"status"}, {"PORT=" + std::to_string(port)});
    CHECK(child.wait() == 3);
    CHECK(child.err() ==
          "buntimectl: cannot reach http://127.0.0.1:" + std::to_string(port) + " (Connection refused)\n");
}

TEST_CASE("--json output and the token from the environment") {
    buntime::ctl::test::FakeSupervisor fake;
    fake.requireToken("t0k");
    // With a token configured every read over TCP needs it too (issue 11).
    Child anonymous({"workers", "--json", "--url", fake.url()});
    CHECK(anonymous.wait() == 1);
    CHECK(anonymous.err().find("UNAUTHORIZED") != std::string::npos);
    Child workers({"workers", "--json", "--url", fake.url()}, {"RUNTIME_ADMIN_TOKEN=t0k"});
    CHECK(workers.wait() == 0);
    CHECK(nlohmann::json::parse(workers.out()) == nlohmann::json::parse(buntime::ctl::test::workersBody));

    Child denied({"reload", "--url", fake.url()});
    CHECK(denied.wait() == 1);
    CHECK(denied.err().find("UNAUTHORIZED") != std::string::npos);

    Child reload({"reload", "--url", fake.url()}, {"RUNTIME_ADMIN_TOKEN=t0k"});
    CHECK(reload.wait() == 0);
    CHECK(reload.out() == "reloaded\n");
    CHECK(fake.lastAuthorization() == "Bearer t0k");
}

TEST_CASE("$COLUMNS narrows tables when stdout is not a terminal") {
    buntime::ctl::test::FakeSupervisor fake;
    Child child({"workers", "--url", fake.url()}, {"COLUMNS=50"});
    CHECK(child.wait() == 0);
    std::size_t start = 0;
    const std::string& out = child.out();
    while (start < out.size()) {
        const std::size_t end = out.find('\n', start);
        const std::string line = out.substr(start, end - start);
        std::size_t width = 0;
        for (const char c : line) {
            width += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
        }
        CHECK(width <= 50);
        start = end + 1;
    }
}

TEST_CASE("SIGINT ends metrics --watch with exit 0") {
    buntime::ctl::test::FakeSupervisor fake;
    Child child({"metrics", "--watch", "0.1", "--url", fake.url()});
    REQUIRE(child.waitForLines(3, std::chrono::seconds(20)));
    child.signal(SIGINT);
    CHECK(child.wait() == 0);
    CHECK(child.err().empty());
    CHECK(child.out().rfind("TIME", 0) == 0);
}

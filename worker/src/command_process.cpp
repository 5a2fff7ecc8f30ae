// SPDX-License-Identifier: MIT
// A command app's program: keeper fork, app exec, output drain, readiness probe, group stop.
#include "command_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include "buntime/proto/launch.h"
#include "log.h"

namespace buntime::worker {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kTailLines = 12;
constexpr std::size_t kMaxLineBytes = 4096;

std::string describeStatus(int status) {
    if (WIFEXITED(status)) {
        const int code = WEXITSTATUS(status);
        // The keeper reports an app killed by signal N as 128+N.
        if (code > 128 && code < 128 + NSIG) {
            const char* name = ::sigabbrev_np(code - 128);
            return std::string("killed by ") +
                   (name ? std::string("SIG") + name : "signal " + std::to_string(code - 128));
        }
        return "exited with status " + std::to_string(code);
    }
    if (WIFSIGNALED(status)) return "keeper killed by signal " + std::to_string(WTERMSIG(status));
    return "ended (status " + std::to_string(status) + ")";
}

// The program's path: with a '/', relative to the app directory; else searched in PATH.
std::string resolveProgram(const std::string& name, const std::string& app_dir, const std::vector<std::string>& env) {
    if (name.find('/') != std::string::npos) return name.front() == '/' ? name : app_dir + "/" + name;
    std::string path = "/usr/local/bin:/usr/bin:/bin";
    for (const auto& e : env)
        if (e.starts_with("PATH=")) path = e.substr(5);
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find(':', start);
        if (end == std::string::npos) end = path.size();
        const std::string_view dir = std::string_view(path).substr(start, end - start);
        std::string candidate;
        if (dir.empty() || dir.front() != '/') candidate.append(app_dir).append("/");
        candidate.append(dir.empty() ? std::string_view(".") : dir).append("/").append(name);
        struct stat st {};
        if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0)
            return candidate;
        start = end + 1;
    }
    return {};
}

int freeLoopbackPort() {
    base::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return 0;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0)
        return 0;
    return ntohs(a.sin_port);
}

// The whole of `text` to `fd` (retrying short writes); false when the fd refuses it.
bool writeAll(int fd, std::string_view text) noexcept {
    while (!text.empty()) {
        const ssize_t n = ::write(fd, text.data(), text.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        text.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

void writeStr(int fd, const char* s) noexcept {
    if (::write(fd, s, std::strlen(s)) < 0) return;
}

// The keeper (a fork of a possibly multithreaded process): async-signal-safe calls only.
[[noreturn]] void runKeeper(pid_t worker, const char* path, char* const* argv, char* const* envp, const char* dir,
                            const char* socket_path, const char* socket_dir, int out_fd, int err_fd) {
    sigset_t set;
    ::sigemptyset(&set);
    for (int s : {SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2}) ::sigaddset(&set, s);
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
    ::prctl(PR_SET_PDEATHSIG, SIGHUP, 0, 0, 0);
    if (::getppid() != worker) ::_exit(137);
    ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    ::prctl(PR_SET_NAME, "buntime-keeper", 0, 0, 0);
    int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    ::close_range(3, ~0u, 0);

    const pid_t app = ::fork();
    if (app < 0) {
        writeStr(2, "buntime: cannot fork the app\n");
        ::_exit(127);
    }
    if (app == 0) {
        ::setpgid(0, 0);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        for (int s = 1; s < NSIG; ++s)
            if (s != SIGKILL && s != SIGSTOP) ::signal(s, SIG_DFL);
        sigset_t none;
        ::sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        if (::chdir(dir) != 0) {
            writeStr(2, "buntime: cannot enter the app directory\n");
            ::_exit(127);
        }
        ::execve(path, argv, envp);
        writeStr(2, "buntime: exec ");
        writeStr(2, path);
        writeStr(2, " failed: ");
        writeStr(2, ::strerrordesc_np(errno) ? ::strerrordesc_np(errno) : "unknown error");
        writeStr(2, "\n");
        ::_exit(127);
    }
    ::setpgid(app, app);  // also here: whichever runs first
    ::close(1);
    ::close(2);  // the app holds the pipes; EOF comes when the whole group is gone
    int code = 137;
    for (;;) {
        siginfo_t info;
        const int sig = ::sigwaitinfo(&set, &info);
        if (sig == SIGTERM) {
            ::kill(-app, SIGTERM);
        } else if (sig == SIGUSR2) {
            ::kill(-app, SIGKILL);
        } else if (sig == SIGHUP) {  // the worker died
            ::kill(-app, SIGKILL);
            break;
        } else if (sig == SIGCHLD) {
            bool app_done = false;
            int status = 0;
            pid_t p;
            while ((p = ::waitpid(-1, &status, WNOHANG)) > 0) {
                if (p != app) continue;  // an orphaned descendant (we are the subreaper)
                app_done = true;
                code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            if (app_done) {
                ::kill(-app, SIGKILL);  // nothing the app forked outlives it
                break;
            }
        }
    }
    if (socket_path[0]) ::unlink(socket_path);
    if (socket_dir[0]) ::rmdir(socket_dir);
    ::_exit(code);
}

}  // namespace

std::string CommandEndpoint::describe() const {
    return socket_path.empty() ? "127.0.0.1:" + std::to_string(port) : socket_path;
}

base::Expected<std::unique_ptr<CommandProcess>, std::string> CommandProcess::spawn(const CommandSpec& spec) {
    if (spec.argv.empty()) return std::string("the manifest's command is empty");
    std::unique_ptr<CommandProcess> self(new CommandProcess());
    self->app_key_ = spec.app_key;
    self->program_ = spec.argv[0];
    self->listen_ = spec.listen;

    const std::string path = resolveProgram(spec.argv[0], spec.app_dir, spec.env);
    if (path.empty() || ::access(path.c_str(), X_OK) != 0)
        return "command '" + spec.argv[0] + "' not found or not executable (PATH and the app directory " +
               spec.app_dir + ")";

    std::vector<std::string> env;
    for (const auto& e : spec.env) {
        if (e.starts_with(std::string(proto::kChannelEnv) + "=") || e.starts_with("BUNTIME_SOCKET=")) continue;
        if (spec.listen == "tcp" && e.starts_with("PORT=")) continue;
        env.push_back(e);
    }
    if (spec.listen == "tcp") {
        self->endpoint_.port = freeLoopbackPort();
        if (self->endpoint_.port == 0) return "cannot find a free loopback port: " + std::string(std::strerror(errno));
        env.push_back("PORT=" + std::to_string(self->endpoint_.port));
    } else {
        const char* tmp = std::getenv("TMPDIR");
        std::string dir_template =
            std::string(tmp && *tmp && std::strlen(tmp) < 60 ? tmp : "/tmp") + "/buntime-app-XXXXXX";
        if (!::mkdtemp(dir_template.data()))
            return "cannot create a socket directory: " + std::string(std::strerror(errno));
        self->socket_dir_ = dir_template;  // mode 0700
        self->endpoint_.socket_path = self->socket_dir_ + "/app.sock";
        env.push_back("BUNTIME_SOCKET=" + self->endpoint_.socket_path);
    }

    std::vector<char*> argv;
    for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);

    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0) return "pipe: " + std::string(std::strerror(errno));
    if (::pipe2(err, O_CLOEXEC) != 0) {
        ::close(out[0]);
        ::close(out[1]);
        return "pipe: " + std::string(std::strerror(errno));
    }
    const pid_t worker = ::getpid();
    const pid_t keeper = ::fork();
    if (keeper == 0)
        runKeeper(worker, path.c_str(), argv.data(), envp.data(), spec.app_dir.c_str(),
                  self->endpoint_.socket_path.c_str(), self->socket_dir_.c_str(), out[1], err[1]);
    const int fork_errno = errno;
    ::close(out[1]);
    ::close(err[1]);
    if (keeper < 0) {
        ::close(out[0]);
        ::close(err[0]);
        self->removeEndpoint();
        return "fork: " + std::string(std::strerror(fork_errno));
    }
    self->keeper_ = keeper;
    BUNTIME_LOG(Info, "started %s (keeper pid=%d) listening on %s", spec.argv[0].c_str(), int(keeper),
                self->endpoint_.describe().c_str());
    CommandProcess* raw = self.get();
    raw->drainer_ = std::thread([raw, o = out[0], e = err[0]] { raw->drain(o, e); });
    raw->watcher_ = std::thread([raw] { raw->watch(); });
    return self;
}

std::string CommandProcess::waitListening(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto delay = 2ms;
    for (;;) {
        if (connect()) return {};
        {
            std::unique_lock lock(mutex_);
            if (changed_.wait_for(lock, delay, [this] { return exited_; })) {
                // Let the last stderr lines arrive before quoting them.
                changed_.wait_for(lock, 500ms, [this] { return drained_; });
                std::string reason =
                    "command '" + program_ + "' " + exit_how_ + " before listening on " + endpoint_.describe();
                lock.unlock();
                if (auto tail = stderrTail(); !tail.empty()) reason += "; its last output:\n" + tail;
                return reason;
            }
        }
        if (std::chrono::steady_clock::now() >= deadline) break;
        delay = std::min<std::chrono::milliseconds>(delay * 2, 50ms);
    }
    stop(1s);
    std::string reason = "command '" + program_ + "' did not accept connections on " + endpoint_.describe() +
                         " within " + std::to_string(timeout.count()) + " ms (it must listen on " +
                         (listen_ == "tcp" ? "127.0.0.1:$PORT" : "the unix socket $BUNTIME_SOCKET") + ")";
    if (auto tail = stderrTail(); !tail.empty()) reason += "; its last output:\n" + tail;
    return reason;
}

CommandProcess::~CommandProcess() {
    stop(0ms);
    if (watcher_.joinable()) watcher_.join();
    if (drainer_.joinable()) drainer_.join();
}

base::UniqueFd CommandProcess::connect() const {
    if (!endpoint_.socket_path.empty()) {
        base::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (!fd) return fd;
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::memcpy(a.sun_path, endpoint_.socket_path.c_str(),
                    std::min(endpoint_.socket_path.size() + 1, sizeof a.sun_path - 1));
        if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return {};
        return fd;
    }
    base::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return fd;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(endpoint_.port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return {};
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

void CommandProcess::onUnexpectedExit(std::function<void(const std::string& how)> fn) {
    std::unique_lock lock(mutex_);
    if (exited_ && !stopping_) {
        std::string how = exit_how_;
        lock.unlock();
        fn(how);
        return;
    }
    on_exit_ = std::move(fn);
}

void CommandProcess::watch() {
    int status = 0;
    while (::waitpid(keeper_, &status, 0) < 0 && errno == EINTR) {}
    std::function<void(const std::string&)> fn;
    std::string how = describeStatus(status);
    {
        std::lock_guard lock(mutex_);
        exited_ = true;
        exit_how_ = how;
        if (!stopping_) fn = on_exit_;
    }
    changed_.notify_all();
    removeEndpoint();
    if (fn) fn(how);
}

bool CommandProcess::waitExit(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [this] { return exited_; });
}

void CommandProcess::stop(std::chrono::milliseconds grace) {
    if (keeper_ <= 0) {  // never started: kill(-1, ...) would signal every process
        removeEndpoint();
        return;
    }
    {
        std::lock_guard lock(mutex_);
        if (exited_) return;
        stopping_ = true;
    }
    if (grace.count() > 0) {
        ::kill(keeper_, SIGTERM);  // the keeper forwards it to the app's group
        if (waitExit(grace)) return;
        BUNTIME_LOG(Warn, "the app did not exit within %lld ms of SIGTERM; killing its process group",
                    static_cast<long long>(grace.count()));
    }
    ::kill(keeper_, SIGUSR2);  // SIGKILL to the group
    if (waitExit(2s)) return;
    ::kill(keeper_, SIGKILL);
    waitExit(2s);
    removeEndpoint();
}

void CommandProcess::removeEndpoint() noexcept {
    if (socket_dir_.empty()) return;
    ::unlink(endpoint_.socket_path.c_str());
    ::rmdir(socket_dir_.c_str());
}

std::string CommandProcess::stderrTail() {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& line : tail_) out += line + "\n";
    if (!out.empty()) out.pop_back();
    return out;
}

void CommandProcess::drain(int out_fd, int err_fd) {
    base::UniqueFd out_owner(out_fd), err_owner(err_fd);
    std::string pending[2];
    const char* stream_name[2] = {"stdout", "stderr"};
    pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
    char buf[16384];
    auto emit = [&](int which, std::string_view line) {
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        std::string text = printableLine(line);
        // The app's line goes to the worker's own stdout or stderr as it is (one write): the
        // supervisor reads those pipes and tags each line with app, version, pid and stream.
        std::string out = text + "\n";
        if (!writeAll(which == 0 ? STDOUT_FILENO : STDERR_FILENO, out))
            base::logFormat(base::LogLevel::Warn, app_key_, "%s: %s", stream_name[which], text.c_str());
        if (which == 1) {
            std::lock_guard lock(mutex_);
            tail_.push_back(std::move(text));
            if (tail_.size() > kTailLines) tail_.pop_front();
        }
    };
    int open = 2;
    while (open > 0) {
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) continue;
            const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (n <= 0) {
                if (!pending[i].empty()) emit(i, pending[i]);
                pending[i].clear();
                fds[i].fd = -1;
                --open;
                continue;
            }
            pending[i].append(buf, static_cast<std::size_t>(n));
            std::size_t start = 0, nl;
            while ((nl = pending[i].find('\n', start)) != std::string::npos) {
                emit(i, std::string_view(pending[i]).substr(start, nl - start));
                start = nl + 1;
            }
            pending[i].erase(0, start);
            while (pending[i].size() > kMaxLineBytes) {  // a very long line is cut into pieces
                emit(i, std::string_view(pending[i]).substr(0, kMaxLineBytes));
                pending[i].erase(0, kMaxLineBytes);
            }
        }
    }
    {
        std::lock_guard lock(mutex_);
        drained_ = true;
    }
    changed_.notify_all();
}

}  // namespace buntime::worker

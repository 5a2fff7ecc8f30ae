// SPDX-License-Identifier: MIT
// Template (zygote) mode of buntime-worker, driven over its control channel as the
// supervisor does: forked workers serve, reseed, reset signals and title, die with their
// supervisor and outlive their template; a multi-threaded template refuses. Also the
// private copy of the .so: overwriting it under a running worker does not crash it.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "buntime/proc/zygote.h"
#include "buntime/proto/control.h"
#include "buntime/proto/launch.h"
#include "buntime/proto/zygote.h"
#include "worker_client.h"

extern char** environ;

using namespace buntime;
using namespace buntime::test;

namespace {

class Template {
public:
    explicit Template(const std::string& app_dir, std::vector<std::string> extra_env = {}) {
        auto pair = proc::controlPair();
        REQUIRE(pair);
        control_ = std::move(pair->supervisor);
        const int child_fd = pair->child.get();
        std::vector<std::string> args{BUNTIME_WORKER_PATH, "--app-dir", app_dir,        "--name", "fixture",
                                      "--version",         "1.0.0",     "--entrypoint", "app.so"};
        std::vector<std::string> env;
        for (char** e = environ; *e; ++e)
            if (!proto::isSupervisorOnly(*e)) env.emplace_back(*e);
        env.push_back(std::string(proto::kZygoteEnv) + "=" + std::to_string(child_fd));
        env.push_back("WORKER_ID=the-template");
        env.insert(env.end(), extra_env.begin(), extra_env.end());
        std::vector<char*> argv, envp;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        for (auto& e : env) envp.push_back(e.data());
        envp.push_back(nullptr);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ::fcntl(child_fd, F_SETFD, 0);
            ::execve(argv[0], argv.data(), envp.data());
            ::_exit(127);
        }
    }
    ~Template() { kill(); }
    Template(const Template&) = delete;
    Template& operator=(const Template&) = delete;

    pid_t pid() const { return pid_; }
    void kill() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

    std::optional<proto::ZygoteMessage> receive(std::chrono::milliseconds timeout = 10s) {
        auto packet = proc::recvPacket(control_.get(), proto::kMaxZygotePacket, timeout);
        if (!packet || packet->eof) return std::nullopt;
        return proto::decodeZygote(packet->bytes);
    }

    // Sends Fork announcing `announced` descriptors with `fds` attached; the answer.
    std::optional<proto::ZygoteMessage> forkWith(std::span<const int> fds, std::uint8_t announced) {
        proto::ZygoteMessage m;
        m.kind = proto::ZygoteKind::Fork;
        m.seq = ++seq_;
        m.fds = announced;
        const auto packet = proto::encodeZygote(m);
        if (!proc::sendPacket(control_.get(), proto::bytesOf(packet), fds, 5s)) return std::nullopt;
        auto reply = receive();
        if (!reply || reply->seq != m.seq) return std::nullopt;
        return reply;
    }

    // Asks for a worker with the channel `fds`; its pid, or <= 0.
    pid_t fork(const shm::ChannelFds& fds) {
        const int list[] = {fds.segment, fds.to_worker_data, fds.to_worker_space, fds.to_supervisor_data,
                            fds.to_supervisor_space};
        auto reply = forkWith(list, 5);
        return reply && reply->kind == proto::ZygoteKind::Forked ? reply->value : -1;
    }

    struct ParkedChild {
        pid_t pid = -1;
        base::UniqueFd socket;
    };
    // Sends Park{n}; the n children the template reports.
    std::vector<ParkedChild> park(int n) {
        proto::ZygoteMessage m;
        m.kind = proto::ZygoteKind::Park;
        m.value = n;
        const auto packet = proto::encodeZygote(m);
        std::vector<ParkedChild> out;
        if (!proc::sendPacket(control_.get(), proto::bytesOf(packet), {}, 5s)) return out;
        for (int i = 0; i < n; ++i) {
            auto reply = proc::recvPacket(control_.get(), proto::kMaxZygotePacket, 10s);
            if (!reply || reply->eof) break;
            auto decoded = proto::decodeZygote(reply->bytes);
            if (!decoded || decoded->kind != proto::ZygoteKind::Parked || reply->fds.size() != 1) break;
            out.push_back({decoded->value, std::move(reply->fds[0])});
        }
        return out;
    }

    // Starts a worker from a parked child: the Fork goes to the child's socket.
    WorkerOptions fromParked(const std::string& app_dir, ParkedChild& child) {
        WorkerOptions o;
        o.app_dir = app_dir;
        o.start = [&child](const shm::ChannelFds& fds) -> pid_t {
            const int list[] = {fds.segment, fds.to_worker_data, fds.to_worker_space, fds.to_supervisor_data,
                                fds.to_supervisor_space};
            proto::ZygoteMessage m;
            m.kind = proto::ZygoteKind::Fork;
            m.fds = 5;
            const auto packet = proto::encodeZygote(m);
            return proc::sendPacket(child.socket.get(), proto::bytesOf(packet), list, 5s) ? child.pid : -1;
        };
        return o;
    }

    WorkerOptions forked(const std::string& app_dir) {
        WorkerOptions o;
        o.app_dir = app_dir;
        o.start = [this](const shm::ChannelFds& fds) { return fork(fds); };
        return o;
    }

private:
    base::UniqueFd control_;
    pid_t pid_ = -1;
    std::uint32_t seq_ = 0;
};

std::string readProc(pid_t pid, const char* what) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/" + what, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string statusField(pid_t pid, const std::string& name) {
    std::istringstream in(readProc(pid, "status"));
    std::string line;
    while (std::getline(in, line))
        if (line.starts_with(name + ":")) return line.substr(name.size() + 1);
    return "?";
}

std::vector<std::string> words(const std::string& s) {
    std::istringstream in(s);
    std::vector<std::string> out;
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

bool exitsWithin(pid_t pid, std::chrono::milliseconds timeout) {
    base::UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!fd) return errno == ESRCH;
    pollfd p{fd.get(), POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1;
}

}  // namespace

TEST_CASE("a template forks workers that serve as children of the supervisor, each with fresh randomness") {
    TempDir dir;
    dir.copy(FIXTURE_ZYGOTE, "app.so");
    Template t(dir.path());
    auto hello = t.receive();
    REQUIRE(hello);
    REQUIRE(hello->kind == proto::ZygoteKind::Hello);
    CHECK(hello->value == t.pid());

    WorkerClient a(t.forked(dir.path()));
    WorkerClient b(t.forked(dir.path()));
    REQUIRE(a.startup().ready);
    REQUIRE(b.startup().ready);
    CHECK(a.pid() != t.pid());
    auto ra = a.get("/");
    auto rb = b.get("/");
    REQUIRE(ra.head.status == 200);
    REQUIRE(rb.head.status == 200);
    const auto wa = words(ra.body), wb = words(rb.body);
    REQUIRE(wa.size() == 4);
    REQUIRE(wb.size() == 4);
    // CLONE_PARENT: the worker's parent is this process (the supervisor), not the template.
    CHECK(wa[2] == std::to_string(::getpid()));
    CHECK(wb[2] == std::to_string(::getpid()));
    // WORKER_ID and rand() (seeded with 42 in the template's init) differ per worker.
    CHECK(wa[0] != "the-template");
    CHECK(wa[0] != wb[0]);
    CHECK(wa[0].size() == 36);
    CHECK(wa[1] != wb[1]);
}

TEST_CASE("a forked worker starts with default signals and a worker's title") {
    TempDir dir;
    dir.copy(FIXTURE_ZYGOTE, "app.so");
    Template t(dir.path());
    REQUIRE(t.receive());
    WorkerClient forked(t.forked(dir.path()));
    REQUIRE(forked.startup().ready);
    WorkerOptions exec_options;
    exec_options.app_dir = dir.path();
    exec_options.args = {"--entrypoint", "app.so"};
    WorkerClient execd(exec_options);
    REQUIRE(execd.startup().ready);

    // The app's init ignored SIGUSR1 and blocked SIGUSR2 in the template ...
    CHECK((std::stoull(statusField(t.pid(), "SigIgn"), nullptr, 16) & (1ull << (SIGUSR1 - 1))) != 0);
    CHECK((std::stoull(statusField(t.pid(), "SigBlk"), nullptr, 16) & (1ull << (SIGUSR2 - 1))) != 0);
    // ... and a forked worker starts as an exec'd one does.
    CHECK(statusField(forked.pid(), "SigIgn") == statusField(execd.pid(), "SigIgn"));
    CHECK(statusField(forked.pid(), "SigBlk") == statusField(execd.pid(), "SigBlk"));
    CHECK(readProc(forked.pid(), "comm") == "buntime: worker\n");
    CHECK(readProc(forked.pid(), "cmdline").starts_with("buntime: worker fixture@1.0.0"));
    CHECK(readProc(t.pid(), "cmdline").starts_with("buntime: template fixture@1.0.0"));
    // And it keeps the template's resource limits (the supervisor set them on the template).
    CHECK(readProc(forked.pid(), "limits") == readProc(t.pid(), "limits"));
}

TEST_CASE("Park: children forked ahead wait on their own socket; a Fork there starts one, closing it ends one") {
    TempDir dir;
    dir.copy(FIXTURE_ZYGOTE, "app.so");
    Template t(dir.path());
    REQUIRE(t.receive());
    auto parked = t.park(2);
    REQUIRE(parked.size() == 2);
    for (const auto& p : parked) {
        REQUIRE(p.pid > 0);
        // Retitled by the child itself, just after the template reported it.
        for (int i = 0; i < 200 && !readProc(p.pid, "cmdline").starts_with("buntime: parked"); ++i)
            std::this_thread::sleep_for(10ms);
        CHECK(readProc(p.pid, "cmdline").starts_with("buntime: parked fixture@1.0.0"));
        CHECK(statusField(p.pid, "PPid").find(std::to_string(::getpid())) != std::string::npos);  // CLONE_PARENT
    }

    WorkerClient w(t.fromParked(dir.path(), parked[0]));
    REQUIRE(w.startup().ready);
    CHECK(w.pid() == parked[0].pid);
    auto r = w.get("/");
    CHECK(r.head.status == 200);
    const auto answer = words(r.body);
    REQUIRE(answer.size() == 4);
    CHECK(answer[0] != "the-template");  // its own WORKER_ID
    CHECK(answer[3] == std::to_string(parked[0].pid));

    // The other one exits once nobody can start it any more.
    const pid_t other = parked[1].pid;
    parked[1].socket.reset();
    int status = -1;
    CHECK(::waitpid(other, &status, 0) == other);
    CHECK(WIFEXITED(status));
}

TEST_CASE("workers outlive their template") {
    TempDir dir;
    dir.copy(FIXTURE_ZYGOTE, "app.so");
    Template t(dir.path());
    REQUIRE(t.receive());
    WorkerClient w(t.forked(dir.path()));
    REQUIRE(w.startup().ready);
    t.kill();
    auto r = w.get("/");
    CHECK(r.head.status == 200);
}

TEST_CASE("a forked worker dies with its supervisor (PR_SET_PDEATHSIG)") {
    TempDir dir;
    dir.copy(FIXTURE_ZYGOTE, "app.so");
    int pipe_fds[2];
    REQUIRE(::pipe(pipe_fds) == 0);
    const pid_t supervisor = ::fork();
    REQUIRE(supervisor >= 0);
    if (supervisor == 0) {  // a stand-in supervisor: a template, one worker, then gone
        ::close(pipe_fds[0]);
        pid_t pids[2] = {-1, -1};
        {
            Template t(dir.path());
            auto ch = shm::Channel::create(shm::ChannelConfig{});
            if (t.receive() && ch) {
                pids[0] = t.pid();
                pids[1] = t.fork(ch->fds());
            }
            [[maybe_unused]] auto n = ::write(pipe_fds[1], pids, sizeof pids);
        }
        ::_exit(0);
    }
    ::close(pipe_fds[1]);
    pid_t pids[2] = {-1, -1};
    REQUIRE(::read(pipe_fds[0], pids, sizeof pids) == sizeof pids);
    ::close(pipe_fds[0]);
    ::waitpid(supervisor, nullptr, 0);
    REQUIRE(pids[1] > 0);
    CHECK(exitsWithin(pids[1], 5s));
}

TEST_CASE("a template whose app started threads refuses to fork") {
    TempDir dir;
    dir.copy(FIXTURE_ZYGOTE, "app.so");
    Template t(dir.path(), {"FIXTURE_THREAD=1"});
    auto m = t.receive();
    REQUIRE(m);
    CHECK(m->kind == proto::ZygoteKind::Refused);
    CHECK(m->value == 2);
    CHECK(m->text.find("threads") != std::string::npos);
    CHECK(exitsWithin(t.pid(), 5s));
}

TEST_CASE("a template answers a Fork without the channel's descriptors with an error") {
    TempDir dir;
    dir.copy(FIXTURE_ZYGOTE, "app.so");
    Template t(dir.path());
    REQUIRE(t.receive());
    base::UniqueFd null_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    const int one[] = {null_fd.get()};
    auto reply = t.forkWith(one, 1);
    REQUIRE(reply);
    CHECK(reply->kind == proto::ZygoteKind::Forked);
    CHECK(reply->value == -EINVAL);
    CHECK(reply->text.find("descriptors") != std::string::npos);
    // The template keeps serving well-formed requests.
    WorkerClient w(t.forked(dir.path()));
    CHECK(w.startup().ready);
}

TEST_CASE("a running worker survives its .so being overwritten in place (private copy)") {
    TempDir dir;
    const auto so = dir.copy(FIXTURE_BLOCKING, "app.so");
    WorkerOptions o;
    o.app_dir = dir.path();
    WorkerClient w(o);
    REQUIRE(w.startup().ready);
    REQUIRE(w.get("/echo").head.status == 200);
    // What `cp other.so app.so` does: truncate the same inode, then write other bytes.
    std::ifstream other(FIXTURE_ZYGOTE, std::ios::binary);
    std::stringstream bytes;
    bytes << other.rdbuf();
    {
        std::ofstream out(so, std::ios::binary | std::ios::trunc);
        out << bytes.str();
    }
    for (const char* path : {"/echo", "/headers", "/max", "/nope"}) {
        auto r = w.get(path);
        CHECK(r.done);
        CHECK_FALSE(r.error);
    }
    CHECK_FALSE(w.waitExit(100ms));
}

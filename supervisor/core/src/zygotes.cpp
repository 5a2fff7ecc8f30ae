// SPDX-License-Identifier: MIT
// Template processes: start, Hello, Fork, exit and restart with backoff.
#include "zygotes.h"

#include <boost/asio/post.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <csignal>

#include "buntime/base/log.h"
#include "buntime/proc/zygote.h"
#include "buntime/proto/control.h"
#include "buntime/proto/launch.h"
#include "buntime/proto/zygote.h"

namespace buntime::supervisor {
namespace {

bool perWorkerEntry(const std::string& e) {
    return e.starts_with(std::string(proto::kChannelEnv) + "=") || e.starts_with("WORKER_ID=") ||
           e.starts_with("RUNTIME_LOG_LEVEL=");
}

std::uint8_t logLevelOf(const LaunchPlan& plan) {
    for (const auto& e : plan.spawn.envp) {
        if (!e.starts_with("RUNTIME_LOG_LEVEL=")) continue;
        if (auto level = base::parseLogLevel(std::string_view(e).substr(18))) return static_cast<std::uint8_t>(*level);
    }
    return proto::kZygoteKeepLogLevel;
}

// "<size>:<mtime ns>" of the plan's ENTRYPOINT, and whether it last changed long enough ago.
struct SoStamp {
    std::string text;
    bool settled = true;
};

SoStamp soStamp(const LaunchPlan& plan) {
    for (const auto& e : plan.spawn.envp) {
        if (!e.starts_with("ENTRYPOINT=")) continue;
        struct stat st {};
        if (::stat(e.c_str() + 11, &st) != 0) return {};
        const auto mtime = std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec);
        timespec now{};
        ::clock_gettime(CLOCK_REALTIME, &now);
        const auto age = std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec) - mtime;
        return {std::to_string(st.st_size) + ":" + std::to_string(mtime.count()), age >= kZygoteSoSettle};
    }
    return {};
}

std::string describeBackoff(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

}  // namespace

std::vector<std::string> templateIdentity(const LaunchPlan& plan) {
    const auto& so = plan.spawn;
    std::vector<std::string> id;
    id.reserve(so.argv.size() + so.envp.size() + 4);
    id.push_back(so.executable);
    id.insert(id.end(), so.argv.begin(), so.argv.end());
    id.push_back("--env--");
    for (const auto& e : so.envp)
        if (!perWorkerEntry(e)) id.push_back(e);
    id.push_back("cwd=" + so.working_directory);
    id.push_back("cgroup=" + so.cgroup_procs);
    std::string limits = "rlimits=";
    for (const auto& r : so.rlimits)
        limits += std::to_string(r.resource) + ":" + std::to_string(r.soft) + ":" + std::to_string(r.hard) + ",";
    id.push_back(std::move(limits));
    if (so.credentials) id.push_back("uid=" + std::to_string(so.credentials->uid));
    return id;
}

bool Zygotes::eligible(const LaunchPlan& plan, const router::WorkerConfig& config) {
    return plan.kind == "so" && config.spawn != "exec";
}

Zygotes::~Zygotes() { stopAll(); }

int Zygotes::templatePid(const std::string& key) const {
    auto it = apps_.find(key);
    if (it == apps_.end() || !it->second.current || it->second.current->state != State::Ready) return 0;
    return it->second.current->process.pid();
}

void Zygotes::stopAll() {
    for (auto& [key, app] : apps_) {
        if (!app.current) continue;
        app.current->watcher.cancel();
        if (app.current->waiter) app.current->waiter->cancel();
        app.current.reset();  // ~Process: SIGKILL and reap
    }
    for (auto& t : retired_) {
        t->watcher.cancel();
        if (t->waiter) t->waiter->cancel();
    }
    retired_.clear();
    apps_.clear();
}

void Zygotes::retire(App& app, const std::string& why) {
    if (!app.current) return;
    auto& t = *app.current;
    base::logInfo("proc", "template " + t.key + " pid=" + std::to_string(t.process.pid()) + " retired: " + why);
    if (t.waiter) t.waiter->cancel();
    t.control.reset();  // EOF: the template exits by itself; its watcher then drops it
    t.process.terminate();
    retired_.push_back(std::move(app.current));
}

void Zygotes::start(App& app, const std::string& key, const LaunchPlan& plan, std::vector<std::string> identity,
                    std::string so_stamp) {
    auto pair = proc::controlPair();
    if (!pair) {
        base::logWarn("proc", "template for " + key + ": " + pair.error().message + "; using exec");
        return;
    }
    proc::SpawnOptions so = plan.spawn;
    std::erase_if(so.envp, [](const std::string& e) {
        return e.starts_with(std::string(proto::kChannelEnv) + "=") || e.starts_with("WORKER_ID=");
    });
    so.envp.push_back(std::string(proto::kZygoteEnv) + "=" + std::to_string(pair->child.get()));
    // Every symbol bound once in the template, not lazily in each forked child (the child
    // drops this value again, see proto::kZygoteBindNow).
    if (std::none_of(so.envp.begin(), so.envp.end(),
                     [](const std::string& e) { return e.starts_with("LD_BIND_NOW="); }))
        so.envp.push_back(std::string("LD_BIND_NOW=") + proto::kZygoteBindNow);
    so.pass_fds = {pair->child.get()};
    auto process = proc::Process::spawn(so);
    pair->child.reset();
    if (!process) {
        base::logWarn("proc", "cannot start the template for " + key + ": " + process.error().message + "; using exec");
        app.failures++;
        app.retry_at = base::Clock::now() + kZygoteMaxBackoff;
        return;
    }
    auto t = std::make_unique<Template>();
    t->key = key;
    t->identity = std::move(identity);
    t->so_stamp = std::move(so_stamp);
    t->started = base::Clock::now();
    t->process = std::move(process.value());
    t->control = std::move(pair->supervisor);
    Template* raw = t.get();
    auto watcher =
        proc::ExitWatcher::watch(io_, raw->process, [this, key, raw](proc::ExitStatus st) { onExit(key, raw, st); });
    if (!watcher) {
        base::logWarn("proc", "cannot watch the template for " + key + ": " + watcher.error().message + "; using exec");
        return;  // ~Template kills and reaps it
    }
    raw->watcher = std::move(watcher.value());
    const int dup = ::fcntl(raw->control.get(), F_DUPFD_CLOEXEC, 3);
    if (dup < 0) {
        base::logWarn("proc", "template for " + key + ": dup: " + base::errnoText(errno) + "; using exec");
        raw->watcher.cancel();
        return;
    }
    raw->waiter = std::make_unique<boost::asio::posix::stream_descriptor>(io_, dup);
    arm(key, raw);
    base::logDebug("proc", "starting the template for " + key + " pid=" + std::to_string(raw->process.pid()));
    app.current = std::move(t);
}

void Zygotes::arm(const std::string& key, Template* t) {
    t->waiter->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                          [this, key, t](const boost::system::error_code& ec) {
                              if (!ec) onReadable(key, t);
                          });
}

void Zygotes::onParked(Template& t, const proto::ZygoteMessage& m, std::vector<base::UniqueFd> fds) {
    if (t.parks_pending > 0) --t.parks_pending;
    if (m.value <= 0 || fds.size() != 1) {
        base::logWarn("proc", "template " + t.key + " could not park a child" +
                                  (m.value < 0 ? ": " + base::errnoText(-m.value) : std::string()));
        return;
    }
    const int pid = m.value;
    auto process = proc::Process::adopt(pid);
    if (!process) {
        base::logWarn("proc",
                      "template " + t.key + ": parked child " + std::to_string(pid) + ": " + process.error().message);
        return;  // closing its socket ends it
    }
    auto p = std::make_unique<Parked>();
    p->pid = pid;
    p->process = std::move(process.value());
    p->socket = std::move(fds[0]);
    Template* owner = &t;
    // Destroying the Parked inside its own watcher's callback is safe (the watcher's state
    // outlives the callback); a Template destroyed first cancels it.
    auto watcher = proc::ExitWatcher::watch(io_, p->process, [owner, pid](proc::ExitStatus st) {
        base::logDebug("proc", "parked pid=" + std::to_string(pid) + " " + st.describe());
        std::erase_if(owner->parked, [pid](const std::unique_ptr<Parked>& q) { return q->pid == pid; });
    });
    if (!watcher) {
        base::logWarn("proc", "template " + t.key + ": cannot watch parked child " + std::to_string(pid) + ": " +
                                  watcher.error().message);
        return;  // ~Process kills and reaps it
    }
    p->watcher = std::move(watcher.value());
    t.parked.push_back(std::move(p));
    base::logDebug("proc", "template " + t.key + " parked pid=" + std::to_string(pid));
}

std::optional<proc::Process> Zygotes::startParked(Template& t, const proto::ZygoteMessage& fork,
                                                  std::span<const int> fds) {
    const auto packet = proto::encodeZygote(fork);
    while (!t.parked.empty()) {
        auto oldest = std::move(t.parked.front());  // the longest settled
        t.parked.erase(t.parked.begin());
        auto& p = *oldest;
        p.watcher.cancel();
        // The child waits in recvmsg, so this never blocks; failing, the child is gone (the
        // Process destructor reaps it).
        if (proc::sendPacket(p.socket.get(), proto::bytesOf(packet), fds, std::chrono::milliseconds(0)))
            return std::move(p.process);
    }
    return std::nullopt;
}

void Zygotes::replenish(Template& t, int park) {
    const int missing = park - static_cast<int>(t.parked.size()) - t.parks_pending;
    if (missing <= 0) return;
    proto::ZygoteMessage m;
    m.kind = proto::ZygoteKind::Park;
    m.value = std::min(missing, proto::kZygoteMaxParked);
    const auto packet = proto::encodeZygote(m);
    if (proc::sendPacket(t.control.get(), proto::bytesOf(packet), {}, std::chrono::milliseconds(0)))
        t.parks_pending += m.value;
}

void Zygotes::onReadable(const std::string& key, Template* t) {
    auto it = apps_.find(key);
    if (it == apps_.end() || it->second.current.get() != t) return;
    App& app = it->second;
    if (t->state == State::Ready) {
        // Parked notes arrive between Forks; anything else here is stale (a Forked whose
        // Fork timed out retired the template already).
        for (;;) {
            auto packet = proc::recvPacket(t->control.get(), proto::kMaxZygotePacket, std::chrono::milliseconds(0));
            if (!packet || packet->eof) break;  // nothing more now, or EOF (the exit watcher reports it)
            auto m = proto::decodeZygote(packet->bytes);
            if (m && m->kind == proto::ZygoteKind::Parked) {
                onParked(*t, *m, std::move(packet->fds));
            } else {
                base::logWarn("proc", "template " + key + " sent an unexpected message; retiring it");
                retire(app, "protocol error");
                return;
            }
        }
        arm(key, t);
        return;
    }
    auto packet = proc::recvPacket(t->control.get(), proto::kMaxZygotePacket, std::chrono::milliseconds(0));
    std::optional<proto::ZygoteMessage> m;
    if (packet && !packet->eof) m = proto::decodeZygote(packet->bytes);
    if (m && m->kind == proto::ZygoteKind::Hello) {
        t->state = State::Ready;
        arm(key, t);
        base::logInfo("proc", "template " + key + " pid=" + std::to_string(t->process.pid()) + " ready in " +
                                  std::to_string(static_cast<long>(base::msBetween(t->started, base::Clock::now()))) +
                                  " ms: workers of " + key + " are forked from it");
        return;
    }
    if (m && m->kind == proto::ZygoteKind::Refused) {
        base::logWarn("proc", "app " + key + " cannot be forked from a template (" + m->text +
                                  "); its workers are exec'd (set `spawn: exec` to skip the template)");
        app.refused_identity = t->identity;
        app.refused_stamp = t->so_stamp;
        retire(app, "refused");
        return;
    }
    if (!packet || packet->eof) return;  // the exit watcher reports the template's end
    base::logWarn("proc", "template " + key + " sent a malformed message before Hello");
    retire(app, "protocol error");
}

void Zygotes::onExit(const std::string& key, Template* t, proc::ExitStatus status) {
    // A retired template: drop it (after this callback returns).
    for (auto& r : retired_) {
        if (r.get() != t) continue;
        boost::asio::post(io_, [this, t] {
            std::erase_if(retired_, [t](const std::unique_ptr<Template>& p) { return p.get() == t; });
        });
        return;
    }
    auto it = apps_.find(key);
    if (it == apps_.end() || it->second.current.get() != t) return;
    App& app = it->second;
    const auto now = base::Clock::now();
    if (now - t->started >= kZygoteStableAfter) app.failures = 0;
    const auto backoff = std::min<std::chrono::milliseconds>(kZygoteMaxBackoff,
                                                             kZygoteFirstBackoff * (1u << std::min(app.failures, 8u)));
    app.failures++;
    app.retry_at = now + backoff;
    base::logWarn("proc", "template " + key + " pid=" + std::to_string(t->process.pid()) + " " + status.describe() +
                              (t->state == State::Starting ? " before it was ready" : "") + "; restarting it in " +
                              describeBackoff(backoff) + ", workers are exec'd meanwhile");
    if (t->waiter) t->waiter->cancel();
    // We are inside its watcher's callback: destroy it later.
    retired_.push_back(std::move(app.current));
    boost::asio::post(
        io_, [this, t] { std::erase_if(retired_, [t](const std::unique_ptr<Template>& p) { return p.get() == t; }); });
}

std::optional<proc::Process> Zygotes::fork(const std::string& key, const LaunchPlan& plan,
                                           const shm::ChannelFds& channel, int stdout_fd, int stderr_fd, int park) {
    App& app = apps_[key];
    auto identity = templateIdentity(plan);
    const auto so = soStamp(plan);
    if (!app.refused_identity.empty()) {
        if (app.refused_identity == identity && (app.refused_stamp == so.text || !so.settled)) return std::nullopt;
        app.refused_identity.clear();  // the app changed: try again
    }
    if (app.current && app.current->identity != identity) retire(app, "the app's launch settings changed");
    // A replaced .so: a new template once the file is complete (until then the old one serves).
    if (app.current && app.current->so_stamp != so.text && so.settled) retire(app, "its .so changed");
    if (!app.current) {
        if (base::Clock::now() < app.retry_at || !so.settled) return std::nullopt;
        start(app, key, plan, std::move(identity), so.text);
        return std::nullopt;  // this worker is exec'd; later ones fork once Hello arrives
    }
    Template& t = *app.current;
    if (t.state != State::Ready) return std::nullopt;

    proto::ZygoteMessage m;
    m.kind = proto::ZygoteKind::Fork;
    m.seq = ++t.seq;
    m.log = logLevelOf(plan);
    std::vector<int> fds = {channel.segment, channel.to_worker_data, channel.to_worker_space,
                            channel.to_supervisor_data, channel.to_supervisor_space};
    if (stdout_fd >= 0 || stderr_fd >= 0) fds.push_back(stdout_fd >= 0 ? stdout_fd : 1);
    if (stderr_fd >= 0) fds.push_back(stderr_fd);
    m.fds = static_cast<std::uint8_t>(fds.size());
    park = std::min(park, proto::kZygoteMaxParked);
    if (park > 0) {
        if (auto parked = startParked(t, m, fds)) {
            replenish(t, park);
            return parked;
        }
    }
    const auto packet = proto::encodeZygote(m);
    auto fail = [&](const std::string& why) -> std::optional<proc::Process> {
        base::logWarn("proc", "template " + key + ": " + why + "; this worker is exec'd");
        retire(app, why);
        app.retry_at = base::Clock::now() + kZygoteFirstBackoff;
        return std::nullopt;
    };
    if (auto sent = proc::sendPacket(t.control.get(), proto::bytesOf(packet), fds, kZygoteForkTimeout); !sent)
        return fail("Fork: " + sent.error().message);
    // Parked notes of an earlier Park may come first.
    std::optional<proto::ZygoteMessage> r;
    for (int i = 0; i <= 2 * proto::kZygoteMaxParked; ++i) {
        auto reply = proc::recvPacket(t.control.get(), proto::kMaxZygotePacket, kZygoteForkTimeout);
        if (!reply) return fail("Forked: " + reply.error().message);
        if (reply->eof) return fail("the template closed its channel");
        r = proto::decodeZygote(reply->bytes);
        if (!r || r->kind != proto::ZygoteKind::Parked) break;
        onParked(t, *r, std::move(reply->fds));
        r.reset();
    }
    if (!r || r->kind != proto::ZygoteKind::Forked || r->seq != m.seq) return fail("unexpected answer to Fork");
    if (r->value <= 0) {
        base::logWarn("proc", "template " + key + " could not fork: " + r->text + "; this worker is exec'd");
        return std::nullopt;
    }
    auto process = proc::Process::adopt(r->value);
    if (!process) {
        ::kill(r->value, SIGKILL);  // our child (CLONE_PARENT): the pid is not reused before we reap it
        ::waitpid(r->value, nullptr, 0);
        return fail("forked pid " + std::to_string(r->value) + ": " + process.error().message);
    }
    if (park > 0) replenish(t, park);  // after the Fork: its worker does not wait for them
    return std::move(process.value());
}

}  // namespace buntime::supervisor

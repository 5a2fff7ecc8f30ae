// SPDX-License-Identifier: MIT
// The worker process from argv to serving: channel, parent watch, title, app load, init.
#include "buntime/worker/host.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <vector>

#include "buntime/base/process_title.h"
#include "buntime/proto/control.h"
#include "buntime/proto/launch.h"
#include "buntime/proto/messages.h"
#include "buntime/proto/stream.h"
#include "buntime/proto/zygote.h"
#include "buntime/shm/channel.h"
#include "buntime/worker/entrypoint.h"
#include "buntime/worker/server.h"
#include "buntime/worker/static_site.h"
#include "command_app.h"
#include "log.h"
#include "zygote.h"

extern char** environ;

namespace buntime::worker {
namespace {

using namespace std::chrono_literals;

std::optional<shm::Channel> openChannel() {
    const char* text = std::getenv(proto::kChannelEnv);
    if (!text) {
        BUNTIME_LOG(Error, "env %s is not set: buntime-worker is started by the supervisor", proto::kChannelEnv);
        return std::nullopt;
    }
    auto fds = shm::ChannelFds::parse(text);
    if (!fds) {
        BUNTIME_LOG(Error, "env %s='%s' is malformed", proto::kChannelEnv, text);
        return std::nullopt;
    }
    auto channel = shm::Channel::open(*fds);
    if (!channel) {
        auto e = shm::toString(channel.error());
        BUNTIME_LOG(Error, "cannot open the channel: %.*s", int(e.size()), e.data());
        return std::nullopt;
    }
    return std::move(channel).value();
}

[[noreturn]] void leave(int code) {
    std::fflush(stdout);
    std::fflush(stderr);
    ::_exit(code);
}

// Reports an init failure to the supervisor (opening the channel if needed) and exits.
[[noreturn]] void failInit(std::optional<shm::Channel>& channel, const std::string& reason, int code) {
    BUNTIME_LOG(Error, "init failed: %s; exiting (status %d)", reason.c_str(), code);
    if (!channel) channel = openChannel();
    if (channel)
        proto::sendMessage(*channel, proto::Kind::InitFailed, 0, proto::bytesOf(proto::encodeReason(reason)), {}, 5s);
    leave(code);
}

struct LoadedApp {
    const buntime_app_v1* table = nullptr;
    void* ctx = nullptr;
    std::unique_ptr<StaticSite> site;     // Static kind only
    std::unique_ptr<CommandApp> command;  // Command kind only
};

// BUNTIME_COMMAND_START_TIMEOUT_MS (from the manifest's env): how long a command app may
// take to accept connections; 10 s by default.
std::chrono::milliseconds commandStartTimeout() {
    const char* text = std::getenv("BUNTIME_COMMAND_START_TIMEOUT_MS");
    if (text && *text) {
        char* end = nullptr;
        const long long ms = std::strtoll(text, &end, 10);
        if (end && *end == '\0' && ms > 0) return std::chrono::milliseconds(ms);
        BUNTIME_LOG(Warn, "BUNTIME_COMMAND_START_TIMEOUT_MS='%s' is not a number of ms; using 10000", text);
    }
    return 10s;
}

// Starts a command app's program (before the title changes: the keeper keeps the argv).
std::string spawnCommand(const proto::WorkerLaunch& cfg, const std::string& app_dir, LoadedApp& out) {
    CommandSpec spec{cfg.command, app_dir, cfg.listen, detail::log_category, {}};
    for (char** e = environ; *e; ++e) spec.env.emplace_back(*e);
    auto spawned = CommandProcess::spawn(spec);
    if (!spawned) return spawned.error();
    out.command = std::make_unique<CommandApp>(std::move(spawned).value(), cfg.concurrency);
    out.table = CommandApp::appTable();
    out.ctx = out.command.get();
    return {};
}

std::string startCommand(LoadedApp& app) {
    if (auto err = app.command->process().waitListening(commandStartTimeout()); !err.empty()) return err;
    app.command->process().onUnexpectedExit([](const std::string& how) {
        BUNTIME_LOG(Error, "the app %s; exiting (status %d)", how.c_str(), kExitAppExited);
        leave(kExitAppExited);
    });
    return {};
}

// A private copy of the .so in a memfd, so that overwriting the file in the app directory
// (`cp new.so app.so` rewrites the same inode) never changes pages this process runs.
// -1 (errno set) when the copy cannot be made.
int privateCopy(const std::string& path) {
    const int in = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) return -1;
    struct stat st {};
    const int out = ::fstat(in, &st) == 0 ? ::memfd_create("buntime-app.so", MFD_CLOEXEC) : -1;
    if (out < 0) {
        const int err = errno;
        ::close(in);
        errno = err;
        return -1;
    }
    off_t offset = 0;
    while (offset < st.st_size) {
        const ssize_t n = ::sendfile(out, in, &offset, static_cast<std::size_t>(st.st_size - offset));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int err = n < 0 ? errno : EIO;
            ::close(in);
            ::close(out);
            errno = err;
            return -1;
        }
    }
    ::close(in);
    return out;
}

std::string loadSharedObject(const Entrypoint& entry, LoadedApp& out) {
    void* handle = nullptr;
    if (const int copy = privateCopy(entry.path); copy >= 0) {
        const std::string via = "/proc/self/fd/" + std::to_string(copy);
        handle = ::dlopen(via.c_str(), RTLD_NOW | RTLD_LOCAL);
        ::close(copy);  // the mappings keep the memfd alive
        if (!handle) {
            // E.g. a dependency found through $ORIGIN, which now names /proc/self/fd.
            const char* err = ::dlerror();
            BUNTIME_LOG(Warn, "dlopen of a private copy of %s failed (%s); loading the file itself", entry.path.c_str(),
                        err ? err : "unknown error");
        }
    } else {
        BUNTIME_LOG(Warn, "cannot copy %s into a memfd (%s); loading the file itself", entry.path.c_str(),
                    std::strerror(errno));
    }
    if (!handle) handle = ::dlopen(entry.path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char* err = ::dlerror();
        return "dlopen " + entry.path + " failed: " + (err ? err : "unknown error");
    }
    ::dlerror();
    void* sym = ::dlsym(handle, "buntime_app");
    if (!sym) {
        const char* err = ::dlerror();
        return entry.path + " does not export buntime_app: " + (err ? err : "symbol missing");
    }
    const buntime_app_v1* table = nullptr;
    try {
        table = reinterpret_cast<buntime_app_fn>(sym)();
    } catch (...) {
        return "buntime_app() in " + entry.path + " threw";
    }
    if (!table) return "buntime_app() in " + entry.path + " returned NULL";
    out.table = table;
    return {};
}

std::string checkTable(const buntime_app_v1* table) {
    if (table->abi_version != BUNTIME_APP_ABI_VERSION)
        return "app ABI version " + std::to_string(table->abi_version) +
               " is not supported (host: " + std::to_string(BUNTIME_APP_ABI_VERSION) + ")";
    if (table->style != BUNTIME_STYLE_BLOCKING && table->style != BUNTIME_STYLE_ASYNC)
        return "app style " + std::to_string(table->style) + " is unknown";
    if (!table->handle) return "app has no handle function";
    if (!table->init) return "app has no init function";
    return {};
}

std::string runInit(const buntime_app_v1* table, const proto::WorkerLaunch& cfg, const std::string& app_dir,
                    void** ctx) {
    buntime_app_info info{{cfg.name.data(), cfg.name.size()},
                          {cfg.version.data(), cfg.version.size()},
                          {app_dir.data(), app_dir.size()},
                          cfg.threads,
                          cfg.concurrency};
    char reason[1024] = "";
    int rc = 0;
    try {
        rc = table->init(Server::hostTable(), &info, ctx, reason, sizeof reason);
    } catch (const std::exception& e) {
        return std::string("init threw: ") + e.what();
    } catch (...) {
        return "init threw an unknown exception";
    }
    if (rc != 0) {
        reason[sizeof reason - 1] = '\0';
        return reason[0] ? std::string(reason) : "init failed (code " + std::to_string(rc) + ")";
    }
    return {};
}

// Ready, then requests until Terminate or the supervisor's exit; the exit status.
int serveLoaded(shm::Channel& channel, const proto::WorkerLaunch& cfg, LoadedApp& app, proto::EntrypointKind kind) {
    const std::string kind_name(proto::toString(kind));
    const auto ready = proto::encode(proto::ReadyInfo{kind_name, cfg.threads, cfg.concurrency});
    if (auto e = proto::sendMessage(channel, proto::Kind::Ready, 0, ready, {}, 10s); e != shm::Error::Ok) {
        auto text = shm::toString(e);
        BUNTIME_LOG(Error, "cannot send Ready: %.*s", int(text.size()), text.data());
        leave(kExitChannel);
    }
    BUNTIME_LOG(Info, "ready (%s, %s, threads %u, concurrency %u)", kind_name.c_str(),
                app.table->style == BUNTIME_STYLE_ASYNC ? "async" : "blocking", cfg.threads, cfg.concurrency);

    // A command app relays without handler threads (command_app.h): cfg.threads suffices.
    ServerOptions options{cfg.threads, cfg.concurrency, cfg.max_body};
    auto* server = new Server(channel, options, app.table, app.ctx);  // lives until _exit
    return server->run();
}

}  // namespace

int serve(int argc, char** argv, const buntime_app_v1* builtin) {
    const bool level_ok = base::setLogLevelFromEnv();
    const pid_t parent = ::getppid();
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (::getppid() != parent) leave(kExitOk);  // the parent died before the signal was armed

    std::optional<shm::Channel> channel;
    auto parsed = proto::parseArgv(argc, argv);
    if (!parsed) failInit(channel, parsed.error() + "\n" + proto::usage(), kExitUsage);
    const proto::WorkerLaunch cfg = std::move(parsed).value();
    detail::log_category = cfg.name + "@" + cfg.version;
    if (!level_ok)
        BUNTIME_LOG(Warn, "RUNTIME_LOG_LEVEL='%s' is not a level; using info", std::getenv("RUNTIME_LOG_LEVEL"));

    std::string app_dir = cfg.app_dir;
    std::optional<Entrypoint> entry;
    const bool command = !builtin && !cfg.command.empty();
    if (command) {
        char real[4096];
        if (!::realpath(cfg.app_dir.c_str(), real))
            failInit(channel, "app directory '" + cfg.app_dir + "' not found", kExitInitFailed);
        app_dir = real;
    } else if (!builtin) {
        auto resolved = resolveEntrypoint(cfg.app_dir, cfg.entrypoint);
        if (!resolved) failInit(channel, resolved.error(), kExitInitFailed);
        entry = std::move(resolved).value();
        app_dir = entry->app_dir;
        if (entry->kind == proto::EntrypointKind::Executable) {
            // Same pid, same env (BUNTIME_CHANNEL) and the inherited channel fds; the
            // executable's main calls buntime_serve() with these arguments.
            std::vector<char*> args(argv, argv + argc);
            args[0] = entry->path.data();
            args.push_back(nullptr);
            BUNTIME_LOG(Debug, "exec %s", entry->path.c_str());
            ::execve(entry->path.c_str(), args.data(), environ);
            failInit(channel, "exec " + entry->path + " failed: " + std::strerror(errno), kExitInitFailed);
        }
    } else {
        char real[4096];
        if (::realpath(cfg.app_dir.c_str(), real)) app_dir = real;
    }

    // Template mode (proto/zygote.h): load and initialise once, then fork workers.
    if (const int control = builtin ? -1 : zygoteControlFd(); control != -1) {
        if (control < 0) {
            BUNTIME_LOG(Error, "env %s='%s' is malformed", proto::kZygoteEnv, std::getenv(proto::kZygoteEnv));
            leave(kExitUsage);
        }
        if (command || entry->kind != proto::EntrypointKind::SharedObject)
            refuseTemplate(control, "only .so apps are forked from a template");
        LoadedApp app;
        if (auto err = loadSharedObject(*entry, app); !err.empty()) refuseTemplate(control, err);
        if (auto err = checkTable(app.table); !err.empty()) refuseTemplate(control, err);
        if (auto err = runInit(app.table, cfg, app_dir, &app.ctx); !err.empty()) refuseTemplate(control, err);
        base::setProcessTitle(argc, argv, "buntime: template " + detail::log_category);
        const ForkedChild child = runTemplate(control, [&](const char* role) {
            base::setProcessTitle(argc, argv, std::string("buntime: ") + role + " " + detail::log_category);
        });  // returns in a forked child only
        auto opened = shm::Channel::open(child.channel);
        if (!opened) {
            auto e = shm::toString(opened.error());
            BUNTIME_LOG(Error, "cannot open the channel: %.*s", int(e.size()), e.data());
            leave(kExitChannel);
        }
        channel = std::move(opened).value();
        if (auto e = channel->watchParent(); e != shm::Error::Ok) {
            auto text = shm::toString(e);
            BUNTIME_LOG(Warn, "cannot watch the supervisor: %.*s", int(text.size()), text.data());
        }
        base::setProcessTitle(argc, argv, "buntime: worker " + detail::log_category);
        leave(serveLoaded(*channel, cfg, app, proto::EntrypointKind::SharedObject));
    }

    channel = openChannel();
    if (!channel) leave(kExitChannel);
    if (auto e = channel->watchParent(); e != shm::Error::Ok) {
        auto text = shm::toString(e);
        BUNTIME_LOG(Warn, "cannot watch the supervisor: %.*s", int(text.size()), text.data());
    }
    LoadedApp app;
    if (command) {
        if (auto err = spawnCommand(cfg, app_dir, app); !err.empty()) failInit(channel, err, kExitInitFailed);
    }
    base::setProcessTitle(argc, argv, "buntime: worker " + detail::log_category);

    const auto kind = command   ? proto::EntrypointKind::Command
                      : builtin ? proto::EntrypointKind::Executable
                                : entry->kind;
    if (builtin) {
        app.table = builtin;
    } else if (command) {
        if (auto err = startCommand(app); !err.empty()) failInit(channel, err, kExitInitFailed);
    } else if (entry->kind == proto::EntrypointKind::SharedObject) {
        if (auto err = loadSharedObject(*entry, app); !err.empty()) failInit(channel, err, kExitInitFailed);
    } else {
        app.site = std::make_unique<StaticSite>(entry->static_root, entry->index_name, cfg.inject_base);
        app.table = StaticSite::appTable();
        app.ctx = app.site.get();
        app::detail::host = Server::hostTable();
    }
    if (auto err = checkTable(app.table); !err.empty()) failInit(channel, err, kExitInitFailed);
    if (!app.site && !app.command) {
        if (auto err = runInit(app.table, cfg, app_dir, &app.ctx); !err.empty())
            failInit(channel, err, kExitInitFailed);
    }

    leave(serveLoaded(*channel, cfg, app, kind));
}

}  // namespace buntime::worker

extern "C" int buntime_serve(int argc, char** argv, const buntime_app_v1* app) {
    return buntime::worker::serve(argc, argv, app);
}

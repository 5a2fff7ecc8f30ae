// SPDX-License-Identifier: MIT
// buntimectl's entry point as a library call: parse, talk to the supervisor, render, exit code.
#include "buntime/ctl/cli.h"

#include "build_info.h"
#include "buntime/ctl/client.h"
#include "buntime/ctl/logs.h"
#include "buntime/ctl/pack.h"
#include "buntime/ctl/render.h"

#include "buntime/admin/schema.h"

#include <nlohmann/json.hpp>

#include <sys/ioctl.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <thread>

namespace buntime::ctl {

using nlohmann::json;

namespace {

constexpr std::size_t defaultWidth = 100;

// One admin call whose failure has already been reported; holds the exit code to use.
struct Fetched {
    std::optional<json> value;
    int exitCode = exitOk;
};

void reportUnreachable(const Client& client, const Reply& reply, std::ostream& err) {
    err << "buntimectl: cannot reach " << client.endpoint().display() << " (" << reply.detail << ")\n";
}

// Prints the supervisor's {"error": CODE, "message": TEXT} (or the raw body) as one line.
void reportHttpError(const Reply& reply, std::string_view path, std::ostream& err) {
    const auto body = json::parse(reply.body, nullptr, false).get<admin::ErrorReply>();  // lenient
    std::string message = body.message;
    const std::string& code = body.error;
    if (message.empty() && code.empty()) {
        message = reply.body.substr(0, reply.body.find('\n'));
        if (message.size() > 200) {
            message = message.substr(0, 200) + "...";
        }
    }
    err << "buntimectl: " << (message.empty() ? code : message) << " (";
    if (!code.empty() && !message.empty()) {
        err << code << ", ";
    }
    err << "HTTP " << reply.status << " from " << path << ")\n";
    if (reply.status == 401 || reply.status == 403) {
        err << "buntimectl: pass --token or set RUNTIME_ADMIN_TOKEN\n";
    }
}

int codeFor(const Reply& reply) {
    return reply.outcome == Reply::Outcome::Unreachable ? exitUnreachable : exitServerError;
}

// GET or POST `path`, parse JSON; failures are reported on err.
Fetched fetch(const Client& client, bool post, std::string_view path, std::ostream& err, std::string* raw = nullptr) {
    const Reply reply = post ? client.post(path) : client.get(path);
    if (reply.outcome == Reply::Outcome::Unreachable) {
        reportUnreachable(client, reply, err);
        return {std::nullopt, exitUnreachable};
    }
    if (reply.outcome == Reply::Outcome::HttpError) {
        reportHttpError(reply, path, err);
        return {std::nullopt, codeFor(reply)};
    }
    json value = json::parse(reply.body, nullptr, false);
    if (value.is_discarded()) {
        err << "buntimectl: " << client.endpoint().display() << path
            << " did not answer JSON (is this a buntime supervisor?)\n";
        return {std::nullopt, exitServerError};
    }
    if (raw != nullptr) {
        *raw = reply.body;
    }
    return {std::move(value), exitOk};
}

// The typed view of an answer, or nullopt after saying on err why it does not fit the admin
// API (a supervisor of another version, or not a supervisor).
template <typename View>
std::optional<View> typed(const Client& client, std::string_view path, const json& value, std::ostream& err) {
    auto view = admin::parse<View>(value);
    if (!view) {
        err << "buntimectl: " << client.endpoint().display() << path
            << " answered JSON that does not fit the admin API (" << view.error() << ")\n";
        return std::nullopt;
    }
    return std::move(view.value());
}

// --json output: the supervisor's body, guaranteed to end in a newline.
void printRaw(std::ostream& out, std::string body) {
    if (body.empty() || body.back() != '\n') {
        body += '\n';
    }
    out << body;
}

std::string clockNow() {
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char text[16];
    std::strftime(text, sizeof text, "%H:%M:%S", &local);
    return text;
}

bool stopped(const std::atomic<bool>* stop) { return stop != nullptr && stop->load(std::memory_order_relaxed); }

int status(const Client& client, const Options& options, std::size_t width, std::ostream& out, std::ostream& err) {
    Fetched health = fetch(client, false, "/_/api/health", err);
    if (!health.value) {
        return health.exitCode;
    }
    // Readiness answers 503 with a body when not ready: that is information, not an error.
    json ready;
    const Reply readyReply = client.get("/_/api/health/ready");
    if (readyReply.outcome != Reply::Outcome::Unreachable) {
        ready = json::parse(readyReply.body, nullptr, false);
        if (ready.is_discarded()) {
            ready = nullptr;
        }
    }
    Fetched metrics = fetch(client, false, "/_/api/metrics", err);
    if (!metrics.value) {
        return metrics.exitCode;
    }
    if (options.json) {
        out << json{{"health", *health.value}, {"ready", ready}, {"metrics", *metrics.value}}.dump(
                   -1, ' ', false, json::error_handler_t::replace)
            << '\n';
        return exitOk;
    }
    const auto healthView = typed<admin::HealthView>(client, "/_/api/health", *health.value, err);
    const auto metricsView = typed<admin::MetricsView>(client, "/_/api/metrics", *metrics.value, err);
    if (!healthView || !metricsView) {
        return exitServerError;
    }
    std::optional<admin::ReadyView> readyView;
    if (auto parsed = admin::parse<admin::ReadyView>(ready)) {
        readyView = parsed.value();
    }
    out << renderStatus(*healthView, readyView, *metricsView, width);
    return exitOk;
}

// GET (or POST) one resource and print it: raw with --json, else what `text` writes for
// the parsed value (text returns the exit code).
template <typename Text>
int fetchAndPrint(const Client& client, bool post, std::string_view path, const Options& options, std::ostream& out,
                  std::ostream& err, Text text) {
    std::string raw;
    Fetched fetched = fetch(client, post, path, err, &raw);
    if (!fetched.value) {
        return fetched.exitCode;
    }
    if (options.json && options.command == Command::Workers && !options.app.empty()) {
        // --app filters the JSON too, so scripts see what the table would show.
        const auto reply = typed<admin::WorkersReply>(client, path, *fetched.value, err);
        if (!reply) {
            return exitServerError;
        }
        admin::WorkersReply kept;
        for (const auto& worker : reply->workers)
            if (worker.name == options.app) kept.workers.push_back(worker);
        const json filtered = kept;
        out << filtered.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
        return exitOk;
    }
    if (options.json) {
        printRaw(out, raw);
        return exitOk;
    }
    return text(*fetched.value);
}

// GET one resource and print it raw or rendered from its typed view.
template <typename View, typename Render>
int show(const Client& client, std::string_view path, const Options& options, std::ostream& out, std::ostream& err,
         Render render) {
    return fetchAndPrint(client, false, path, options, out, err, [&](const json& value) {
        const auto view = typed<View>(client, path, value, err);
        if (!view) {
            return static_cast<int>(exitServerError);
        }
        out << render(*view);
        return static_cast<int>(exitOk);
    });
}

int watch(const Client& client, const Options& options, std::size_t width, std::ostream& out, std::ostream& err,
          const std::atomic<bool>* stop) {
    const auto period = std::chrono::duration<double>(*options.watch_seconds);
    unsigned done = 0;
    bool everAnswered = false;
    while (!stopped(stop)) {
        const Reply reply = client.get("/_/api/metrics");
        if (stopped(stop)) {
            break;  // interrupted mid-request: not an error
        }
        const json metrics =
            reply.outcome == Reply::Outcome::Ok ? json::parse(reply.body, nullptr, false) : json(nullptr);
        const bool isJson = reply.outcome == Reply::Outcome::Ok && !metrics.is_discarded();
        // The table needs the typed view; --json prints whatever JSON came.
        std::optional<admin::MetricsView> view;
        std::string misfit;
        if (isJson && !options.json) {
            auto parsed = admin::parse<admin::MetricsView>(metrics);
            if (parsed) {
                view = std::move(parsed.value());
            } else {
                misfit = parsed.error();
            }
        }
        if (isJson && (options.json || view)) {
            if (options.json) {
                out << metrics.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
            } else {
                if (done % 20 == 0) {
                    out << watchHeader(width);
                }
                out << watchLine(*view, clockNow(), width);
            }
            out.flush();
            everAnswered = true;
        } else if (!everAnswered) {
            // The first refresh decides whether the address is right at all.
            if (reply.outcome == Reply::Outcome::Unreachable) {
                reportUnreachable(client, reply, err);
            } else if (reply.outcome == Reply::Outcome::HttpError) {
                reportHttpError(reply, "/_/api/metrics", err);
            } else if (!misfit.empty()) {
                err << "buntimectl: /_/api/metrics answered JSON that does not fit the admin API (" << misfit << ")\n";
                return exitServerError;
            } else {
                err << "buntimectl: /_/api/metrics did not answer JSON\n";
            }
            return codeFor(reply);
        } else if (reply.outcome == Reply::Outcome::Unreachable) {
            err << "buntimectl: " << clockNow() << " cannot reach " << client.endpoint().display() << " ("
                << reply.detail << "), retrying\n";
        } else if (!misfit.empty()) {
            err << "buntimectl: " << clockNow() << " metrics did not fit the admin API (" << misfit << "), retrying\n";
        } else {
            err << "buntimectl: " << clockNow() << " metrics failed (HTTP " << reply.status << "), retrying\n";
        }
        ++done;
        if (options.count && done >= *options.count) {
            break;
        }
        const auto deadline =
            std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(period);
        while (!stopped(stop) && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
    return exitOk;
}

int mutate(const Client& client, std::string_view path, const Options& options, std::ostream& out, std::ostream& err,
           std::string_view done) {
    return fetchAndPrint(client, true, path, options, out, err, [&](const json&) {
        out << done << '\n';
        return static_cast<int>(exitOk);
    });
}

// One deploy-API call with a body; prints `done(value)` or the error.
template <typename View, typename Done>
int deployCall(const Client& client, std::string_view method, const std::string& path, std::string body,
               std::string_view content_type, const Options& options, std::ostream& out, std::ostream& err, Done done) {
    const auto timeout = std::max(std::chrono::milliseconds(static_cast<long long>(options.timeout_seconds * 1000)),
                                  std::chrono::milliseconds(120'000));
    const Reply reply = client.send(method, path, std::move(body), content_type, timeout);
    if (reply.outcome == Reply::Outcome::Unreachable) {
        reportUnreachable(client, reply, err);
        return exitUnreachable;
    }
    if (reply.outcome == Reply::Outcome::HttpError) {
        reportHttpError(reply, path, err);
        return exitServerError;
    }
    if (options.json) {
        printRaw(out, reply.body);
        return exitOk;
    }
    const json value = json::parse(reply.body, nullptr, false);
    const auto view = typed<View>(client, path, value, err);
    if (!view) {
        return exitServerError;
    }
    out << done(*view) << '\n';
    return exitOk;
}

int deployApp(const Client& client, const Options& options, std::ostream& out, std::ostream& err) {
    std::string error;
    auto upload = prepareUpload(options.deploy_path, error);
    if (!upload) {
        err << "buntimectl: " << error << '\n';
        return exitUsage;
    }
    const std::string path = std::string("/_/api/apps") + (options.replace ? "?replace=1" : "");
    return deployCall<admin::DeployedReply>(client, "POST", path, std::move(upload->bytes), upload->content_type,
                                            options, out, err, [](const admin::DeployedReply& r) {
                                                return (r.replaced ? "replaced " : "deployed ") + r.name + "@" +
                                                       r.version + " in " + r.dir;
                                            });
}

int removeApp(const Client& client, const Options& options, std::ostream& out, std::ostream& err) {
    std::string path = "/_/api/apps/" + encodePathSegment(options.remove_name);
    if (!options.remove_version.empty()) path += "/" + encodePathSegment(options.remove_version);
    if (options.force) path += "?force=1";
    return deployCall<admin::RemovedReply>(client, "DELETE", path, {}, {}, options, out, err,
                                           [](const admin::RemovedReply& r) {
                                               std::string text = "removed " + r.name;
                                               std::string sep = " (";
                                               for (const auto& v : r.versions) {
                                                   text += sep + v;
                                                   sep = ", ";
                                               }
                                               if (!r.versions.empty()) text += ")";
                                               if (r.killed)
                                                   text += "; " + std::to_string(r.killed) + " worker(s) stopped";
                                               if (r.draining)
                                                   text += "; " + std::to_string(r.draining) + " worker(s) draining";
                                               return text;
                                           });
}

}  // namespace

std::size_t outputWidth(const Options& options, const Environment& env) {
    if (options.width) {
        return *options.width;
    }
    if (env.terminal_columns > 0) {
        return static_cast<std::size_t>(env.terminal_columns);
    }
    std::size_t columns = 0;
    const char* end = env.columns.data() + env.columns.size();
    const auto [ptr, ec] = std::from_chars(env.columns.data(), end, columns);
    if (ec == std::errc{} && ptr == end && columns >= 20) {
        return columns;
    }
    return defaultWidth;
}

Environment environmentFromProcess(int fd) {
    Environment env;
    auto get = [](const char* name) {
        const char* value = std::getenv(name);
        return value != nullptr ? std::string(value) : std::string();
    };
    env.port = get("PORT");
    env.token = get("RUNTIME_ADMIN_TOKEN");
    env.columns = get("COLUMNS");
    winsize size{};
    if (::isatty(fd) && ::ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
        env.terminal_columns = size.ws_col;
    }
    return env;
}

int run(std::span<const std::string> args, const Environment& env, std::ostream& out, std::ostream& err,
        const std::atomic<bool>* stop) {
    auto parsed = parseArgs(args, env);
    if (const auto* usage = std::get_if<UsageError>(&parsed)) {
        err << "buntimectl: " << usage->message << '\n';
        err << "Try 'buntimectl " << commandName(usage->command) << (usage->command == Command::None ? "" : " ")
            << "--help'.\n";
        return exitUsage;
    }
    const Options& options = std::get<Options>(parsed);
    if (options.help) {
        out << helpText(options.command);
        return exitOk;
    }
    if (options.version) {
        out << "buntimectl " << BUNTIME_VERSION << '\n';
        return exitOk;
    }

    Endpoint endpoint;
    if (!options.socket.empty()) {
        endpoint = unixEndpoint(options.socket);
    } else {
        const std::string url =
            options.url.empty() ? "http://127.0.0.1:" + (env.port.empty() ? "8000" : env.port) : options.url;
        std::string error;
        auto parsedEndpoint = parseEndpoint(url, error);
        if (!parsedEndpoint) {
            err << "buntimectl: bad " << (options.url.empty() ? "PORT" : "--url") << " '"
                << (options.url.empty() ? env.port : options.url) << "': " << error << '\n';
            return exitUsage;
        }
        endpoint = std::move(*parsedEndpoint);
    }
    const Client client(std::move(endpoint), options.token,
                        std::chrono::milliseconds(static_cast<long long>(options.timeout_seconds * 1000)));
    const std::size_t width = outputWidth(options, env);

    switch (options.command) {
    case Command::Status: return status(client, options, width, out, err);
    case Command::Workers:
        return show<admin::WorkersReply>(client, "/_/api/workers", options, out, err,
                                         [&](const admin::WorkersReply& reply) {
                                             return renderWorkers(reply.workers, options.sort, options.app, width);
                                         });
    case Command::Apps:
        return show<admin::AppsReply>(client, "/_/api/apps", options, out, err,
                                      [&](const admin::AppsReply& reply) { return renderApps(reply.apps, width); });
    case Command::Metrics:
        if (options.watch_seconds) {
            return watch(client, options, width, out, err, stop);
        }
        return show<admin::MetricsView>(
            client, "/_/api/metrics", options, out, err,
            [&](const admin::MetricsView& metrics) { return renderMetrics(metrics, width); });
    case Command::Retire:
        return mutate(client, "/_/api/workers/" + encodePathSegment(options.key) + "/retire", options, out, err,
                      "retired " + options.key);
    case Command::Logs: return logsCommand(client, options, out, err, stop);
    case Command::Reload:
        if (!options.reload_app.empty()) {
            return deployCall<admin::AppReloadedReply>(
                client, "POST", "/_/api/apps/" + encodePathSegment(options.reload_app) + "/reload", {},
                "application/json", options, out, err, [](const admin::AppReloadedReply& r) {
                    return "reloaded " + r.name + ": " + std::to_string(r.recycled) + " worker(s) recycled";
                });
        }
        return mutate(client, "/_/api/reload", options, out, err, "reloaded");
    case Command::Deploy: return deployApp(client, options, out, err);
    case Command::Remove: return removeApp(client, options, out, err);
    case Command::None: break;
    }
    return exitUsage;
}

}  // namespace buntime::ctl

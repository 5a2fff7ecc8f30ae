// SPDX-License-Identifier: MIT
// Command-line parsing and help text of buntimectl.
#include "buntime/ctl/options.h"

#include "build_info.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <vector>

namespace buntime::ctl {

namespace {

constexpr std::array<std::string_view, 12> sortKeys = {"key", "pid",  "status", "requests", "errors", "avg",
                                                       "age", "idle", "rss",    "inflight", "ring",   "hwm"};

constexpr std::string_view globalFlags = R"(Global options (accepted before or after the command):
  --url URL        supervisor address, http://HOST:PORT
                   (default http://127.0.0.1:$PORT, PORT defaults to 8000)
  --socket PATH    talk to the admin unix socket (RUNTIME_ADMIN_SOCKET) instead of --url
  --token TOKEN    admin bearer token (default $RUNTIME_ADMIN_TOKEN); sent as
                   "Authorization: Bearer TOKEN", required by retire and reload when the
                   supervisor has one
  --timeout SECS   connect/read timeout per request (default 5)
  --json           print the supervisor's raw JSON instead of tables (for scripts)
  --width N        table width (default: terminal width, else $COLUMNS, else 100)
  -h, --help       show help (buntimectl COMMAND --help for one command)
  --version        print the buntimectl version
)";

constexpr std::string_view exitCodes = R"(Exit codes:
  0  success
  1  the supervisor answered with an error (its message is printed)
  2  usage error
  3  the supervisor could not be reached (the address tried is printed)
)";

std::string overview() {
    std::string text = R"(Usage: buntimectl [OPTIONS] COMMAND [ARGS]

Inspect and steer a running buntime supervisor through its admin API (/_/api).

Commands:
  status           version, uptime, pid, listen address, pool fill, hit rate, req/s,
                   ephemeral concurrency and queue, supervisor RSS
  workers          one row per worker: requests, errors, latency, age, RSS, rings
  apps             resolvable apps, versions, entrypoint kind, effective config and
                   manifest errors
  metrics          the metrics; --watch N refreshes a compact line every N seconds
  retire KEY       retire the worker KEY (name@version); a new one starts on demand
  reload           re-read app directories and manifests (like systemctl reload)
  logs NAME        the app's recent stdout/stderr lines; -f follows new ones
  reload [NAME]    re-read app directories and manifests (like systemctl reload);
                   with NAME, recycle only that app's workers
  deploy DIR|ARCHIVE  upload an app (a directory is packed as .tar.gz; or a .tar.gz,
                   .tgz or .zip) into the supervisor's first writable worker directory
  remove NAME[@VERSION]  remove an app or one version; its workers drain first

Command options (details in buntimectl COMMAND --help):
  workers --sort COLUMN   order by key pid status requests errors avg age idle rss
                          inflight ring hwm
  workers --app NAME      only the workers of app NAME
  metrics --watch SECS    one compact line every SECS seconds until Ctrl-C (exit 0)
  metrics --count N       with --watch: stop after N refreshes
  logs --tail N           the last N lines (default 200; 10 with -f)
  logs -f, --follow       keep printing new lines until Ctrl-C
  deploy --replace        replace an installed name@version
  remove --force          stop the app's workers at once instead of draining

)";
    text += globalFlags;
    text += '\n';
    text += exitCodes;
    return text;
}

std::optional<double> parseDouble(std::string_view text) {
    double value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || ptr != end || !std::isfinite(value)) {
        return std::nullopt;
    }
    return value;
}

std::optional<unsigned> parseUnsigned(std::string_view text) {
    unsigned value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || ptr != end) {
        return std::nullopt;
    }
    return value;
}

std::optional<Command> commandFromName(std::string_view name) {
    static constexpr std::pair<std::string_view, Command> names[] = {
        {"status", Command::Status},   {"workers", Command::Workers}, {"apps", Command::Apps},
        {"metrics", Command::Metrics}, {"retire", Command::Retire},   {"reload", Command::Reload},
        {"logs", Command::Logs},       {"deploy", Command::Deploy},   {"remove", Command::Remove}};
    for (const auto& [text, command] : names) {
        if (text == name) {
            return command;
        }
    }
    return std::nullopt;
}

// Which command owns a command-specific flag.
std::optional<Command> ownerOf(std::string_view flag) {
    if (flag == "--sort" || flag == "--app") {
        return Command::Workers;
    }
    if (flag == "--watch" || flag == "--count") {
        return Command::Metrics;
    }
    if (flag == "--tail" || flag == "--follow" || flag == "-f") {
        return Command::Logs;
    }
    if (flag == "--replace") {
        return Command::Deploy;
    }
    if (flag == "--force") {
        return Command::Remove;
    }
    return std::nullopt;
}

bool takesValue(std::string_view flag) {
    return flag == "--url" || flag == "--socket" || flag == "--token" || flag == "--timeout" || flag == "--width" ||
           flag == "--sort" || flag == "--app" || flag == "--watch" || flag == "--count" || flag == "--tail";
}

}  // namespace

std::span<const std::string_view> workerSortKeys() { return sortKeys; }

std::string_view commandName(Command command) {
    switch (command) {
    case Command::Status: return "status";
    case Command::Workers: return "workers";
    case Command::Apps: return "apps";
    case Command::Metrics: return "metrics";
    case Command::Retire: return "retire";
    case Command::Reload: return "reload";
    case Command::Logs: return "logs";
    case Command::Deploy: return "deploy";
    case Command::Remove: return "remove";
    case Command::None: break;
    }
    return "";
}

std::string helpText(Command command) {
    std::string text;
    switch (command) {
    case Command::None: return overview();
    case Command::Status:
        text = R"(Usage: buntimectl status [OPTIONS]

Shows version, uptime, pid, listen address, readiness, pool size and fill, cache hit
rate, requests per second, average latency, ephemeral concurrency / queue depth / limits,
worker counters and the supervisor's RSS (GET /_/api/health, /health/ready, /metrics).
With --json prints {"health": ..., "ready": ..., "metrics": ...}.
)";
        break;
    case Command::Workers: {
        text = R"(Usage: buntimectl workers [--sort COLUMN] [--app NAME] [OPTIONS]

One row per worker (GET /_/api/workers): KEY, PID, STATUS, REQS, ERRS, AVG (mean
response time), AGE, IDLE, RSS, INFL (requests in flight), RING (fill of the request /
response rings) and HWM (their high-water marks). Columns are dropped or elided to fit
the terminal. Offline workers show "-" for pid and rings.

  --sort COLUMN    order rows by COLUMN, one of:
                   )";
        for (std::size_t i = 0; i < sortKeys.size(); ++i) {
            text += std::string(sortKeys[i]) + (i + 1 < sortKeys.size() ? " " : "\n");
        }
        text += R"(                   (numbers sort largest first, key and status A-Z)
  --app NAME       only workers of the app NAME (any version)
  --json           print the raw JSON (filters and sorting are not applied)
)";
        break;
    }
    case Command::Apps:
        text = R"(Usage: buntimectl apps [OPTIONS]

Lists resolvable apps (GET /_/api/apps): NAME, VERSION, KIND (entrypoint kind), the
effective config TTL, TIMEOUT, IDLE (idleTimeout), MAXREQ (maxRequests), MAXBODY
(maxBodySize), CONC (concurrency), THREADS, FLAGS (lowMemory, injectBase, public routes)
and DIR; then every manifest error with its file and key.
)";
        break;
    case Command::Metrics:
        text = R"(Usage: buntimectl metrics [--watch SECS [--count N]] [OPTIONS]

Prints the supervisor metrics (GET /_/api/metrics), one per line with human units.

  --watch SECS     refresh every SECS seconds (decimals allowed, at least 0.1) with one
                   compact line per refresh: TIME RPS REQS HIT% WORKERS EPH QUEUE AVG RSS;
                   Ctrl-C (SIGINT) stops it and exits 0. With --json, one JSON object
                   per line. A failed refresh is reported on stderr and retried.
  --count N        with --watch: stop after N refreshes
)";
        break;
    case Command::Retire:
        text = R"(Usage: buntimectl retire KEY [OPTIONS]

Retires the worker KEY (e.g. hello@1.0.0, see `buntimectl workers`) via
POST /_/api/workers/KEY/retire; in-flight requests finish, the next request starts a
fresh worker. Needs --token (or $RUNTIME_ADMIN_TOKEN) over TCP, or --socket on the admin socket.
)";
        break;
    case Command::Reload:
        text = R"(Usage: buntimectl reload [NAME] [OPTIONS]

Asks the supervisor to re-read RUNTIME_WORKER_DIRS and manifests (POST /_/api/reload),
the same as `systemctl reload buntime`. With NAME, recycles only that app's workers (every
version) after their in-flight requests (POST /_/api/apps/NAME/reload); other apps keep
theirs. Needs an admin key (--token or $RUNTIME_ADMIN_TOKEN) when the supervisor has keys.
)";
        break;
    case Command::Deploy:
        text = R"(Usage: buntimectl deploy DIR|ARCHIVE [--replace] [OPTIONS]

Uploads an app (POST /_/api/apps). DIR is packed as a .tar.gz (with `tar`, following
symlinks); ARCHIVE is a .tar.gz, .tgz or .zip. Its manifest.yaml (name, version) or
package.json names the app; it is installed as NAME/VERSION/ in the supervisor's first
writable RUNTIME_WORKER_DIRS directory and served at once.
  --replace        replace an installed NAME@VERSION (its workers drain); without it the
                   supervisor answers 409
Needs a deployer or admin key (--token or $RUNTIME_ADMIN_TOKEN).
)";
        break;
    case Command::Remove:
        text = R"(Usage: buntimectl remove NAME[@VERSION] [--force] [OPTIONS]

Removes one version, or every version of an app (DELETE /_/api/apps/NAME[/VERSION]): it
stops being routed at once, its workers finish their in-flight requests, then its files
are deleted.
  --force          stop its workers at once (in-flight requests fail)
Needs a deployer or admin key (--token or $RUNTIME_ADMIN_TOKEN).
)";
        break;
    case Command::Logs:
        text = R"(Usage: buntimectl logs NAME [-f] [--tail N] [OPTIONS]

Prints the app NAME's recent output (GET /_/api/apps/NAME/logs), one line each:
  TIME APP@VERSION[PID] STREAM: LINE
TIME is UTC, PID the worker process, STREAM stdout or stderr. Bytes that are not UTF-8
and control bytes arrive as \xNN; a line cut at 16 KiB ends in (truncated). The
supervisor keeps RUNTIME_APP_LOG_LINES lines per app (default 1000).

  --tail N         the last N lines (default 200; with -f 10)
  -f, --follow     then keep printing new lines as they come (server-sent events) until
                   Ctrl-C or the supervisor stops
  --json           print each line as the supervisor's JSON object
)";
        break;
    }
    text += '\n';
    text += globalFlags;
    text += '\n';
    text += exitCodes;
    return text;
}

std::variant<Options, UsageError> parseArgs(std::span<const std::string> args, const Environment& env) {
    Options options;
    std::vector<std::string> positionals;
    std::vector<std::string> commandFlags;  // seen, checked against the command at the end
    bool onlyPositionals = false;

    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (onlyPositionals || arg.empty() || arg[0] != '-' || arg == "-") {
            positionals.push_back(arg);
            continue;
        }
        if (arg == "--") {
            onlyPositionals = true;
            continue;
        }
        std::string flag = arg;
        std::optional<std::string> value;
        if (const auto eq = arg.find('='); eq != std::string::npos && arg.starts_with("--")) {
            flag = arg.substr(0, eq);
            value = arg.substr(eq + 1);
        }
        if (flag == "-h" || flag == "--help") {
            options.help = true;
            continue;
        }
        if (flag == "--version") {
            options.version = true;
            continue;
        }
        if (flag == "--json") {
            options.json = true;
            continue;
        }
        if (flag == "-f" || flag == "--follow") {
            options.follow = true;
            commandFlags.push_back(flag);
            continue;
        }
        if (flag == "--replace" || flag == "--force") {
            (flag == "--replace" ? options.replace : options.force) = true;
            commandFlags.push_back(flag);
            continue;
        }
        if (!takesValue(flag)) {
            return UsageError{"unknown option '" + flag + "'"};
        }
        if (!value) {
            if (i + 1 >= args.size()) {
                return UsageError{"option '" + flag + "' needs a value"};
            }
            value = args[++i];
        }
        if (ownerOf(flag)) {
            commandFlags.push_back(flag);
        }
        if (flag == "--url") {
            options.url = *value;
        } else if (flag == "--socket") {
            options.socket = *value;
        } else if (flag == "--token") {
            options.token = *value;
        } else if (flag == "--timeout") {
            const auto seconds = parseDouble(*value);
            if (!seconds || *seconds <= 0) {
                return UsageError{"--timeout needs a positive number of seconds, got '" + *value + "'"};
            }
            options.timeout_seconds = *seconds;
        } else if (flag == "--width") {
            const auto width = parseUnsigned(*value);
            if (!width || *width < 20) {
                return UsageError{"--width needs a number of columns >= 20, got '" + *value + "'"};
            }
            options.width = *width;
        } else if (flag == "--sort") {
            options.sort = *value;
        } else if (flag == "--app") {
            options.app = *value;
        } else if (flag == "--watch") {
            const auto seconds = parseDouble(*value);
            if (!seconds || *seconds < 0.1) {
                return UsageError{"--watch needs a number of seconds >= 0.1, got '" + *value + "'", Command::Metrics};
            }
            options.watch_seconds = *seconds;
        } else if (flag == "--count") {
            const auto count = parseUnsigned(*value);
            if (!count || *count == 0) {
                return UsageError{"--count needs a positive integer, got '" + *value + "'", Command::Metrics};
            }
            options.count = *count;
        } else if (flag == "--tail") {
            const auto tail = parseUnsigned(*value);
            if (!tail) {
                return UsageError{"--tail needs a number of lines, got '" + *value + "'", Command::Logs};
            }
            options.tail = *tail;
        }
    }

    if (!positionals.empty()) {
        const auto command = commandFromName(positionals.front());
        if (!command) {
            return UsageError{"unknown command '" + positionals.front() + "'"};
        }
        options.command = *command;
        positionals.erase(positionals.begin());
    }
    if (options.help || options.version) {
        return options;  // help and version win over everything else
    }
    if (options.command == Command::None) {
        return UsageError{"missing command"};
    }
    for (const auto& flag : commandFlags) {
        if (ownerOf(flag) != options.command) {
            return UsageError{
                "option '" + flag + "' belongs to `buntimectl " + std::string(commandName(*ownerOf(flag))) + "`",
                options.command};
        }
    }
    if (options.command == Command::Retire) {
        if (positionals.size() != 1 || positionals.front().empty()) {
            return UsageError{"retire needs exactly one worker KEY (name@version)", Command::Retire};
        }
        options.key = positionals.front();
    } else if (options.command == Command::Logs) {
        if (positionals.size() != 1 || positionals.front().empty()) {
            return UsageError{"logs needs exactly one app NAME", Command::Logs};
        }
        options.log_app = positionals.front();
    } else if (options.command == Command::Reload && positionals.size() == 1 && !positionals.front().empty()) {
        options.reload_app = positionals.front();
    } else if (options.command == Command::Deploy) {
        if (positionals.size() != 1 || positionals.front().empty()) {
            return UsageError{"deploy needs exactly one DIR or ARCHIVE", Command::Deploy};
        }
        options.deploy_path = positionals.front();
    } else if (options.command == Command::Remove) {
        if (positionals.size() != 1 || positionals.front().empty() || positionals.front().front() == '@' ||
            positionals.front().back() == '@') {
            return UsageError{"remove needs exactly one NAME or NAME@VERSION", Command::Remove};
        }
        const auto& target = positionals.front();
        const auto at = target.find('@');
        options.remove_name = target.substr(0, at);
        if (at != std::string::npos) {
            options.remove_version = target.substr(at + 1);
        }
    } else if (!positionals.empty()) {
        return UsageError{"unexpected argument '" + positionals.front() + "'", options.command};
    }
    if (!options.url.empty() && !options.socket.empty()) {
        return UsageError{"use either --url or --socket, not both"};
    }
    if (!options.sort.empty() && std::find(sortKeys.begin(), sortKeys.end(), options.sort) == sortKeys.end()) {
        return UsageError{"unknown sort column '" + options.sort + "'", Command::Workers};
    }
    if (options.count && !options.watch_seconds) {
        return UsageError{"--count only makes sense with --watch", Command::Metrics};
    }
    if (options.token.empty()) {
        options.token = env.token;
    }
    return options;
}

}  // namespace buntime::ctl

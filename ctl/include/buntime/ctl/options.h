// SPDX-License-Identifier: MIT
// Command-line parsing and help text of buntimectl.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <variant>

namespace buntime::ctl {

enum class Command { None, Status, Workers, Apps, Metrics, Retire, Reload, Logs, Deploy, Remove };

// The process environment the CLI reads, passed in so tests control it.
struct Environment {
    std::string port;          // $PORT, default port of the default URL
    std::string token;         // $RUNTIME_ADMIN_TOKEN
    std::string columns;       // $COLUMNS
    int terminal_columns = 0;  // TIOCGWINSZ on stdout, 0 when stdout is not a terminal
};

// Everything parsed from argv; immutable after parseArgs.
struct Options {
    Command command = Command::None;
    bool help = false;     // --help: print help of `command` (or the overview) and exit 0
    bool version = false;  // --version
    bool json = false;
    std::string url;     // empty: default http://127.0.0.1:$PORT
    std::string socket;  // admin unix socket; exclusive with url
    std::string token;   // --token, else $RUNTIME_ADMIN_TOKEN
    double timeout_seconds = 5;
    std::optional<std::size_t> width;  // --width, else terminal width
    // workers
    std::string sort;
    std::string app;
    // metrics
    std::optional<double> watch_seconds;
    std::optional<unsigned> count;
    // retire
    std::string key;
    // logs
    std::string log_app;
    bool follow = false;           // -f, --follow
    std::optional<unsigned> tail;  // --tail N (default 200, or 10 with -f)
    // reload NAME (one app; empty: every app)
    std::string reload_app;
    // deploy DIR|ARCHIVE
    std::string deploy_path;
    bool replace = false;  // deploy --replace
    // remove NAME[@VERSION]
    std::string remove_name;
    std::string remove_version;
    bool force = false;  // remove --force
};

struct UsageError {
    std::string message;
    Command command = Command::None;  // whose help to point at
};

std::variant<Options, UsageError> parseArgs(std::span<const std::string> args, const Environment& env);

std::string_view commandName(Command command);
// The overview (Command::None) or one command's help, every flag documented.
std::string helpText(Command command);

// Sort keys accepted by `workers --sort`, in column order.
std::span<const std::string_view> workerSortKeys();

}  // namespace buntime::ctl

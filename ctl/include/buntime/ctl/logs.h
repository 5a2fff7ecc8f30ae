// SPDX-License-Identifier: MIT
// `buntimectl logs NAME [-f] [--tail N]`: an app's output lines from GET /_/api/apps/NAME/logs,
// printed as "TIME APP@VERSION[PID] STREAM: LINE"; -f follows the server-sent events.
#pragma once

#include <atomic>
#include <ostream>
#include <string>
#include <string_view>

#include "buntime/ctl/client.h"
#include "buntime/ctl/options.h"

namespace buntime::ctl {

// One line of the admin API (a JSON object) as buntimectl prints it; with `json` the object
// itself. Empty when `text` is not such a line.
std::string formatLogLine(std::string_view text, bool json);

// Runs the logs command; returns the process exit code. -f ends when the supervisor ends the
// stream (shutdown), when `stop` becomes true (checked as data arrives), or on Ctrl-C.
int logsCommand(const Client& client, const Options& options, std::ostream& out, std::ostream& err,
                const std::atomic<bool>* stop);

}  // namespace buntime::ctl

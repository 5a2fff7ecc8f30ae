// SPDX-License-Identifier: MIT
// buntimectl logs: the tail as JSON lines, or the follow stream as server-sent events.
#include "buntime/ctl/logs.h"

#include <nlohmann/json.hpp>

#include "buntime/admin/schema.h"
#include "buntime/ctl/cli.h"

namespace buntime::ctl {
namespace {

void reportFailure(const Client& client, const Reply& reply, std::string_view path, std::ostream& err) {
    if (reply.outcome == Reply::Outcome::Unreachable) {
        err << "buntimectl: cannot reach " << client.endpoint().display() << " (" << reply.detail << ")\n";
        return;
    }
    const auto body = nlohmann::json::parse(reply.body, nullptr, false).get<admin::ErrorReply>();  // lenient
    std::string message = body.message.empty() ? body.error : body.message;
    if (message.empty()) message = reply.body.substr(0, std::min<std::size_t>(200, reply.body.find('\n')));
    err << "buntimectl: " << message << " (" << (body.error.empty() ? "" : body.error + ", ") << "HTTP " << reply.status
        << " from " << path << ")\n";
    if (reply.status == 401 || reply.status == 403) err << "buntimectl: pass --token or set RUNTIME_ADMIN_TOKEN\n";
}

}  // namespace

std::string formatLogLine(std::string_view text, bool json) {
    const auto value = nlohmann::json::parse(text, nullptr, false);
    if (value.is_discarded()) return {};
    const auto line = admin::parse<admin::AppLogLineView>(value);
    if (!line) return {};
    if (json) return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    return line->time + " " + line->app + "@" + line->version + "[" + std::to_string(line->pid) + "] " + line->stream +
           ": " + line->line + (line->truncated ? " (truncated)" : "") + "\n";
}

int logsCommand(const Client& client, const Options& options, std::ostream& out, std::ostream& err,
                const std::atomic<bool>* stop) {
    std::string path = "/_/api/apps/" + encodePathSegment(options.log_app) +
                       "/logs?tail=" + std::to_string(options.tail.value_or(options.follow ? 10 : 200));
    if (!options.follow) {
        const Reply reply = client.get(path);
        if (reply.outcome != Reply::Outcome::Ok) {
            reportFailure(client, reply, path, err);
            return reply.outcome == Reply::Outcome::Unreachable ? exitUnreachable : exitServerError;
        }
        std::size_t start = 0;
        while (start < reply.body.size()) {
            auto end = reply.body.find('\n', start);
            if (end == std::string::npos) end = reply.body.size();
            const auto text = std::string_view(reply.body).substr(start, end - start);
            if (!text.empty()) {
                const auto printed = formatLogLine(text, options.json);
                if (printed.empty()) {
                    err << "buntimectl: " << path << " answered a line that does not fit the admin API\n";
                    return exitServerError;
                }
                out << printed;
            }
            start = end + 1;
        }
        out.flush();
        return exitOk;
    }

    path += "&follow=1";
    std::string pending;  // bytes of an incomplete SSE line
    bool misfit = false;
    const Reply reply = client.stream(path, [&](std::string_view data) {
        pending.append(data);
        std::size_t start = 0, nl;
        while ((nl = pending.find('\n', start)) != std::string::npos) {
            const auto line = std::string_view(pending).substr(start, nl - start);
            start = nl + 1;
            if (!line.starts_with("data:")) continue;  // comments (heartbeats), blank separators
            auto payload = line.substr(5);
            if (!payload.empty() && payload.front() == ' ') payload.remove_prefix(1);
            const auto printed = formatLogLine(payload, options.json);
            if (printed.empty()) {
                misfit = true;
                continue;
            }
            out << printed;
        }
        pending.erase(0, start);
        out.flush();
        return !(stop != nullptr && stop->load(std::memory_order_relaxed));
    });
    if (misfit) err << "buntimectl: " << path << " sent events that do not fit the admin API\n";
    if (reply.outcome == Reply::Outcome::Ok || (stop != nullptr && stop->load(std::memory_order_relaxed)))
        return exitOk;
    reportFailure(client, reply, path, err);
    return reply.outcome == Reply::Outcome::Unreachable ? exitUnreachable : exitServerError;
}

}  // namespace buntime::ctl

// SPDX-License-Identifier: MIT
// Human renderings of admin API answers: status summary, worker and app tables, metrics.
#include "render.h"

#include "options.h"
#include "table.h"
#include "units.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <vector>

namespace buntime::ctl {

using nlohmann::json;

namespace {

std::optional<double> number(const json& object, std::string_view key) {
    if (!object.is_object()) {
        return std::nullopt;
    }
    const auto it = object.find(key);
    if (it == object.end() || !it->is_number()) {
        return std::nullopt;
    }
    return it->get<double>();
}

std::string text(const json& object, std::string_view key, std::string fallback = "-") {
    if (!object.is_object()) {
        return fallback;
    }
    const auto it = object.find(key);
    if (it == object.end()) {
        return fallback;
    }
    if (it->is_string()) {
        return it->get<std::string>();
    }
    if (it->is_number()) {
        return formatNumber(it->get<double>());
    }
    if (it->is_boolean()) {
        return it->get<bool>() ? "true" : "false";
    }
    return fallback;
}

const json& member(const json& object, std::string_view key) {
    static const json null;
    if (!object.is_object()) {
        return null;
    }
    const auto it = object.find(key);
    return it == object.end() ? null : *it;
}

std::string orDash(std::optional<double> value, std::string (*format)(double)) { return value ? format(*value) : "-"; }

std::string plain(double value) { return formatNumber(value); }

// Cuts every line of a block to the width.
std::string fitLines(const std::string& block, std::size_t width) {
    std::string out;
    std::size_t start = 0;
    while (start < block.size()) {
        auto end = block.find('\n', start);
        if (end == std::string::npos) {
            end = block.size();
        }
        out += elide(std::string_view(block).substr(start, end - start), width);
        out += '\n';
        start = end + 1;
    }
    return out;
}

std::string keyValues(const std::vector<std::pair<std::string, std::string>>& rows, std::size_t width) {
    std::size_t keyWidth = 0;
    for (const auto& [key, value] : rows) {
        keyWidth = std::max(keyWidth, key.size());
    }
    std::string block;
    for (const auto& [key, value] : rows) {
        block += "  " + key + std::string(keyWidth - key.size() + 2, ' ') + value + '\n';
    }
    return fitLines(block, width);
}

// Ring fill "used/capacity" and high-water "highWater/capacity" as percentages,
// request ring first: "0%/0%".
std::string ringRatio(const json& ring, std::string_view field) {
    if (!ring.is_object()) {
        return "-";
    }
    auto one = [&](std::string_view direction) -> std::string {
        const json& side = member(ring, direction);
        const auto value = number(side, field);
        const auto capacity = number(side, "capacity");
        if (!value || !capacity || *capacity <= 0) {
            return "-";
        }
        return formatPercent(*value / *capacity);
    };
    return one("toWorker") + "/" + one("toSupervisor");
}

// The larger of the two directions, for sorting.
double ringMax(const json& ring, std::string_view field) {
    double best = -1;
    for (const char* direction : {"toWorker", "toSupervisor"}) {
        const json& side = member(ring, direction);
        const auto value = number(side, field);
        const auto capacity = number(side, "capacity");
        if (value && capacity && *capacity > 0) {
            best = std::max(best, *value / *capacity);
        }
    }
    return best;
}

std::string workerName(const json& worker) {
    std::string name = text(worker, "name", "");
    if (name.empty()) {
        const std::string key = text(worker, "key", "");
        name = key.substr(0, key.find('@'));
    }
    return name;
}

double sortValue(const json& worker, std::string_view sort) {
    if (sort == "pid") return number(worker, "pid").value_or(-1);
    if (sort == "requests") return number(worker, "requestCount").value_or(-1);
    if (sort == "errors") return number(worker, "errorCount").value_or(-1);
    if (sort == "avg") return number(worker, "avgResponseTimeMs").value_or(-1);
    if (sort == "age") return number(worker, "ageMs").value_or(-1);
    if (sort == "idle") return number(worker, "idleMs").value_or(-1);
    if (sort == "rss") return number(worker, "rssBytes").value_or(-1);
    if (sort == "inflight") return number(worker, "inFlight").value_or(-1);
    if (sort == "ring") return ringMax(member(worker, "ring"), "used");
    if (sort == "hwm") return ringMax(member(worker, "ring"), "highWater");
    return 0;
}

std::string flagsOf(const json& config) {
    std::string flags;
    auto add = [&](const std::string& flag) { flags += (flags.empty() ? "" : ",") + flag; };
    if (member(config, "lowMemory") == true) add("lowMemory");
    if (member(config, "injectBase") == true) add("injectBase");
    const json& routes = member(config, "publicRoutes");
    if (routes.is_array() && !routes.empty()) add("public:" + std::to_string(routes.size()));
    if (routes.is_object() && !routes.empty()) add("public:" + std::to_string(routes.size()));
    return flags.empty() ? "-" : flags;
}

}  // namespace

std::string renderStatus(const json& health, const json& ready, const json& metrics, std::size_t width) {
    std::string version = text(health, "version", text(metrics, "version"));
    std::string state = text(health, "status");
    if (ready.is_object() && member(ready, "ready").is_boolean()) {
        state += member(ready, "ready") == true ? ", ready" : ", NOT ready";
    }
    std::string out = fitLines("buntime " + version + " (" + state + ")", width);

    const auto active = number(metrics, "activeWorkers");
    const auto pool_size = number(metrics, "poolSize");
    std::string pool = orDash(active, plain) + "/" + orDash(pool_size, plain) + " workers";
    if (active && pool_size && *pool_size > 0) {
        pool += " (" + formatPercent(*active / *pool_size) + " full)";
    }
    std::string hit_rate = orDash(number(metrics, "hitRate"), formatHitRate) + " (" +
                           orDash(number(metrics, "hits"), plain) + " hits, " +
                           orDash(number(metrics, "misses"), plain) + " misses)";
    std::string requests = orDash(number(metrics, "requestsPerSecond"), plain) + " req/s, " +
                           orDash(number(metrics, "totalRequests"), plain) + " total, avg " +
                           orDash(number(metrics, "avgResponseTimeMs"), formatDuration);
    std::string ephemeral = orDash(number(metrics, "ephemeralActive"), plain) + "/" +
                            orDash(number(metrics, "ephemeralConcurrency"), plain) + " running, queue " +
                            orDash(number(metrics, "ephemeralQueueDepth"), plain) + "/" +
                            orDash(number(metrics, "ephemeralQueueLimit"), plain);
    std::string workers = orDash(number(metrics, "totalWorkersCreated"), plain) + " created, " +
                          orDash(number(metrics, "totalWorkersFailed"), plain) + " failed, " +
                          orDash(number(metrics, "totalWorkersRetired"), plain) + " retired, " +
                          orDash(number(metrics, "evictions"), plain) + " evicted";
    auto uptime = number(health, "uptimeMs");
    if (!uptime) {
        uptime = number(metrics, "uptimeMs");
    }
    auto rss = number(metrics, "supervisorRssBytes");
    std::string rssText =
        rss ? formatBytes(*rss)
            : orDash(number(metrics, "memoryUsageMB"), [](double mb) { return formatBytes(mb * 1024 * 1024); });
    out += keyValues({{"pid", text(health, "pid", text(metrics, "pid"))},
                      {"listen", text(health, "listen", text(metrics, "listen"))},
                      {"uptime", orDash(uptime, formatDuration)},
                      {"pool", pool},
                      {"hit rate", hit_rate},
                      {"requests", requests},
                      {"ephemeral", ephemeral},
                      {"workers", workers},
                      {"supervisor RSS", rssText}},
                     width);
    return out;
}

std::string renderWorkers(const json& workers, std::string_view sort, std::string_view app, std::size_t width) {
    std::vector<const json*> rows;
    const json& list = member(workers, "workers");
    if (list.is_array()) {
        for (const json& worker : list) {
            if (app.empty() || workerName(worker) == app) {
                rows.push_back(&worker);
            }
        }
    }
    if (sort == "key" || sort == "status") {
        std::stable_sort(rows.begin(), rows.end(), [&](const json* a, const json* b) {
            return text(*a, sort == "key" ? "key" : "status", "") < text(*b, sort == "key" ? "key" : "status", "");
        });
    } else if (!sort.empty()) {
        std::stable_sort(rows.begin(), rows.end(),
                         [&](const json* a, const json* b) { return sortValue(*a, sort) > sortValue(*b, sort); });
    }

    // Drop order when narrow: IDLE, AGE, HWM, ERRS, INFL, RING, RSS, AVG, REQS.
    Table table({{"KEY", Align::Left, 0, true, 12},
                 {"PID", Align::Right, 0},
                 {"STATUS", Align::Left, 0},
                 {"REQS", Align::Right, 2},
                 {"ERRS", Align::Right, 7},
                 {"AVG", Align::Right, 3},
                 {"AGE", Align::Right, 9},
                 {"IDLE", Align::Right, 10},
                 {"RSS", Align::Right, 4},
                 {"INFL", Align::Right, 6},
                 {"RING", Align::Right, 5},
                 {"HWM", Align::Right, 8}});
    for (const json* worker : rows) {
        const auto pid = number(*worker, "pid");
        const json& ring = member(*worker, "ring");
        table.addRow({text(*worker, "key"), pid && *pid > 0 ? formatNumber(*pid) : "-", text(*worker, "status"),
                      orDash(number(*worker, "requestCount"), plain), orDash(number(*worker, "errorCount"), plain),
                      orDash(number(*worker, "avgResponseTimeMs"), formatDuration),
                      orDash(number(*worker, "ageMs"), formatDuration),
                      orDash(number(*worker, "idleMs"), formatDuration),
                      orDash(number(*worker, "rssBytes"), formatBytes), orDash(number(*worker, "inFlight"), plain),
                      ringRatio(ring, "used"), ringRatio(ring, "highWater")});
    }
    std::string out = table.render(width);
    if (table.rowCount() == 0) {
        out += app.empty() ? "(no workers)\n" : "(no workers of app '" + std::string(app) + "')\n";
    }
    return out;
}

std::string renderApps(const json& apps, std::size_t width) {
    Table table({{"NAME", Align::Left, 0, true, 10},
                 {"VERSION", Align::Left, 0, true, 8},
                 {"KIND", Align::Left, 0},
                 {"TTL", Align::Right, 0},
                 {"TIMEOUT", Align::Right, 0},
                 {"IDLE", Align::Right, 5},
                 {"MAXREQ", Align::Right, 0},
                 {"MAXBODY", Align::Right, 0},
                 {"CONC", Align::Right, 4},
                 {"THREADS", Align::Right, 3},
                 {"FLAGS", Align::Left, 6},
                 {"DIR", Align::Left, 7, true, 12}});
    std::string errors;
    const json& list = member(apps, "apps");
    if (list.is_array()) {
        for (const json& app : list) {
            const json& config = member(app, "config");
            const json& error = member(app, "error");
            const bool broken = error.is_object() || error.is_string();
            table.addRow(
                {text(app, "name"), text(app, "version"), broken ? "ERROR" : text(app, "entrypointKind"),
                 orDash(number(config, "ttlMs"), formatDuration), orDash(number(config, "timeoutMs"), formatDuration),
                 orDash(number(config, "idleTimeoutMs"), formatDuration), orDash(number(config, "maxRequests"), plain),
                 orDash(number(config, "maxBodySize"), formatBytes), orDash(number(config, "concurrency"), plain),
                 orDash(number(config, "threads"), plain), config.is_object() ? flagsOf(config) : "-",
                 text(app, "dir")});
            if (broken) {
                errors += "  " + text(app, "name") + "@" + text(app, "version") + "\n";
                if (error.is_string()) {
                    errors += "    error: " + error.get<std::string>() + "\n";
                } else {
                    errors += "    file:  " + text(error, "file") + "\n";
                    errors += "    key:   " + text(error, "key") + "\n";
                    errors += "    error: " + text(error, "message") + "\n";
                }
            }
        }
    }
    std::string out = table.render(width);
    if (table.rowCount() == 0) {
        out += "(no apps found in RUNTIME_WORKER_DIRS)\n";
    }
    if (!errors.empty()) {
        // Not cut to the width: a path or message is worth a wrapped line.
        out += "\nManifest errors:\n" + errors;
    }
    return out;
}

std::string renderMetrics(const json& metrics, std::size_t width) {
    std::vector<std::pair<std::string, std::string>> rows;
    if (metrics.is_object()) {
        for (const auto& [key, value] : metrics.items()) {
            std::string shown;
            if (value.is_number()) {
                const double v = value.get<double>();
                shown = formatNumber(v);
                std::string human;
                if (key.ends_with("Ms")) {
                    human = formatDuration(v);
                } else if (key.ends_with("Bytes")) {
                    human = formatBytes(v);
                } else if (key.ends_with("MB")) {
                    human = formatBytes(v * 1024 * 1024);
                } else if (key == "hitRate") {
                    human = formatHitRate(v);
                }
                if (!human.empty() && human != shown) {
                    shown += " (" + human + ")";
                }
            } else if (value.is_string()) {
                shown = value.get<std::string>();
            } else {
                shown = value.dump();
            }
            rows.emplace_back(key, shown);
        }
    }
    return keyValues(rows, width);
}

namespace {
constexpr const char* watchFormat = "%-8s %9s %10s %6s %9s %5s %9s %8s %9s";
}

std::string watchHeader(std::size_t width) {
    char line[256];
    std::snprintf(line, sizeof line, watchFormat, "TIME", "RPS", "REQS", "HIT%", "WORKERS", "EPH", "QUEUE", "AVG",
                  "RSS");
    return elide(line, width) + '\n';
}

std::string watchLine(const json& metrics, std::string_view clock, std::size_t width) {
    const std::string workers =
        orDash(number(metrics, "activeWorkers"), plain) + "/" + orDash(number(metrics, "poolSize"), plain);
    const std::string queue = orDash(number(metrics, "ephemeralQueueDepth"), plain) + "/" +
                              orDash(number(metrics, "ephemeralQueueLimit"), plain);
    auto rss = number(metrics, "supervisorRssBytes");
    if (!rss) {
        if (const auto mb = number(metrics, "memoryUsageMB")) {
            rss = *mb * 1024 * 1024;
        }
    }
    char line[512];
    std::snprintf(line, sizeof line, watchFormat, std::string(clock).c_str(),
                  orDash(number(metrics, "requestsPerSecond"), plain).c_str(),
                  orDash(number(metrics, "totalRequests"), plain).c_str(),
                  orDash(number(metrics, "hitRate"), formatHitRate).c_str(), workers.c_str(),
                  orDash(number(metrics, "ephemeralActive"), plain).c_str(), queue.c_str(),
                  orDash(number(metrics, "avgResponseTimeMs"), formatDuration).c_str(),
                  orDash(rss, formatBytes).c_str());
    return elide(line, width) + '\n';
}

}  // namespace buntime::ctl

// SPDX-License-Identifier: MIT
// Human renderings of admin API answers: status summary, worker and app tables, metrics.
#include "buntime/ctl/render.h"

#include "buntime/ctl/options.h"
#include "buntime/ctl/table.h"
#include "buntime/ctl/units.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <type_traits>
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

const json& member(const json& object, std::string_view key) {
    static const json null;
    if (!object.is_object()) {
        return null;
    }
    const auto it = object.find(key);
    return it == object.end() ? null : *it;
}

std::string orDash(std::optional<double> value, std::string (*format)(double)) { return value ? format(*value) : "-"; }

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
std::string ringRatio(const std::optional<admin::WorkerRings>& ring, std::uint64_t admin::RingView::*field) {
    if (!ring) {
        return "-";
    }
    auto one = [&](const admin::RingView& side) -> std::string {
        if (side.capacity == 0) {
            return "-";
        }
        return formatPercent(static_cast<double>(side.*field) / static_cast<double>(side.capacity));
    };
    return one(ring->to_worker) + "/" + one(ring->to_supervisor);
}

// The larger of the two directions, for sorting.
double ringMax(const std::optional<admin::WorkerRings>& ring, std::uint64_t admin::RingView::*field) {
    double best = -1;
    if (!ring) {
        return best;
    }
    for (const admin::RingView* side : {&ring->to_worker, &ring->to_supervisor}) {
        if (side->capacity > 0) {
            best = std::max(best, static_cast<double>(side->*field) / static_cast<double>(side->capacity));
        }
    }
    return best;
}

std::string workerName(const admin::WorkerRow& worker) {
    return worker.name.empty() ? worker.key.substr(0, worker.key.find('@')) : worker.name;
}

template <typename T>
double orMinusOne(const std::optional<T>& value) {
    return value ? static_cast<double>(*value) : -1;
}

double sortValue(const admin::WorkerRow& worker, std::string_view sort) {
    if (sort == "pid") return orMinusOne(worker.pid);
    if (sort == "requests") return static_cast<double>(worker.request_count);
    if (sort == "errors") return static_cast<double>(worker.error_count);
    if (sort == "avg") return worker.avg_response_time_ms;
    if (sort == "age") return static_cast<double>(worker.age_ms);
    if (sort == "idle") return static_cast<double>(worker.idle_ms);
    if (sort == "rss") return orMinusOne(worker.rss_bytes);
    if (sort == "inflight") return static_cast<double>(worker.in_flight);
    if (sort == "ring") return ringMax(worker.ring, &admin::RingView::used);
    if (sort == "hwm") return ringMax(worker.ring, &admin::RingView::high_water);
    return 0;
}

template <typename T>
std::string plain(T value) {
    return formatNumber(static_cast<double>(value));
}

template <typename T>
std::string duration(T ms) {
    return formatDuration(static_cast<double>(ms));
}

template <typename T>
std::string bytes(T value) {
    return formatBytes(static_cast<double>(value));
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

std::string renderStatus(const admin::HealthView& health, const std::optional<admin::ReadyView>& ready,
                         const admin::MetricsView& metrics, std::size_t width) {
    // "healthy" is the seed runtime's word for what buntimectl has always shown as "ok".
    std::string state = health.status == "healthy" ? "ok" : health.status;
    if (ready) {
        state += ready->ready ? ", ready" : ", NOT ready";
    }
    std::string out = fitLines("buntime " + health.version + " (" + state + ")", width);

    std::string pool = plain(metrics.active_workers) + "/" + plain(metrics.pool_size) + " workers";
    if (metrics.pool_size > 0) {
        pool += " (" +
                formatPercent(static_cast<double>(metrics.active_workers) / static_cast<double>(metrics.pool_size)) +
                " full)";
    }
    std::string hit_rate =
        formatHitRate(metrics.hit_rate) + " (" + plain(metrics.hits) + " hits, " + plain(metrics.misses) + " misses)";
    std::string requests = plain(metrics.requests_per_second) + " req/s, " + plain(metrics.total_requests) +
                           " total, avg " + duration(metrics.avg_response_time_ms);
    std::string ephemeral = plain(metrics.ephemeral_active) + "/" + plain(metrics.ephemeral_concurrency) +
                            " running, queue " + plain(metrics.ephemeral_queue_depth) + "/" +
                            plain(metrics.ephemeral_queue_limit);
    std::string workers = plain(metrics.total_workers_created) + " created, " + plain(metrics.total_workers_failed) +
                          " failed, " + plain(metrics.total_workers_retired) + " retired, " + plain(metrics.evictions) +
                          " evicted";
    out += keyValues({{"pid", plain(health.pid)},
                      {"listen", health.listen},
                      {"uptime", duration(health.uptime_ms)},
                      {"pool", pool},
                      {"hit rate", hit_rate},
                      {"requests", requests},
                      {"ephemeral", ephemeral},
                      {"workers", workers},
                      {"supervisor RSS", bytes(metrics.supervisor_rss_bytes)}},
                     width);
    return out;
}

std::string renderWorkers(const std::vector<admin::WorkerRow>& workers, std::string_view sort, std::string_view app,
                          std::size_t width) {
    std::vector<const admin::WorkerRow*> rows;
    for (const admin::WorkerRow& worker : workers) {
        if (app.empty() || workerName(worker) == app) {
            rows.push_back(&worker);
        }
    }
    if (sort == "key" || sort == "status") {
        const auto field = sort == "key" ? &admin::WorkerRow::key : &admin::WorkerRow::status;
        std::stable_sort(rows.begin(), rows.end(),
                         [&](const admin::WorkerRow* a, const admin::WorkerRow* b) { return a->*field < b->*field; });
    } else if (!sort.empty()) {
        std::stable_sort(rows.begin(), rows.end(), [&](const admin::WorkerRow* a, const admin::WorkerRow* b) {
            return sortValue(*a, sort) > sortValue(*b, sort);
        });
    }

    // Drop order when narrow: KIND, IDLE, AGE, HWM, ERRS, INFL, RING, RSS, AVG, REQS.
    Table table({{"KEY", Align::Left, 0, true, 12},
                 {"PID", Align::Right, 0},
                 {"STATUS", Align::Left, 0},
                 {"KIND", Align::Left, 11},
                 {"REQS", Align::Right, 2},
                 {"ERRS", Align::Right, 7},
                 {"AVG", Align::Right, 3},
                 {"AGE", Align::Right, 9},
                 {"IDLE", Align::Right, 10},
                 {"RSS", Align::Right, 4},
                 {"INFL", Align::Right, 6},
                 {"RING", Align::Right, 5},
                 {"HWM", Align::Right, 8}});
    for (const admin::WorkerRow* worker : rows) {
        table.addRow({worker->key, worker->pid && *worker->pid > 0 ? plain(*worker->pid) : "-", worker->status,
                      worker->kind ? *worker->kind : "-", plain(worker->request_count), plain(worker->error_count),
                      duration(worker->avg_response_time_ms), duration(worker->age_ms), duration(worker->idle_ms),
                      worker->rss_bytes ? bytes(*worker->rss_bytes) : "-", plain(worker->in_flight),
                      ringRatio(worker->ring, &admin::RingView::used),
                      ringRatio(worker->ring, &admin::RingView::high_water)});
    }
    std::string out = table.render(width);
    if (table.rowCount() == 0) {
        out += app.empty() ? "(no workers)\n" : "(no workers of app '" + std::string(app) + "')\n";
    }
    return out;
}

std::string renderApps(const std::vector<admin::AppRow>& apps, std::size_t width) {
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
    static const json none;
    for (const admin::AppRow& app : apps) {
        // The effective manifest, in the router's keys (router::toJson).
        const json& config = app.config ? *app.config : none;
        table.addRow(
            {app.name, app.version, app.error ? "ERROR" : app.entrypoint_kind.value_or("-"),
             orDash(number(config, "ttlMs"), formatDuration), orDash(number(config, "timeoutMs"), formatDuration),
             orDash(number(config, "idleTimeoutMs"), formatDuration),
             orDash(number(config, "maxRequests"), formatNumber), orDash(number(config, "maxBodySize"), formatBytes),
             orDash(number(config, "concurrency"), formatNumber), orDash(number(config, "threads"), formatNumber),
             config.is_object() ? flagsOf(config) : "-", app.dir.value_or("-")});
        if (app.error) {
            errors += "  " + app.name + "@" + app.version + "\n";
            errors += "    file:  " + app.error->file + "\n";
            errors += "    key:   " + app.error->key + "\n";
            errors += "    error: " + app.error->message + "\n";
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

std::string renderMetrics(const admin::MetricsView& metrics, std::size_t width) {
    std::vector<std::pair<std::string, std::string>> rows;
    admin::forEachMetric(metrics, [&](std::string_view key, const auto& field, admin::MetricKind) {
        if constexpr (std::is_same_v<std::remove_cvref_t<decltype(field)>, std::string>) {
            rows.emplace_back(key, field);
        } else {
            const double v = static_cast<double>(field);
            std::string shown = formatNumber(v);
            std::string human;
            if (key.ends_with("Ms")) {
                human = formatDuration(v);
            } else if (key.ends_with("Bytes")) {
                human = formatBytes(v);
            } else if (key.ends_with("MB")) {
                human = formatBytes(v * 1024 * 1024);
            } else if (static_cast<const void*>(&field) == &metrics.hit_rate) {
                human = formatHitRate(v);
            }
            if (!human.empty() && human != shown) {
                shown += " (" + human + ")";
            }
            rows.emplace_back(key, shown);
        }
    });
    // The spawn histogram: per path/kind, how many workers became ready and their mean time.
    std::string spawns;
    for (const auto& s : metrics.worker_spawn_seconds) {
        const double mean_ms = s.count == 0 ? 0.0 : 1000.0 * s.sum / static_cast<double>(s.count);
        spawns += (spawns.empty() ? "" : ", ") + s.path + "/" + s.kind + " " + plain(s.count) + " (mean " +
                  formatDuration(mean_ms) + ")";
    }
    rows.emplace_back("workerSpawnSeconds", spawns.empty() ? "none yet" : spawns);
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

std::string watchLine(const admin::MetricsView& metrics, std::string_view clock, std::size_t width) {
    const std::string workers = plain(metrics.active_workers) + "/" + plain(metrics.pool_size);
    const std::string queue = plain(metrics.ephemeral_queue_depth) + "/" + plain(metrics.ephemeral_queue_limit);
    char line[512];
    std::snprintf(line, sizeof line, watchFormat, std::string(clock).c_str(),
                  plain(metrics.requests_per_second).c_str(), plain(metrics.total_requests).c_str(),
                  formatHitRate(metrics.hit_rate).c_str(), workers.c_str(), plain(metrics.ephemeral_active).c_str(),
                  queue.c_str(), duration(metrics.avg_response_time_ms).c_str(),
                  bytes(metrics.supervisor_rss_bytes).c_str());
    return elide(line, width) + '\n';
}

}  // namespace buntime::ctl

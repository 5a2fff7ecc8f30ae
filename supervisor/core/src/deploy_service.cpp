// SPDX-License-Identifier: MIT
// DeployService: upload → worker thread → reply on the loop; remove; per-app reload.
#include "deploy_service.h"

#include <boost/asio/post.hpp>

#include "buntime/admin/schema.h"
#include "buntime/base/ascii.h"
#include "buntime/base/log.h"
#include "replies.h"

namespace buntime::supervisor {
namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

constexpr auto kDeletePoll = std::chrono::milliseconds(100);

void respondJson(Client& client, unsigned status, const nlohmann::json& body) {
    client.respond(status, {{"content-type", "application/json"}}, admin::dumpJson(body));
}

void respondError(Client& client, unsigned status, std::string code, std::string message) {
    respondJson(client, status, admin::ErrorReply{std::move(code), std::move(message)});
}

// "replace=1" in a query string.
bool queryFlag(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        const auto amp = query.find('&');
        const auto pair = query.substr(0, amp);
        if (pair.size() == name.size() + 2 && pair.starts_with(name) && pair[name.size()] == '=' && pair.back() == '1')
            return true;
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return false;
}

}  // namespace

struct DeployService::Upload {
    std::shared_ptr<Client> client;
    std::string who;
    std::string content_type;
    bool replace = false;
    std::string body;
};

DeployService::DeployService(asio::io_context& core, const SupervisorConfig& config, router::Router& router,
                             pool::WorkerPool& pool, Dispatcher& dispatcher, AsioWorkerHost& host)
    : core_(core), config_(config), router_(router), pool_(pool), dispatcher_(dispatcher), host_(host) {
    for (const auto& dir : config.worker_dirs) roots_.emplace_back(dir);
}

DeployService::~DeployService() {
    *alive_ = false;
    thread_.join();
}

void DeployService::upload(const std::shared_ptr<Client>& client, std::string who) {
    const auto& head = client->head();
    const std::uint64_t limit = config_.deploy_max_upload;
    if (head.content_length && *head.content_length > limit) {
        respondError(*client, 413, "UPLOAD_TOO_LARGE",
                     "the upload is " + std::to_string(*head.content_length) + " bytes; the limit is " +
                         std::to_string(limit) + " (RUNTIME_DEPLOY_MAX_UPLOAD)");
        return;
    }
    if (uploads_ >= kMaxConcurrentUploads) {
        respondError(*client, 503, "DEPLOY_BUSY", "another deploy is in progress; retry in a moment");
        return;
    }
    auto up = std::make_shared<Upload>();
    up->client = client;
    up->who = std::move(who);
    if (const auto* type = head.find("content-type")) up->content_type = *type;
    const std::string_view target = head.target;
    const auto q = target.find('?');
    up->replace = q != std::string_view::npos && queryFlag(target.substr(q + 1), "replace");
    ++uploads_;
    client->setBodyLimit(limit);
    readMore(up);
}

void DeployService::readMore(const std::shared_ptr<Upload>& up) {
    up->client->readBody([this, up](const http::BodyEvent& ev) {
        if (ev.status == http::BodyStatus::Data) {
            up->body.append(reinterpret_cast<const char*>(ev.data.data()), ev.data.size());
            readMore(up);
            return;
        }
        if (ev.status != http::BodyStatus::End) {  // the HTTP layer answered 413/400 or the client left
            --uploads_;
            return;
        }
        auto apps = router_.listApps();
        asio::post(thread_, [this, up, apps = std::move(apps), alive = alive_]() mutable {
            auto result = [&]() -> base::Expected<deploy::Installed, deploy::DeployError> {
                std::string_view archive = up->body;
                if (base::istartsWith(up->content_type, "multipart/form-data")) {
                    auto part = deploy::multipartFile(up->content_type, up->body);
                    if (!part) return part.error();
                    archive = *part;
                }
                if (archive.empty()) return deploy::deployError(400, "EMPTY_UPLOAD", "the upload is empty");
                try {
                    return deploy::install(archive, roots_, apps, up->replace);
                } catch (const std::exception& e) {
                    return deploy::deployError(500, "DEPLOY_FAILED", e.what());
                }
            }();
            if (!*alive) return;
            asio::post(core_, [this, up, alive, result = std::move(result)]() mutable {
                if (*alive) installed(up, std::move(result));
            });
        });
    });
}

void DeployService::installed(const std::shared_ptr<Upload>& up,
                              base::Expected<deploy::Installed, deploy::DeployError> result) {
    --uploads_;
    up->body.clear();
    if (!result) {
        const auto& e = result.error();
        base::logWarn("deploy", "deploy by " + up->who + " refused (" + std::to_string(e.status) + " " + e.code +
                                    "): " + e.message);
        respondError(*up->client, e.status, e.code, e.message);
        return;
    }
    const auto& app = result.value();
    router_.clearCaches();
    if (app.replaced) {
        std::vector<pool::WorkerId> ids;
        const auto n = recycle(app.name, app.version, false, ids);
        base::logInfo("deploy", "replaced " + app.name + "@" + app.version + " in " + app.dir.string() + " (by " +
                                    up->who + "); " + std::to_string(n) + " worker(s) drain");
    } else {
        base::logInfo("deploy",
                      "deployed " + app.name + "@" + app.version + " to " + app.dir.string() + " (by " + up->who + ")");
    }
    respondJson(*up->client, 201, admin::DeployedReply{true, app.name, app.version, app.dir.string(), app.replaced});
}

std::size_t DeployService::recycle(std::string_view name, std::string_view version, bool force,
                                   std::vector<pool::WorkerId>& ids) {
    const auto now = base::Clock::now();
    const std::string prefix = std::string(name) + "@";
    std::size_t n = 0;
    for (auto id : host_.livePooledWorkers()) {
        const auto w = host_.live(id);
        if (!w || !w->key.starts_with(prefix)) continue;
        if (!version.empty() && std::string_view(w->key).substr(prefix.size()) != version) continue;
        dispatcher_.apply(pool_.markUnhealthy(id, now), now);
        if (force) host_.kill(id);
        ids.push_back(id);
        ++n;
    }
    return n;
}

admin::SupervisorView::RemoveOutcome DeployService::remove(std::string_view name, std::string_view version,
                                                           bool force) {
    admin::SupervisorView::RemoveOutcome out;
    std::vector<fs::path> dirs;
    std::vector<std::string> versions;
    for (const auto& app : router_.listApps()) {
        if (app.name != name) continue;
        for (const auto& v : app.versions) {
            if (!version.empty() && v.version != version) continue;
            // A nested app's whole directory goes with its last version.
            dirs.push_back(version.empty() && v.layout == router::Layout::Nested ? v.dir.parent_path() : v.dir);
            versions.push_back(v.version);
        }
    }
    std::sort(dirs.begin(), dirs.end());
    dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
    if (dirs.empty()) {
        out.status = 404;
        out.code = "NOT_FOUND";
        out.message = "no app " + std::string(name) + (version.empty() ? "" : "@" + std::string(version));
        return out;
    }
    std::vector<fs::path> trash;
    for (const auto& dir : dirs) {
        auto moved = deploy::moveToTrash(dir);
        if (!moved) {
            out.status = moved.error().status;
            out.code = moved.error().code;
            out.message = "cannot remove " + dir.string() + ": " + moved.error().message;
            // What moved already stays removed: say so rather than half-undo.
            if (!trash.empty()) out.message += " (" + std::to_string(trash.size()) + " other director(ies) removed)";
            break;
        }
        trash.push_back(*moved);
    }
    router_.clearCaches();
    std::vector<pool::WorkerId> ids;
    const auto n = recycle(name, version, force, ids);
    deleteWhenExited(
        std::move(ids), std::move(trash),
        base::Clock::now() + config_.shutdown_timeout + config_.terminate_grace + std::chrono::seconds(60));
    if (out.status != 501) return out;
    out.status = 200;
    out.removed = admin::RemovedReply{true, std::string(name), std::move(versions), force ? 0 : n, force ? n : 0};
    return out;
}

void DeployService::deleteWhenExited(std::vector<pool::WorkerId> ids, std::vector<fs::path> trash,
                                     base::TimePoint give_up) {
    const bool running = std::any_of(ids.begin(), ids.end(), [&](auto id) { return host_.live(id).has_value(); });
    if (running && base::Clock::now() < give_up) {
        auto timer = std::make_shared<asio::steady_timer>(core_, kDeletePoll);
        timer->async_wait([this, timer, ids = std::move(ids), trash = std::move(trash), give_up,
                           alive = alive_](boost::system::error_code ec) mutable {
            if (!ec && *alive) deleteWhenExited(std::move(ids), std::move(trash), give_up);
        });
        return;
    }
    for (auto& dir : trash) asio::post(thread_, [dir = std::move(dir)] { deploy::removeTree(dir); });
}

std::optional<std::size_t> DeployService::reloadApp(std::string_view name) {
    bool known = false;
    for (const auto& app : router_.listApps()) known = known || app.name == name;
    router_.clearCaches();
    std::vector<pool::WorkerId> ids;
    const auto n = recycle(name, {}, false, ids);
    if (!known && n == 0) return std::nullopt;
    return n;
}

}  // namespace buntime::supervisor

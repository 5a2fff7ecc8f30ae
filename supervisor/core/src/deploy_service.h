// SPDX-License-Identifier: MIT
// The deploy API's core half: reads an upload's body on the core loop, installs it on a
// worker thread (supervisor/deploy), answers back on the loop; removes apps (out of the
// router at once, files deleted once their workers exited); recycles one app's workers.
//
// Core loop only (the worker thread touches only the upload bytes and the file system).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "asio_worker_host.h"
#include "buntime/admin/routes.h"
#include "buntime/deploy/installer.h"
#include "buntime/pool/worker_pool.h"
#include "buntime/router/router.h"
#include "buntime/supervisor/client.h"
#include "buntime/supervisor/config.h"
#include "dispatcher.h"

namespace buntime::supervisor {

class DeployService {
public:
    static constexpr std::size_t kMaxConcurrentUploads = 2;  // one installs, one waits; more: 503

    DeployService(boost::asio::io_context& core, const SupervisorConfig& config, router::Router& router,
                  pool::WorkerPool& pool, Dispatcher& dispatcher, AsioWorkerHost& host);
    ~DeployService();  // waits for the install in progress (bounded by the archive limits)

    // POST <api>/apps, already authorised (`who` names the key for the log).
    void upload(const std::shared_ptr<Client>& client, std::string who);
    admin::SupervisorView::RemoveOutcome remove(std::string_view name, std::string_view version, bool force);
    std::optional<std::size_t> reloadApp(std::string_view name);

private:
    struct Upload;
    void readMore(const std::shared_ptr<Upload>& upload);
    void installed(const std::shared_ptr<Upload>& upload,
                   base::Expected<deploy::Installed, deploy::DeployError> result);
    // Marks the live pooled workers of name@version (every version when empty) unhealthy,
    // or kills them with `force`; appends their ids to `ids`.
    std::size_t recycle(std::string_view name, std::string_view version, bool force, std::vector<pool::WorkerId>& ids);
    void deleteWhenExited(std::vector<pool::WorkerId> ids, std::vector<std::filesystem::path> trash,
                          base::TimePoint give_up);

    boost::asio::io_context& core_;
    const SupervisorConfig& config_;
    router::Router& router_;
    pool::WorkerPool& pool_;
    Dispatcher& dispatcher_;
    AsioWorkerHost& host_;
    std::vector<std::filesystem::path> roots_;
    std::size_t uploads_ = 0;  // reading or installing
    boost::asio::thread_pool thread_{1};
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace buntime::supervisor

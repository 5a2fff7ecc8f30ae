// SPDX-License-Identifier: MIT
// Runtime: the supervisor embedded in another program (the perf harness), with direct mode.
#include "buntime/supervisor/runtime.h"

#include "buntime/supervisor/supervisor.h"

namespace buntime::supervisor {
namespace {

// An in-memory client: the request is given whole, the response is collected whole.
class DirectClient final : public Client {
public:
    DirectClient(DirectRequest request, std::function<void(DirectResponse)> done)
        : body_(std::move(request.body)), done_(std::move(done)) {
        head_.method = std::move(request.method);
        head_.target = std::move(request.target);
        head_.headers = std::move(request.headers);
        head_.content_length = body_.size();
        head_.remote = "direct";
        const std::string* id = head_.find("x-request-id");
        head_.request_id = id && http::isValidRequestId(*id) ? *id : http::newRequestId();
    }

    const http::RequestHead& head() const override { return head_; }
    void setBodyLimit(std::uint64_t limit) override {
        if (body_.size() > limit && !finished_) {
            too_large_ = true;
            respond(413, {{"content-type", "application/json"}},
                    R"({"error":"PAYLOAD_TOO_LARGE","message":"request body exceeds maxBodySize"})");
        }
    }
    void readBody(http::BodyCallback cb) override {
        if (too_large_) return cb({http::BodyStatus::TooLarge, {}});
        if (!body_given_ && !body_.empty()) {
            body_given_ = true;
            return cb({http::BodyStatus::Data, {reinterpret_cast<const std::byte*>(body_.data()), body_.size()}});
        }
        cb({http::BodyStatus::End, {}});
    }
    void respond(unsigned status, http::Headers headers, std::string body) override {
        if (finished_) return;
        response_.status = static_cast<int>(status);
        response_.headers = std::move(headers);
        response_.body = std::move(body);
        complete();
    }
    void startResponse(unsigned status, http::Headers headers, std::optional<std::uint64_t>) override {
        response_.status = static_cast<int>(status);
        response_.headers = std::move(headers);
    }
    void writeBody(std::string data, http::WriteCallback done) override {
        response_.body += data;
        if (done) done(!finished_);
    }
    void endResponse() override { complete(); }
    void onClientGone(std::function<void()>) override {}
    void abort() override {
        if (finished_) return;
        response_.status = 0;  // the harness counts it as an error
        complete();
    }
    void setLogFields(std::string, int) override {}

private:
    void complete() {
        if (finished_) return;
        finished_ = true;
        response_.headers.emplace_back("x-request-id", head_.request_id);
        if (done_) done_(std::move(response_));
    }
    http::RequestHead head_;
    std::string body_;
    bool body_given_ = false;
    bool too_large_ = false;
    bool finished_ = false;
    std::function<void(DirectResponse)> done_;
    DirectResponse response_;
};

}  // namespace

SupervisorConfig embeddedConfig() {
    SupervisorConfig c;
    c.port = 0;
    c.bind = "127.0.0.1";
    c.access_log = "off";
    const char* level = std::getenv("RUNTIME_LOG_LEVEL");
    c.log_level = base::parseLogLevel(level ? level : "warn").value_or(base::LogLevel::Warn);
    return c;
}

struct Runtime::Impl {
    SupervisorConfig config;
    std::unique_ptr<Supervisor> supervisor;
    bool running = false;
};

Runtime::Runtime(SupervisorConfig config) : impl_(std::make_unique<Impl>()) { impl_->config = std::move(config); }

Runtime::~Runtime() { stop(); }

base::Expected<void, std::string> Runtime::start() {
    impl_->supervisor = std::make_unique<Supervisor>(impl_->config, currentEnvironment());
    if (auto started = impl_->supervisor->start(false); !started) {
        impl_->supervisor.reset();
        return std::move(started).error();
    }
    impl_->supervisor->runInThreads();
    impl_->running = true;
    return {};
}

std::uint16_t Runtime::port() const { return impl_->supervisor ? impl_->supervisor->port() : 0; }

void Runtime::stop() {
    if (!impl_->running) return;
    impl_->running = false;
    impl_->supervisor->requestShutdown();
    impl_->supervisor->join();
    impl_->supervisor.reset();
}

void Runtime::direct(DirectRequest request, std::function<void(DirectResponse)> done) {
    impl_->supervisor->submit(std::make_shared<DirectClient>(std::move(request), std::move(done)));
}

admin::MetricsView Runtime::metrics() const { return impl_->supervisor->metrics(); }
IpcCounters Runtime::ipcCounters() const { return impl_->supervisor->ipcCounters(); }

}  // namespace buntime::supervisor

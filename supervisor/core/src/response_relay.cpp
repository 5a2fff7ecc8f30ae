// SPDX-License-Identifier: MIT
// Response head and body relay with client backpressure.
#include "response_relay.h"

#include "buntime/base/log.h"
#include "buntime/proto/stream.h"

namespace buntime::supervisor {

ResponseRelay::Result ResponseRelay::onHead(const std::shared_ptr<Call>& call, const shm::FrameView& frame,
                                            std::uint64_t now_ns) {
    auto head = proto::decodeResponseHead(frame.head);
    if (!head) return {Step::Malformed, pool::Outcome::AppError};
    stats_.recordResponse(*head, call->sent_ns, now_ns);

    http::Headers headers;
    headers.reserve(head->headers.size());
    for (auto& h : head->headers) headers.emplace_back(std::move(h.first), std::move(h.second));
    call->state = CallState::Responding;
    const bool complete = !proto::hasMore(frame.header);
    if (complete && call->client->head().isHead() && head->content_length > 0 && frame.body.empty()) {
        // HEAD keeps the real length without a body.
        call->client->startResponse(head->status, std::move(headers), static_cast<std::uint64_t>(head->content_length));
        call->client->endResponse();
        return {Step::Complete, pool::Outcome::Ok};
    }
    if (complete) {
        std::string body(reinterpret_cast<const char*>(frame.body.data()), frame.body.size());
        call->client->respond(head->status, std::move(headers), std::move(body));
        return {Step::Complete, head->status >= 500 ? pool::Outcome::AppError : pool::Outcome::Ok};
    }
    std::optional<std::uint64_t> length;
    if (head->content_length >= 0) length = static_cast<std::uint64_t>(head->content_length);
    call->client->startResponse(head->status, std::move(headers), length);
    if (!frame.body.empty()) writeBody(call, frame.body);
    return {Step::More, pool::Outcome::Ok};
}

ResponseRelay::Result ResponseRelay::onBody(const std::shared_ptr<Call>& call, const shm::FrameView& frame) {
    if (call->state != CallState::Responding) {
        base::logWarn("ipc", "worker " + call->app.key + " sent body before head; dropped");
        return {Step::More, pool::Outcome::Ok};
    }
    if (!frame.body.empty()) writeBody(call, frame.body);
    if (proto::hasMore(frame.header)) return {Step::More, pool::Outcome::Ok};
    call->client->endResponse();
    return {Step::Complete, pool::Outcome::Ok};
}

void ResponseRelay::writeBody(const std::shared_ptr<Call>& call, std::span<const std::byte> body) {
    call->client_backlog += body.size();
    std::string chunk(reinterpret_cast<const char*>(body.data()), body.size());
    call->client->writeBody(std::move(chunk), [this, call, n = body.size()](bool) {
        call->client_backlog -= n;
        if (call->paused_worker && call->client_backlog <= kClientBacklogLimit / 2) release(*call);
    });
    if (!call->paused_worker && call->client_backlog > kClientBacklogLimit) {
        // A slow client: stop reading this worker's ring; the worker then waits on a full ring.
        call->paused_worker = true;
        host_.pauseReading(call->worker);
    }
}

void ResponseRelay::release(Call& call) {
    if (!call.paused_worker) return;
    call.paused_worker = false;
    host_.resumeReading(call.worker);
}

}  // namespace buntime::supervisor

// SPDX-License-Identifier: MIT
// An in-memory Client for dispatcher tests: a request head and body given piece by piece,
// and everything the dispatcher answers recorded. Write completions can be held back to
// play a slow client.
#pragma once

#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "buntime/supervisor/client.h"

namespace buntime::supervisor::test {

class FakeClient final : public Client {
public:
    explicit FakeClient(std::string method, std::string target, std::optional<std::uint64_t> content_length = {}) {
        head_.method = std::move(method);
        head_.target = std::move(target);
        head_.content_length = content_length;
        head_.request_id = "req-" + head_.target;
        head_.remote = "test";
    }

    http::RequestHead& mutableHead() { return head_; }

    // Body pieces the client "sends"; `end` marks the body complete.
    void push(std::string piece) {
        chunks_.push_back(std::move(piece));
        deliver();
    }
    void endBody() {
        body_ended_ = true;
        deliver();
    }
    void failBody(http::BodyStatus status) {
        body_error_ = status;
        deliver();
    }
    void leave() {
        if (gone_) gone_();
    }
    // Holds write completions until release(); `bytes` is how much to release (all by default).
    void holdWrites(bool hold) { hold_writes_ = hold; }
    std::size_t releaseWrites(std::size_t bytes = SIZE_MAX) {
        std::size_t released = 0;
        while (!held_.empty() && released < bytes) {
            auto [n, done] = std::move(held_.front());
            held_.pop_front();
            released += n;
            if (done) done(true);
        }
        return released;
    }

    // The connection closed: every held completion learns the failure, as http::Connection
    // does on close. This also frees the completions' references to the dispatcher's call
    // (which owns this client), a cycle otherwise.
    void closeWrites() {
        hold_writes_ = false;
        auto held = std::move(held_);
        held_.clear();
        for (auto& [n, done] : held)
            if (done) done(false);
        // The pending body read and the gone callback are dropped too, as on a real close
        // (they also hold the call); moved out first, since the call may own this client.
        auto read = std::move(pending_read_);
        auto gone = std::move(gone_);
        pending_read_ = nullptr;
        gone_ = nullptr;
    }
    std::size_t heldWrites() const { return held_.size(); }

    // Client
    const http::RequestHead& head() const override { return head_; }
    void setBodyLimit(std::uint64_t limit) override {
        body_limit = limit;
        if (head_.content_length && *head_.content_length > limit) respond(413, {}, "too large");
    }
    void readBody(http::BodyCallback callback) override {
        ++read_calls;
        pending_read_ = std::move(callback);
        deliver();
    }
    void respond(unsigned s, http::Headers h, std::string b) override {
        ++responses;
        status = s;
        headers = std::move(h);
        body = std::move(b);
        ended = true;
    }
    void startResponse(unsigned s, http::Headers h, std::optional<std::uint64_t> length) override {
        ++responses;
        status = s;
        headers = std::move(h);
        declared_length = length;
    }
    void writeBody(std::string data, http::WriteCallback done) override {
        body += data;
        if (hold_writes_)
            held_.emplace_back(data.size(), std::move(done));
        else if (done)
            done(true);
    }
    void endResponse() override { ended = true; }
    void onClientGone(std::function<void()> callback) override { gone_ = std::move(callback); }
    void abort() override { aborted = true; }
    void setLogFields(std::string app, int pid) override {
        log_app = std::move(app);
        log_pid = pid;
    }

    std::string header(std::string_view name) const {
        for (const auto& [k, v] : headers)
            if (k == name) return v;
        return {};
    }

    // What the dispatcher did.
    int responses = 0;
    unsigned status = 0;
    http::Headers headers;
    std::string body;
    std::optional<std::uint64_t> declared_length;
    bool ended = false;
    bool aborted = false;
    int read_calls = 0;
    std::uint64_t body_limit = 0;
    std::string log_app;
    int log_pid = -1;

private:
    void deliver() {
        if (!pending_read_) return;
        if (!chunks_.empty()) {
            auto cb = std::move(pending_read_);
            pending_read_ = nullptr;
            const std::string piece = std::move(chunks_.front());
            chunks_.pop_front();
            cb({http::BodyStatus::Data, {reinterpret_cast<const std::byte*>(piece.data()), piece.size()}});
        } else if (body_error_) {
            auto cb = std::move(pending_read_);
            pending_read_ = nullptr;
            cb({*body_error_, {}});
        } else if (body_ended_) {
            auto cb = std::move(pending_read_);
            pending_read_ = nullptr;
            cb({http::BodyStatus::End, {}});
        }
    }

    http::RequestHead head_;
    std::deque<std::string> chunks_;
    bool body_ended_ = false;
    std::optional<http::BodyStatus> body_error_;
    http::BodyCallback pending_read_;
    std::function<void()> gone_;
    bool hold_writes_ = false;
    std::deque<std::pair<std::size_t, http::WriteCallback>> held_;
};

}  // namespace buntime::supervisor::test

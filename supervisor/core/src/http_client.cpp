// SPDX-License-Identifier: MIT
// HttpClient: cross-loop marshalling of body events, write completions and client-gone.
#include "http_client.h"

#include <boost/asio/post.hpp>

namespace buntime::supervisor {

void HttpClient::readBody(http::BodyCallback callback) {
    exchange_->readBody([core = &core_, callback = std::move(callback)](const http::BodyEvent& ev) {
        if (core->get_executor().running_in_this_thread()) {
            callback(ev);
            return;
        }
        // The bytes are valid during this call only: copy them for the core loop.
        std::string copy(reinterpret_cast<const char*>(ev.data.data()), ev.data.size());
        boost::asio::post(*core, [callback, status = ev.status, copy = std::move(copy)] {
            callback(http::BodyEvent{status, {reinterpret_cast<const std::byte*>(copy.data()), copy.size()}});
        });
    });
}

void HttpClient::writeBody(std::string data, http::WriteCallback done) {
    if (done) {
        done = [core = &core_, done = std::move(done)](bool ok) {
            if (core->get_executor().running_in_this_thread())
                done(ok);
            else
                boost::asio::post(*core, [done, ok] { done(ok); });
        };
    }
    exchange_->writeBodyCopy(std::move(data), std::move(done));
}

void HttpClient::onClientGone(std::function<void()> callback) {
    exchange_->onClientGone([core = &core_, callback = std::move(callback)] { boost::asio::post(*core, callback); });
}

}  // namespace buntime::supervisor

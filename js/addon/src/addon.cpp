// SPDX-License-Identifier: MIT
// buntime_js.node: the Node-API face of Port (port.h) for the JavaScript worker (js/runtime).
//
// open(onEvents, maxBody) starts a reader thread that hands JavaScript each batch of events
// with one thread-safe function call. The send functions write one frame each and return
// the body bytes taken, or -1 (ring full: call armSpace and wait for a Space event), -2
// (supervisor gone), -3 (head too large). Event arrays (index 0 is the type):
//   [0 Request, id, method, path, query, base, requestId, headers[n,v,...], contentLength, body, more, receivedNs]
//   [1 Body, id, chunk, more, tooLarge]   [2 Cancel, id]   [3 Idle]   [4 Terminate, graceMs]
//   [5 Closed, reason]   [6 Space]
// Strings that carry request bytes (method, path, query, header names and values) are Latin-1,
// one char per byte, as Node and Bun treat header bytes: nothing a client sends can fail here.
#include <node_api.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "buntime/base/log.h"
#include "buntime/proto/launch.h"
#include "port.h"

namespace buntime::js {
namespace {

using namespace std::chrono_literals;

struct State {
    std::unique_ptr<Port> port;
    napi_threadsafe_function tsfn = nullptr;
    std::thread reader;
    std::thread space;

    std::mutex mutex;  // guards pending, space_wanted, stopping
    std::condition_variable space_cv;
    std::vector<Event> pending;
    std::size_t space_wanted = 0;  // bytes; 0: nobody waits
    bool stopping = false;
    std::atomic<bool> scheduled{false};
};

State* g_state = nullptr;

void publish(State& s, std::vector<Event>& events) {
    if (events.empty()) return;
    {
        std::lock_guard lock(s.mutex);
        if (s.pending.empty())
            s.pending.swap(events);
        else
            for (auto& e : events) s.pending.push_back(std::move(e));
    }
    events.clear();
    if (!s.scheduled.exchange(true)) napi_call_threadsafe_function(s.tsfn, nullptr, napi_tsfn_nonblocking);
}

void readerLoop(State* s) {
    std::vector<Event> events;
    while (s->port->poll(events, 200ms)) publish(*s, events);
    publish(*s, events);  // the Closed event
}

void spaceLoop(State* s) {
    for (;;) {
        std::size_t bytes = 0;
        {
            std::unique_lock lock(s->mutex);
            s->space_cv.wait(lock, [s] { return s->stopping || s->space_wanted != 0; });
            if (s->stopping) return;
            bytes = s->space_wanted;
        }
        while (!s->port->armSpace(bytes) && s->port->alive()) {
            pollfd p{s->port->spaceBell(), POLLIN, 0};
            ::poll(&p, 1, 100);
            shm::Channel::drainBell(p.fd);
        }
        {
            std::lock_guard lock(s->mutex);
            s->space_wanted = 0;
        }
        std::vector<Event> one(1);
        one[0].type = Event::Type::Space;
        publish(*s, one);
    }
}

// --- value helpers ---------------------------------------------------------------------

napi_value num(napi_env env, double v) {
    napi_value out;
    napi_create_double(env, v, &out);
    return out;
}
napi_value boolean(napi_env env, bool v) {
    napi_value out;
    napi_get_boolean(env, v, &out);
    return out;
}
napi_value latin1(napi_env env, std::string_view s) {
    napi_value out;
    napi_create_string_latin1(env, s.data(), s.size(), &out);
    return out;
}
napi_value utf8(napi_env env, std::string_view s) {
    napi_value out;
    napi_create_string_utf8(env, s.data(), s.size(), &out);
    return out;
}
napi_value bytes(napi_env env, const std::vector<std::byte>& b) {
    napi_value out;
    void* data = nullptr;
    napi_create_buffer_copy(env, b.size(), b.data(), &data, &out);
    return out;
}
napi_value undefined(napi_env env) {
    napi_value out;
    napi_get_undefined(env, &out);
    return out;
}
napi_value array(napi_env env, std::initializer_list<napi_value> items) {
    napi_value out;
    napi_create_array_with_length(env, items.size(), &out);
    std::uint32_t i = 0;
    for (napi_value v : items) napi_set_element(env, out, i++, v);
    return out;
}

napi_value toJs(napi_env env, const Event& e) {
    switch (e.type) {
    case Event::Type::Request: {
        napi_value headers;
        napi_create_array_with_length(env, e.head.headers.size() * 2, &headers);
        std::uint32_t i = 0;
        for (const auto& [name, value] : e.head.headers) {
            napi_set_element(env, headers, i++, latin1(env, name));
            napi_set_element(env, headers, i++, latin1(env, value));
        }
        return array(env, {num(env, 0), num(env, double(e.id)), latin1(env, e.head.method), latin1(env, e.head.path),
                           latin1(env, e.head.query), latin1(env, e.head.base), latin1(env, e.head.request_id), headers,
                           num(env, double(e.head.content_length)), bytes(env, e.body), boolean(env, e.more),
                           num(env, double(e.received_ns))});
    }
    case Event::Type::Body:
        return array(env, {num(env, 1), num(env, double(e.id)), bytes(env, e.body), boolean(env, e.more),
                           boolean(env, e.too_large)});
    case Event::Type::Cancel: return array(env, {num(env, 2), num(env, double(e.id))});
    case Event::Type::Idle: return array(env, {num(env, 3)});
    case Event::Type::Terminate: return array(env, {num(env, 4), num(env, double(e.grace_ms))});
    case Event::Type::Closed: return array(env, {num(env, 5), utf8(env, e.reason)});
    case Event::Type::Space: return array(env, {num(env, 6)});
    }
    return undefined(env);
}

void callJs(napi_env env, napi_value callback, void*, void*) {
    if (!env || !g_state) return;
    std::vector<Event> batch;
    {
        std::lock_guard lock(g_state->mutex);
        batch.swap(g_state->pending);
        g_state->scheduled.store(false);
    }
    if (batch.empty()) return;
    napi_value list;
    napi_create_array_with_length(env, batch.size(), &list);
    for (std::uint32_t i = 0; i < batch.size(); ++i) napi_set_element(env, list, i, toJs(env, batch[i]));
    napi_value global;
    napi_get_global(env, &global);
    napi_call_function(env, global, callback, 1, &list, nullptr);
}

// --- argument helpers --------------------------------------------------------------------

struct Args {
    napi_value v[8];
    std::size_t n = 8;
};
Args args(napi_env env, napi_callback_info info) {
    Args a;
    napi_get_cb_info(env, info, &a.n, a.v, nullptr, nullptr);
    for (std::size_t i = a.n; i < 8; ++i) a.v[i] = undefined(env);
    return a;
}
double toNum(napi_env env, napi_value v) {
    double d = 0;
    napi_get_value_double(env, v, &d);
    return d;
}
bool toBool(napi_env env, napi_value v) {
    bool b = false;
    napi_get_value_bool(env, v, &b);
    return b;
}
// Latin-1 (one byte per char) or UTF-8 text of a JS string.
std::string toStr(napi_env env, napi_value v, bool as_latin1) {
    std::size_t len = 0;
    auto get = as_latin1 ? napi_get_value_string_latin1 : napi_get_value_string_utf8;
    if (get(env, v, nullptr, 0, &len) != napi_ok) return {};
    std::string out(len, '\0');
    get(env, v, out.data(), len + 1, &len);
    out.resize(len);
    return out;
}
std::span<const std::byte> toBytes(napi_env env, napi_value v, double offset) {
    bool is_typed = false;
    napi_is_typedarray(env, v, &is_typed);
    if (!is_typed) return {};
    napi_typedarray_type type;
    std::size_t length = 0;
    void* data = nullptr;
    napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr);
    if (type != napi_uint8_array || !data) return {};
    const auto skip = std::min<std::size_t>(length, offset > 0 ? static_cast<std::size_t>(offset) : 0);
    return {static_cast<const std::byte*>(data) + skip, length - skip};
}
napi_value fail(napi_env env, const std::string& message) {
    napi_throw_error(env, nullptr, message.c_str());
    return nullptr;
}
State* need(napi_env env) {
    if (!g_state) napi_throw_error(env, nullptr, "buntime_js: open() first");
    return g_state;
}

// --- exported functions ------------------------------------------------------------------

// open(onEvents, maxBody) -> { maxPayload }
napi_value jsOpen(napi_env env, napi_callback_info info) {
    if (g_state) return fail(env, "buntime_js: already open");
    Args a = args(env, info);
    base::setLogLevelFromEnv();
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);  // die with the supervisor
    const char* fds = std::getenv(proto::kChannelEnv);
    if (!fds) return fail(env, std::string(proto::kChannelEnv) + " is not set (started outside the supervisor?)");
    auto port = Port::open(fds, static_cast<std::uint64_t>(toNum(env, a.v[1])));
    if (!port) return fail(env, port.error());
    auto* s = new State();
    s->port = std::move(*port);
    napi_value name = utf8(env, "buntime_js.events");
    if (napi_create_threadsafe_function(env, a.v[0], nullptr, name, 0, 1, nullptr, nullptr, nullptr, callJs,
                                        &s->tsfn) != napi_ok) {
        delete s;
        return fail(env, "buntime_js: cannot create the event function");
    }
    g_state = s;
    s->reader = std::thread(readerLoop, s);
    s->space = std::thread(spaceLoop, s);
    s->reader.detach();  // they end with the process (the worker exits, never unloads us)
    s->space.detach();
    napi_value out;
    napi_create_object(env, &out);
    napi_set_named_property(env, out, "maxPayload", num(env, double(s->port->maxPayload())));
    return out;
}

// sendHead(id, status, headers[], contentLength, body, offset, last, receivedNs) -> taken | code
napi_value jsSendHead(napi_env env, napi_callback_info info) {
    State* s = need(env);
    if (!s) return nullptr;
    Args a = args(env, info);
    std::vector<std::string> headers;
    std::uint32_t count = 0;
    napi_get_array_length(env, a.v[2], &count);
    headers.reserve(count);
    for (std::uint32_t i = 0; i < count; ++i) {
        napi_value item;
        napi_get_element(env, a.v[2], i, &item);
        headers.push_back(toStr(env, item, true));
    }
    const long rc = s->port->sendHead(
        static_cast<std::uint64_t>(toNum(env, a.v[0])), static_cast<std::uint16_t>(toNum(env, a.v[1])), headers,
        static_cast<std::int64_t>(toNum(env, a.v[3])), toBytes(env, a.v[4], toNum(env, a.v[5])), toBool(env, a.v[6]),
        static_cast<std::uint64_t>(toNum(env, a.v[7])));
    return num(env, double(rc));
}

// sendBody(id, body, offset, last) -> taken | code
napi_value jsSendBody(napi_env env, napi_callback_info info) {
    State* s = need(env);
    if (!s) return nullptr;
    Args a = args(env, info);
    const long rc = s->port->sendBody(static_cast<std::uint64_t>(toNum(env, a.v[0])),
                                      toBytes(env, a.v[1], toNum(env, a.v[2])), toBool(env, a.v[3]));
    return num(env, double(rc));
}

// sendError(id, reason) -> 0 | code
napi_value jsSendError(napi_env env, napi_callback_info info) {
    State* s = need(env);
    if (!s) return nullptr;
    Args a = args(env, info);
    return num(env,
               double(s->port->sendError(static_cast<std::uint64_t>(toNum(env, a.v[0])), toStr(env, a.v[1], false))));
}

// sendReady(concurrency) -> bool
napi_value jsSendReady(napi_env env, napi_callback_info info) {
    State* s = need(env);
    if (!s) return nullptr;
    Args a = args(env, info);
    return boolean(env, s->port->sendReady(static_cast<std::uint32_t>(toNum(env, a.v[0]))));
}

// sendInitFailed(reason) -> bool; works before open() too (it opens the channel for it).
napi_value jsSendInitFailed(napi_env env, napi_callback_info info) {
    Args a = args(env, info);
    const std::string reason = toStr(env, a.v[0], false);
    if (g_state) return boolean(env, g_state->port->sendInitFailed(reason));
    const char* fds = std::getenv(proto::kChannelEnv);
    if (!fds) return boolean(env, false);
    auto port = Port::open(fds, 0);
    return boolean(env, port && (*port)->sendInitFailed(reason));
}

// armSpace(bytes): a Space event follows once that much payload fits the ring.
napi_value jsArmSpace(napi_env env, napi_callback_info info) {
    State* s = need(env);
    if (!s) return nullptr;
    Args a = args(env, info);
    {
        std::lock_guard lock(s->mutex);
        s->space_wanted = std::max<std::size_t>(1, static_cast<std::size_t>(toNum(env, a.v[0])));
    }
    s->space_cv.notify_one();
    return undefined(env);
}

// log(level, category, message): one line in the runtime's format, filtered by RUNTIME_LOG_LEVEL.
napi_value jsLog(napi_env env, napi_callback_info info) {
    Args a = args(env, info);
    const auto level = base::parseLogLevel(toStr(env, a.v[0], false)).value_or(base::LogLevel::Info);
    if (base::logEnabled(level)) base::logLine(level, toStr(env, a.v[1], false), toStr(env, a.v[2], false));
    return undefined(env);
}

// logEnabled(level) -> bool
napi_value jsLogEnabled(napi_env env, napi_callback_info info) {
    Args a = args(env, info);
    base::setLogLevelFromEnv();
    return boolean(env,
                   base::logEnabled(base::parseLogLevel(toStr(env, a.v[0], false)).value_or(base::LogLevel::Info)));
}

napi_value init(napi_env env, napi_value exports) {
    const napi_property_descriptor props[] = {
        {"open", nullptr, jsOpen, nullptr, nullptr, nullptr, napi_default, nullptr},
        {"sendHead", nullptr, jsSendHead, nullptr, nullptr, nullptr, napi_default, nullptr},
        {"sendBody", nullptr, jsSendBody, nullptr, nullptr, nullptr, napi_default, nullptr},
        {"sendError", nullptr, jsSendError, nullptr, nullptr, nullptr, napi_default, nullptr},
        {"sendReady", nullptr, jsSendReady, nullptr, nullptr, nullptr, napi_default, nullptr},
        {"sendInitFailed", nullptr, jsSendInitFailed, nullptr, nullptr, nullptr, napi_default, nullptr},
        {"armSpace", nullptr, jsArmSpace, nullptr, nullptr, nullptr, napi_default, nullptr},
        {"log", nullptr, jsLog, nullptr, nullptr, nullptr, napi_default, nullptr},
        {"logEnabled", nullptr, jsLogEnabled, nullptr, nullptr, nullptr, napi_default, nullptr},
    };
    napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
    return exports;
}

}  // namespace
}  // namespace buntime::js

NAPI_MODULE(buntime_js, buntime::js::init)

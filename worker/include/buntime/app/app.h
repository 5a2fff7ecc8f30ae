// SPDX-License-Identifier: MIT
// The Buntime app SDK: a small C ABI (stable across compilers) plus a header-only C++ layer.
//
// An app is either a shared object exporting
//     extern "C" const buntime_app_v1* buntime_app(void);
// (entrypoint app.so, loaded by buntime-worker with dlopen), or an executable named `app`
// whose main() calls buntime_serve() from the host library (buntime-worker execve()s it,
// same pid). Host services reach the app as a table of C function pointers
// (buntime_host_v1), so an app.so needs no symbols from the host.
//
// Handler styles:
//   BUNTIME_STYLE_BLOCKING  handle() runs on one of the worker's `threads` pool threads;
//                           when it returns, the host ends the response if the app did not.
//   BUNTIME_STYLE_ASYNC     handle() runs inline on the worker's I/O thread and must not
//                           block; the response is completed later, from any thread, with
//                           end() (use after() to wait without holding a thread).
//
// Handle lifetime and threading: a request/response pair stays valid until end() (or
// fail()) returns for it; afterwards neither pointer may be touched. One response must not
// be used from two threads at the same time. Host functions never throw.
//
// C++ layer (below, when compiled as C++):
//     struct Hello {
//         explicit Hello(const buntime::app::AppInfo& info);        // optional; may throw
//         void handle(buntime::app::Request req, buntime::app::Response res);
//         void onIdle();                                            // optional
//         void onTerminate();                                       // optional
//     };
//     BUNTIME_APP(Hello)            // blocking .so     BUNTIME_ASYNC_APP(Hello)       async .so
//     BUNTIME_APP_MAIN(Hello)       // blocking `app`   BUNTIME_ASYNC_APP_MAIN(Hello)  async `app`
// An exception thrown by the constructor fails init with its what(); one thrown by
// handle() fails that request only (the host answers 500).
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BUNTIME_APP_ABI_VERSION 1u

enum buntime_style { BUNTIME_STYLE_BLOCKING = 0, BUNTIME_STYLE_ASYNC = 1 };

// Return codes of host functions.
enum buntime_status {
    BUNTIME_OK = 0,
    BUNTIME_E_STATE = -1,      // not valid now (after end, status/header after the body started)
    BUNTIME_E_LIMIT = -2,      // a response limit was exceeded: the request fails with a 500
    BUNTIME_E_INVALID = -3,    // bad argument (status out of range, CR/LF in a header...)
    BUNTIME_E_CANCELLED = -4,  // the supervisor cancelled the request: output is dropped
    BUNTIME_E_CLOSED = -5,     // the channel to the supervisor is gone
};

enum buntime_log_level { BUNTIME_LOG_DEBUG = 0, BUNTIME_LOG_INFO = 1, BUNTIME_LOG_WARN = 2, BUNTIME_LOG_ERROR = 3 };

// A borrowed byte range; never NUL-terminated by contract.
typedef struct buntime_str {
    const char* data;
    size_t size;
} buntime_str;

typedef struct buntime_request buntime_request;    // opaque, owned by the host
typedef struct buntime_response buntime_response;  // opaque, owned by the host
typedef void (*buntime_callback)(void* ctx);

typedef struct buntime_app_info {
    buntime_str name;
    buntime_str version;
    buntime_str app_dir;   // absolute path of the app directory
    uint32_t threads;      // size of the handler pool (blocking style)
    uint32_t concurrency;  // max requests in flight
} buntime_app_info;

typedef struct buntime_host_v1 {
    uint32_t abi_version;  // BUNTIME_APP_ABI_VERSION
    uint32_t struct_size;  // sizeof(buntime_host_v1) of the host; fields are only appended

    // --- request accessors (strings stay valid until the response ends) ---
    buntime_str (*method)(const buntime_request* req);
    buntime_str (*target)(const buntime_request* req);      // as received: /app/rest?query
    buntime_str (*path)(const buntime_request* req);        // relative to the app base, starts with '/'
    buntime_str (*query)(const buntime_request* req);       // without '?'
    buntime_str (*base)(const buntime_request* req);        // x-base, e.g. "/app" (no trailing slash)
    buntime_str (*request_id)(const buntime_request* req);  // x-request-id
    // Case-insensitive lookup of the first header with this name: 1 found, 0 not found.
    int (*header)(const buntime_request* req, const char* name, size_t name_len, buntime_str* value);
    size_t (*header_count)(const buntime_request* req);
    int (*header_at)(const buntime_request* req, size_t index, buntime_str* name, buntime_str* value);
    buntime_str (*body)(const buntime_request* req);  // the whole request body

    // --- response ---
    int (*set_status)(buntime_response* res, int status);  // before the first body byte is sent
    int (*add_header)(buntime_response* res, const char* name, size_t name_len, const char* value, size_t value_len);
    // Declares the total body length up front (optional; lets large bodies keep a
    // Content-Length). Writing a different number of bytes fails the request.
    int (*set_length)(buntime_response* res, int64_t length);
    int (*write)(buntime_response* res, const void* data, size_t len);   // may block on a full ring
    int (*end)(buntime_response* res);                                   // sends what is left; frees the handles
    int (*fail)(buntime_response* res, const char* reason, size_t len);  // 500 / error; frees
    int (*cancelled)(const buntime_response* res);                       // 1 if the supervisor cancelled it

    // --- services ---
    // Calls fn(ctx) once, after `ms` milliseconds, on the host's timer thread (must not block).
    int (*after)(uint64_t ms, buntime_callback fn, void* ctx);
    void (*log)(int level, const char* message, size_t len);  // to the worker's stderr log
} buntime_host_v1;

typedef struct buntime_app_v1 {
    uint32_t abi_version;  // BUNTIME_APP_ABI_VERSION
    uint32_t style;        // enum buntime_style
    // Called once before serving. Returns 0 on success; otherwise writes a reason
    // (NUL-terminated, at most reason_cap bytes) and returns non-zero. `host` stays valid
    // for the life of the process. *app_ctx is passed to every other callback.
    int (*init)(const buntime_host_v1* host, const buntime_app_info* info, void** app_ctx, char* reason,
                size_t reason_cap);
    // Returns 0, or non-zero to fail the request (the host answers 500) if not yet ended.
    // The handles stay valid until handle() has returned, even if the response ended.
    int (*handle)(void* app_ctx, buntime_request* req, buntime_response* res);
    void (*on_idle)(void* app_ctx);       // optional (may be NULL): the worker has been idle
    void (*on_terminate)(void* app_ctx);  // optional: the worker is being retired
} buntime_app_v1;

// Exported by an app.so.
typedef const buntime_app_v1* (*buntime_app_fn)(void);

// In the host library (worker_host_dep), for `app` executables: serves `app` over the
// channel named by env BUNTIME_CHANNEL with the argv buntime-worker received. Returns
// (or exits with) the worker's exit status.
int buntime_serve(int argc, char** argv, const buntime_app_v1* app);

#ifdef __cplusplus
}  // extern "C"

#include <chrono>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

namespace buntime::app {

namespace detail {
// Set by the init wrapper; one app per process.
inline const buntime_host_v1* host = nullptr;
inline std::string_view view(buntime_str s) noexcept { return {s.data, s.size}; }
}  // namespace detail

struct AppInfo {
    std::string_view name;
    std::string_view version;
    std::string_view app_dir;
    std::uint32_t threads = 0;
    std::uint32_t concurrency = 0;
};

// A borrowed view of one request; cheap to copy; valid until its Response ends.
class Request {
public:
    explicit Request(buntime_request* req) noexcept : req_(req) {}
    std::string_view method() const noexcept { return detail::view(detail::host->method(req_)); }
    std::string_view target() const noexcept { return detail::view(detail::host->target(req_)); }
    std::string_view path() const noexcept { return detail::view(detail::host->path(req_)); }
    std::string_view query() const noexcept { return detail::view(detail::host->query(req_)); }
    std::string_view base() const noexcept { return detail::view(detail::host->base(req_)); }
    std::string_view requestId() const noexcept { return detail::view(detail::host->request_id(req_)); }
    std::string_view body() const noexcept { return detail::view(detail::host->body(req_)); }
    std::optional<std::string_view> header(std::string_view name) const noexcept {
        buntime_str v{};
        if (detail::host->header(req_, name.data(), name.size(), &v) == 0) return std::nullopt;
        return detail::view(v);
    }
    std::size_t headerCount() const noexcept { return detail::host->header_count(req_); }
    std::pair<std::string_view, std::string_view> headerAt(std::size_t i) const noexcept {
        buntime_str n{}, v{};
        detail::host->header_at(req_, i, &n, &v);
        return {detail::view(n), detail::view(v)};
    }
    // Raw (still percent-encoded) value of the first `key=` in the query string.
    std::optional<std::string_view> queryParam(std::string_view key) const noexcept {
        std::string_view q = query();
        while (!q.empty()) {
            std::size_t amp = q.find('&');
            std::string_view part = q.substr(0, amp);
            std::size_t eq = part.find('=');
            if (part.substr(0, eq) == key)
                return eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1);
            if (amp == std::string_view::npos) break;
            q.remove_prefix(amp + 1);
        }
        return std::nullopt;
    }
    buntime_request* raw() const noexcept { return req_; }

private:
    buntime_request* req_;
};

// A handle to one response; cheap to copy. Methods return BUNTIME_OK or a buntime_status.
// After end() or fail() no copy of it may be used.
class Response {
public:
    explicit Response(buntime_response* res) noexcept : res_(res) {}
    int status(int code) noexcept { return detail::host->set_status(res_, code); }
    int header(std::string_view name, std::string_view value) noexcept {
        return detail::host->add_header(res_, name.data(), name.size(), value.data(), value.size());
    }
    int length(std::int64_t total) noexcept { return detail::host->set_length(res_, total); }
    int write(std::string_view data) noexcept { return detail::host->write(res_, data.data(), data.size()); }
    int end() noexcept { return detail::host->end(res_); }
    int end(std::string_view data) noexcept {
        int rc = write(data);
        int rc2 = end();
        return rc != BUNTIME_OK ? rc : rc2;
    }
    int fail(std::string_view reason) noexcept { return detail::host->fail(res_, reason.data(), reason.size()); }
    bool cancelled() const noexcept { return detail::host->cancelled(res_) != 0; }
    buntime_response* raw() const noexcept { return res_; }

private:
    buntime_response* res_;
};

inline void log(int level, std::string_view message) noexcept {
    if (detail::host) detail::host->log(level, message.data(), message.size());
}

// Calls f() once after `delay` on the host's timer thread; f must not block. An exception
// from f is logged and swallowed.
template <typename F>
int after(std::chrono::milliseconds delay, F&& f) {
    using Fn = std::decay_t<F>;
    auto* holder = new Fn(std::forward<F>(f));
    buntime_callback trampoline = [](void* ctx) {
        std::unique_ptr<Fn> fn(static_cast<Fn*>(ctx));
        try {
            (*fn)();
        } catch (const std::exception& e) {
            log(BUNTIME_LOG_ERROR, e.what());
        } catch (...) {
            log(BUNTIME_LOG_ERROR, "timer callback threw");
        }
    };
    int rc = detail::host->after(static_cast<std::uint64_t>(delay.count() < 0 ? 0 : delay.count()), trampoline, holder);
    if (rc != BUNTIME_OK) delete holder;
    return rc;
}

namespace detail {

inline void copyReason(char* out, std::size_t cap, std::string_view text) noexcept {
    if (cap == 0) return;
    std::size_t n = text.size() < cap - 1 ? text.size() : cap - 1;
    std::memcpy(out, text.data(), n);
    out[n] = '\0';
}

template <typename T>
int initApp(const buntime_host_v1* h, const buntime_app_info* info, void** ctx, char* reason,
            std::size_t cap) noexcept {
    host = h;
    try {
        AppInfo ai{view(info->name), view(info->version), view(info->app_dir), info->threads, info->concurrency};
        if constexpr (std::is_constructible_v<T, const AppInfo&>) {
            *ctx = new T(ai);
        } else {
            *ctx = new T();
        }
        return 0;
    } catch (const std::exception& e) {
        copyReason(reason, cap, e.what());
    } catch (...) {
        copyReason(reason, cap, "init threw an unknown exception");
    }
    return 1;
}

template <typename T>
int handleRequest(void* ctx, buntime_request* req, buntime_response* res) noexcept {
    try {
        Request request(req);
        Response response(res);
        static_cast<T*>(ctx)->handle(request, response);
        return 0;
    } catch (const std::exception& e) {
        host->fail(res, e.what(), std::strlen(e.what()));
    } catch (...) {
        static constexpr char kUnknown[] = "handler threw an unknown exception";
        host->fail(res, kUnknown, sizeof kUnknown - 1);
    }
    return 1;
}

template <typename T>
void idleHook(void* ctx) noexcept {
    try {
        if constexpr (requires(T & t) { t.onIdle(); }) static_cast<T*>(ctx)->onIdle();
    } catch (...) {
        log(BUNTIME_LOG_ERROR, "onIdle threw");
    }
}

template <typename T>
void terminateHook(void* ctx) noexcept {
    try {
        if constexpr (requires(T & t) { t.onTerminate(); }) static_cast<T*>(ctx)->onTerminate();
    } catch (...) {
        log(BUNTIME_LOG_ERROR, "onTerminate threw");
    }
}

// Hooks the app does not define stay NULL: the worker then skips them (an ephemeral
// worker with no onTerminate exits on Terminate without starting a drain thread).
template <typename T, std::uint32_t Style>
const buntime_app_v1* table() noexcept {
    constexpr bool has_idle = requires(T & t) { t.onIdle(); };
    constexpr bool has_terminate = requires(T & t) { t.onTerminate(); };
    static const buntime_app_v1 app{BUNTIME_APP_ABI_VERSION,
                                    Style,
                                    &initApp<T>,
                                    &handleRequest<T>,
                                    has_idle ? &idleHook<T> : nullptr,
                                    has_terminate ? &terminateHook<T> : nullptr};
    return &app;
}

}  // namespace detail
}  // namespace buntime::app

#define BUNTIME_DETAIL_EXPORT_APP(T, STYLE)                                                     \
    extern "C" __attribute__((visibility("default"))) const buntime_app_v1* buntime_app(void) { \
        return ::buntime::app::detail::table<T, STYLE>();                                       \
    }
#define BUNTIME_APP(T) BUNTIME_DETAIL_EXPORT_APP(T, BUNTIME_STYLE_BLOCKING)
#define BUNTIME_ASYNC_APP(T) BUNTIME_DETAIL_EXPORT_APP(T, BUNTIME_STYLE_ASYNC)
#define BUNTIME_APP_MAIN(T)                                                                           \
    int main(int argc, char** argv) {                                                                 \
        return buntime_serve(argc, argv, ::buntime::app::detail::table<T, BUNTIME_STYLE_BLOCKING>()); \
    }
#define BUNTIME_ASYNC_APP_MAIN(T)                                                                  \
    int main(int argc, char** argv) {                                                              \
        return buntime_serve(argc, argv, ::buntime::app::detail::table<T, BUNTIME_STYLE_ASYNC>()); \
    }

#endif  // __cplusplus

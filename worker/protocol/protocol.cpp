// SPDX-License-Identifier: MIT
// Binary encoding of protocol heads: little-endian u32 lengths, strings as length+bytes.
#include "buntime/protocol.h"

#include <time.h>

#include <cstring>

namespace buntime::proto {
namespace {

constexpr std::uint32_t kMaxString = 1u << 24;
constexpr std::uint32_t kMaxHeaders = 10000;

class Writer {
public:
    void u16(std::uint16_t v) { raw(&v, sizeof v); }
    void u32(std::uint32_t v) { raw(&v, sizeof v); }
    void i64(std::int64_t v) { raw(&v, sizeof v); }
    void str(std::string_view s) {
        u32(static_cast<std::uint32_t>(s.size()));
        raw(s.data(), s.size());
    }
    void headers(const std::vector<Header>& hs) {
        u32(static_cast<std::uint32_t>(hs.size()));
        for (const auto& [k, v] : hs) {
            str(k);
            str(v);
        }
    }
    std::vector<std::byte> take() { return std::move(out_); }

private:
    void raw(const void* p, std::size_t n) {
        const auto* b = static_cast<const std::byte*>(p);
        out_.insert(out_.end(), b, b + n);
    }
    std::vector<std::byte> out_;
};

class Reader {
public:
    explicit Reader(std::span<const std::byte> in) : in_(in) {}
    bool ok() const { return ok_; }
    bool done() const { return ok_ && pos_ == in_.size(); }

    template <typename T>
    T num() {
        T v{};
        if (!need(sizeof v)) return v;
        std::memcpy(&v, in_.data() + pos_, sizeof v);
        pos_ += sizeof v;
        return v;
    }
    std::string str() {
        auto n = num<std::uint32_t>();
        if (n > kMaxString || !need(n)) {
            ok_ = false;
            return {};
        }
        std::string s(reinterpret_cast<const char*>(in_.data() + pos_), n);
        pos_ += n;
        return s;
    }
    std::vector<Header> headers() {
        auto n = num<std::uint32_t>();
        std::vector<Header> hs;
        if (n > kMaxHeaders) {
            ok_ = false;
            return hs;
        }
        hs.reserve(n);
        for (std::uint32_t i = 0; i < n && ok_; ++i) {
            auto k = str();
            auto v = str();
            hs.emplace_back(std::move(k), std::move(v));
        }
        return hs;
    }

private:
    bool need(std::size_t n) {
        if (!ok_ || in_.size() - pos_ < n) ok_ = false;
        return ok_;
    }
    std::span<const std::byte> in_;
    std::size_t pos_ = 0;
    bool ok_ = true;
};

} // namespace

std::uint64_t monotonicNs() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::vector<std::byte> encode(const RequestHead& h) {
    Writer w;
    w.str(h.method);
    w.str(h.target);
    w.str(h.path);
    w.str(h.query);
    w.str(h.base);
    w.str(h.request_id);
    w.headers(h.headers);
    w.i64(h.content_length);
    w.i64(static_cast<std::int64_t>(h.sent_ns));
    return w.take();
}

std::vector<std::byte> encode(const ResponseHead& h) {
    Writer w;
    w.u16(h.status);
    w.headers(h.headers);
    w.i64(h.content_length);
    w.i64(static_cast<std::int64_t>(h.request_received_ns));
    w.i64(static_cast<std::int64_t>(h.handler_ns));
    w.i64(static_cast<std::int64_t>(h.sent_ns));
    return w.take();
}

std::vector<std::byte> encode(const ReadyInfo& info) {
    Writer w;
    w.str(info.entrypoint_kind);
    w.u32(info.threads);
    w.u32(info.concurrency);
    return w.take();
}

std::optional<RequestHead> decodeRequestHead(std::span<const std::byte> bytes) {
    Reader r(bytes);
    RequestHead h;
    h.method = r.str();
    h.target = r.str();
    h.path = r.str();
    h.query = r.str();
    h.base = r.str();
    h.request_id = r.str();
    h.headers = r.headers();
    h.content_length = r.num<std::int64_t>();
    h.sent_ns = static_cast<std::uint64_t>(r.num<std::int64_t>());
    if (!r.done()) return std::nullopt;
    return h;
}

std::optional<ResponseHead> decodeResponseHead(std::span<const std::byte> bytes) {
    Reader r(bytes);
    ResponseHead h;
    h.status = r.num<std::uint16_t>();
    h.headers = r.headers();
    h.content_length = r.num<std::int64_t>();
    h.request_received_ns = static_cast<std::uint64_t>(r.num<std::int64_t>());
    h.handler_ns = static_cast<std::uint64_t>(r.num<std::int64_t>());
    h.sent_ns = static_cast<std::uint64_t>(r.num<std::int64_t>());
    if (!r.done() || h.status < 100 || h.status > 999) return std::nullopt;
    return h;
}

std::optional<ReadyInfo> decodeReadyInfo(std::span<const std::byte> bytes) {
    Reader r(bytes);
    ReadyInfo info;
    info.entrypoint_kind = r.str();
    info.threads = r.num<std::uint32_t>();
    info.concurrency = r.num<std::uint32_t>();
    if (!r.done()) return std::nullopt;
    return info;
}

} // namespace buntime::proto

// SPDX-License-Identifier: MIT
// Binary encoding of protocol heads: little-endian u32 lengths, strings as length+bytes.
// One reader and one writer per format; the allocating API wraps the allocation-free one.
#include "buntime/proto/messages.h"

#include <cstring>

namespace buntime::proto {
namespace {

constexpr std::uint32_t kMaxString = 1u << 24;
constexpr std::uint32_t kMaxHeaders = 10000;

class Writer {
public:
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

// Reads into existing strings (assign reuses their capacity). Any short or oversized
// field sets !ok() and every later read is a no-op.
class Reader {
public:
    explicit Reader(std::span<const std::byte> in) : p_(reinterpret_cast<const char*>(in.data())), left_(in.size()) {}
    bool ok() const { return ok_; }
    bool done() const { return ok_ && left_ == 0; }
    template <typename T>
    T num() {
        T v{};
        if (!ok_ || left_ < sizeof v) {
            ok_ = false;
            return v;
        }
        std::memcpy(&v, p_, sizeof v);
        p_ += sizeof v;
        left_ -= sizeof v;
        return v;
    }
    void str(std::string& out) {
        const auto n = num<std::uint32_t>();
        if (!ok_ || n > kMaxString || left_ < n) {
            ok_ = false;
            return;
        }
        out.assign(p_, n);
        p_ += n;
        left_ -= n;
    }
    // [u32 count][name, value]...; reuses the entries `out` already has.
    void headers(std::vector<Header>& out) {
        const auto n = num<std::uint32_t>();
        if (!ok_ || n > kMaxHeaders) {
            ok_ = false;
            return;
        }
        if (out.size() > n) out.resize(n);
        for (std::uint32_t i = 0; i < n && ok_; ++i) {
            if (i == out.size()) out.emplace_back();
            str(out[i].first);
            str(out[i].second);
        }
    }

private:
    const char* p_;
    std::size_t left_;
    bool ok_ = true;
};

}  // namespace

std::string_view toString(Kind kind) noexcept {
    switch (kind) {
    case Kind::Ready: return "Ready";
    case Kind::InitFailed: return "InitFailed";
    case Kind::Request: return "Request";
    case Kind::Response: return "Response";
    case Kind::Error: return "Error";
    case Kind::Cancel: return "Cancel";
    case Kind::Idle: return "Idle";
    case Kind::Terminate: return "Terminate";
    case Kind::Ping: return "Ping";
    case Kind::Pong: return "Pong";
    }
    return "Unknown";
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
    ResponseHeadBuilder b;
    for (const auto& [k, v] : h.headers) b.addHeader(k, v);
    const auto bytes = b.finish(h.status, h.content_length, h.request_received_ns, h.handler_ns, h.sent_ns);
    return {bytes.begin(), bytes.end()};
}

std::vector<std::byte> encode(const ReadyInfo& info) {
    Writer w;
    w.str(info.entrypoint_kind);
    w.u32(info.threads);
    w.u32(info.concurrency);
    return w.take();
}

std::vector<std::byte> encodeToken(std::uint64_t token) {
    std::vector<std::byte> out(8);
    for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = std::byte((token >> (8 * i)) & 0xff);
    return out;
}

std::optional<std::uint64_t> decodeToken(std::span<const std::byte> bytes) noexcept {
    if (bytes.size() != 8) return std::nullopt;
    std::uint64_t token = 0;
    for (int i = 0; i < 8; ++i)
        token |= std::uint64_t(std::to_integer<unsigned char>(bytes[static_cast<std::size_t>(i)])) << (8 * i);
    return token;
}

bool decodeRequestHeadInto(std::span<const std::byte> bytes, RequestHead& out) {
    Reader r(bytes);
    r.str(out.method);
    r.str(out.target);
    r.str(out.path);
    r.str(out.query);
    r.str(out.base);
    r.str(out.request_id);
    r.headers(out.headers);
    out.content_length = r.num<std::int64_t>();
    out.sent_ns = static_cast<std::uint64_t>(r.num<std::int64_t>());
    return r.done();
}

std::optional<RequestHead> decodeRequestHead(std::span<const std::byte> bytes) {
    RequestHead h;
    if (!decodeRequestHeadInto(bytes, h)) return std::nullopt;
    return h;
}

std::optional<ResponseHead> decodeResponseHead(std::span<const std::byte> bytes) {
    Reader r(bytes);
    ResponseHead h;
    h.status = r.num<std::uint16_t>();
    r.headers(h.headers);
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
    r.str(info.entrypoint_kind);
    info.threads = r.num<std::uint32_t>();
    info.concurrency = r.num<std::uint32_t>();
    if (!r.done()) return std::nullopt;
    return info;
}

void ResponseHeadBuilder::reset() {
    buf_.assign(6, '\0');
    count_ = 0;
}

void ResponseHeadBuilder::addHeader(std::string_view name, std::string_view value) {
    const auto nl = static_cast<std::uint32_t>(name.size());
    const auto vl = static_cast<std::uint32_t>(value.size());
    const std::size_t at = buf_.size();
    buf_.resize(at + 8 + name.size() + value.size());
    char* p = buf_.data() + at;
    std::memcpy(p, &nl, 4);
    std::memcpy(p + 4, name.data(), name.size());
    std::memcpy(p + 4 + name.size(), &vl, 4);
    std::memcpy(p + 8 + name.size(), value.data(), value.size());
    ++count_;
}

std::span<const std::byte> ResponseHeadBuilder::finish(std::uint16_t status, std::int64_t content_length,
                                                       std::uint64_t request_received_ns, std::uint64_t handler_ns,
                                                       std::uint64_t sent_ns) {
    std::memcpy(buf_.data(), &status, 2);
    std::memcpy(buf_.data() + 2, &count_, 4);
    const std::size_t at = buf_.size();
    buf_.resize(at + 32);
    const std::int64_t tail[4] = {content_length, static_cast<std::int64_t>(request_received_ns),
                                  static_cast<std::int64_t>(handler_ns), static_cast<std::int64_t>(sent_ns)};
    std::memcpy(buf_.data() + at, tail, sizeof tail);
    return {reinterpret_cast<const std::byte*>(buf_.data()), buf_.size()};
}

}  // namespace buntime::proto

// SPDX-License-Identifier: MIT
// Hot-path codecs matching protocol.cpp's format (little-endian u32 lengths).
#include "buntime/worker/wire.h"

#include <cstring>

namespace buntime::worker::wire {
namespace {

constexpr std::uint32_t kMaxString = 1u << 24;  // as protocol.cpp
constexpr std::uint32_t kMaxHeaders = 10000;    // as protocol.cpp

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

private:
    const char* p_;
    std::size_t left_;
    bool ok_ = true;
};

} // namespace

bool decodeRequestHeadInto(std::span<const std::byte> bytes, proto::RequestHead& out) {
    Reader r(bytes);
    r.str(out.method);
    r.str(out.target);
    r.str(out.path);
    r.str(out.query);
    r.str(out.base);
    r.str(out.request_id);
    const auto n = r.num<std::uint32_t>();
    if (!r.ok() || n > kMaxHeaders) return false;
    if (out.headers.size() > n) out.headers.resize(n);
    for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
        if (i == out.headers.size()) out.headers.emplace_back();
        r.str(out.headers[i].first);
        r.str(out.headers[i].second);
    }
    out.content_length = r.num<std::int64_t>();
    out.sent_ns = static_cast<std::uint64_t>(r.num<std::int64_t>());
    return r.done();
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

} // namespace buntime::worker::wire

// SPDX-License-Identifier: MIT
// ChannelFds text form "memfd,a,b,c,d" (decimal), as passed to a worker in BUNTIME_CHANNEL.
#include <charconv>
#include <climits>

#include "buntime/shm/channel.h"

namespace buntime::shm {

std::string ChannelFds::toString() const {
    return std::to_string(segment) + ',' + std::to_string(to_worker_data) + ',' + std::to_string(to_worker_space) +
           ',' + std::to_string(to_supervisor_data) + ',' + std::to_string(to_supervisor_space);
}

Expected<ChannelFds> ChannelFds::parse(std::string_view text) {
    const Failure malformed{Error::BadLength, 0, "channel fds are not five decimal numbers"};
    int values[5];
    std::size_t pos = 0;
    for (int i = 0; i < 5; ++i) {
        if (i > 0) {
            if (pos >= text.size() || text[pos] != ',') return malformed;
            ++pos;
        }
        // Digits only: from_chars would accept a leading '-'.
        std::size_t end = pos;
        while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
        if (end == pos || end - pos > 10) return malformed;
        long long v = 0;
        auto [ptr, ec] = std::from_chars(text.data() + pos, text.data() + end, v);
        if (ec != std::errc() || ptr != text.data() + end || v > INT_MAX) return malformed;
        values[i] = static_cast<int>(v);
        pos = end;
    }
    if (pos != text.size()) return malformed;
    return ChannelFds{values[0], values[1], values[2], values[3], values[4]};
}

}  // namespace buntime::shm

// SPDX-License-Identifier: MIT
// The wire contract, part 5: the control channel between the supervisor and an app's
// template process (a zygote: buntime-worker started with BUNTIME_ZYGOTE, which loads and
// initialises a .so app once and then forks ready workers on demand).
//
// TRANSPORT. A unix SOCK_SEQPACKET socketpair: one message per packet, never split or
// merged. The template's end is inherited as the descriptor named by
//   BUNTIME_ZYGOTE=<fd>
// in place of BUNTIME_CHANNEL (argv, working directory and the rest of the environment are
// those of an exec'd worker of the same app, proto/launch.h).
//
// MESSAGE. A 16-byte header, integers little-endian (both peers run on one host), then
// `text_len` bytes of text (a reason; not NUL-terminated; at most kMaxZygoteText):
//   offset 0   u32 magic     kZygoteMagic, "BZY1" as bytes 'B' 'Z' 'Y' '1'
//   offset 4   u16 kind      ZygoteKind
//   offset 6   u8  fds       how many descriptors ride along in SCM_RIGHTS (Fork only)
//   offset 7   u8  log       Fork: the child's log level (base::LogLevel 0..4), 0xff = keep
//   offset 8   u32 seq       Fork: chosen by the supervisor; Forked echoes it; else 0
//   offset 12  i32 value     Hello: the template's pid; Forked: the child's pid (> 0) or
//                            -errno; Refused: the template's thread count (or 0);
//                            Park: how many children to fork ahead (1..kZygoteMaxParked);
//                            Parked: the parked child's pid (> 0) or -errno
//   offset 16  text          Refused and Forked-with-error only
//
// FLOW.
//   template -> supervisor  Hello once the app is initialised and the template is still
//                           single-threaded (/proc/self/task has one entry), or Refused
//                           with a reason (then it exits): a multi-threaded process cannot
//                           be forked safely, and the supervisor uses exec for the app.
//   supervisor -> template  Fork with SCM_RIGHTS descriptors, in this order: the channel's
//                           segment, to_worker_data, to_worker_space, to_supervisor_data,
//                           to_supervisor_space (shm/channel.h), then optionally the
//                           child's stdout and stderr (fds = 5, 6 or 7; 6 means stdout only).
//   template -> supervisor  Forked, same seq: the child's pid. The child is created with
//                           clone(CLONE_PARENT), so it is the supervisor's child (its
//                           pidfd, reaping and PR_SET_PDEATHSIG refer to the supervisor) and
//                           a dying template does not take it down. It then serves exactly
//                           like an exec'd worker: Ready over its channel, and so on.
//   supervisor -> template  Park, no descriptors, no answer but Parked notes: fork `value`
//                           children ahead of demand (ephemeral apps).
//   template -> supervisor  Parked, one per child: its pid and, in SCM_RIGHTS (fds = 1), one
//                           end of a SOCK_SEQPACKET pair whose other end the child waits on,
//                           already reset (as a forked child is) and reseeded. The child is
//                           the supervisor's (CLONE_PARENT): it watches and reaps it. To start
//                           it, the supervisor sends a Fork (same layout and descriptors as
//                           above) on that socket instead of to the template: no fork and no
//                           template round trip on the request path. Closing the socket
//                           makes the child exit. A fork that failed is Parked with -errno.
// EOF on the socket means the peer is gone: the template exits; the supervisor restarts it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace buntime::proto {

inline constexpr const char* kZygoteEnv = "BUNTIME_ZYGOTE";
// The supervisor starts a template with LD_BIND_NOW=<this> (unless the environment has its
// own LD_BIND_NOW) so symbols are bound once there; a forked child unsets exactly this value.
inline constexpr const char* kZygoteBindNow = "buntime-template";
inline constexpr std::uint32_t kZygoteMagic = 0x31595A42;  // "BZY1" little-endian
inline constexpr std::size_t kZygoteHeaderBytes = 16;
inline constexpr std::size_t kMaxZygoteText = 1024;
inline constexpr std::size_t kMaxZygotePacket = kZygoteHeaderBytes + kMaxZygoteText;
inline constexpr std::size_t kZygoteChannelFds = 5;
inline constexpr std::size_t kZygoteMaxFds = 7;  // + stdout, stderr
inline constexpr std::uint8_t kZygoteKeepLogLevel = 0xff;
inline constexpr std::int32_t kZygoteMaxParked = 4;

enum class ZygoteKind : std::uint16_t { Hello = 1, Refused = 2, Fork = 3, Forked = 4, Parked = 5, Park = 6 };

struct ZygoteMessage {
    ZygoteKind kind = ZygoteKind::Hello;
    std::uint8_t fds = 0;
    std::uint8_t log = kZygoteKeepLogLevel;
    std::uint32_t seq = 0;
    std::int32_t value = 0;
    std::string text;
    bool operator==(const ZygoteMessage&) const = default;
};

namespace detail {
inline void putLe(std::byte* p, std::uint64_t v, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::byte>((v >> (8 * i)) & 0xff);
}
inline std::uint64_t getLe(const std::byte* p, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
    return v;
}
}  // namespace detail

// The packet for `m`; text past kMaxZygoteText is cut.
inline std::string encodeZygote(const ZygoteMessage& m) {
    const std::size_t text_len = std::min(m.text.size(), kMaxZygoteText);
    std::string out(kZygoteHeaderBytes + text_len, '\0');
    auto* p = reinterpret_cast<std::byte*>(out.data());
    detail::putLe(p, kZygoteMagic, 4);
    detail::putLe(p + 4, static_cast<std::uint16_t>(m.kind), 2);
    p[6] = static_cast<std::byte>(m.fds);
    p[7] = static_cast<std::byte>(m.log);
    detail::putLe(p + 8, m.seq, 4);
    detail::putLe(p + 12, static_cast<std::uint32_t>(m.value), 4);
    if (text_len) std::memcpy(out.data() + kZygoteHeaderBytes, m.text.data(), text_len);
    return out;
}

// nullopt for a packet that is short, has another magic, an unknown kind, more than
// kZygoteMaxFds descriptors or text past kMaxZygoteText.
inline std::optional<ZygoteMessage> decodeZygote(std::span<const std::byte> packet) {
    if (packet.size() < kZygoteHeaderBytes || packet.size() > kMaxZygotePacket) return std::nullopt;
    const std::byte* p = packet.data();
    if (detail::getLe(p, 4) != kZygoteMagic) return std::nullopt;
    const auto kind = static_cast<std::uint16_t>(detail::getLe(p + 4, 2));
    if (kind < 1 || kind > 6) return std::nullopt;
    ZygoteMessage m;
    m.kind = static_cast<ZygoteKind>(kind);
    m.fds = static_cast<std::uint8_t>(p[6]);
    m.log = static_cast<std::uint8_t>(p[7]);
    if (m.fds > kZygoteMaxFds) return std::nullopt;
    m.seq = static_cast<std::uint32_t>(detail::getLe(p + 8, 4));
    m.value = static_cast<std::int32_t>(static_cast<std::uint32_t>(detail::getLe(p + 12, 4)));
    m.text.assign(reinterpret_cast<const char*>(p) + kZygoteHeaderBytes, packet.size() - kZygoteHeaderBytes);
    return m;
}

}  // namespace buntime::proto

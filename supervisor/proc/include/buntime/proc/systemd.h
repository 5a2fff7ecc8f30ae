// SPDX-License-Identifier: MIT
// The systemd service protocol without libsystemd: sd_notify, watchdog interval, socket activation.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

namespace buntime::proc {

// Sends `message` ("READY=1", "STATUS=…", "WATCHDOG=1", "STOPPING=1", "RELOADING=1",
// "MAINPID=N", several joined by '\n') as one datagram to $NOTIFY_SOCKET (a path, or an
// abstract socket written "@name"). False when the variable is unset or the send failed.
// Thread-safe (reads the environment; uses a fresh socket per call).
bool notify(std::string_view message) noexcept;

// $WATCHDOG_USEC when set, > 0, and $WATCHDOG_PID (if set) equals getpid(); else nullopt.
// Ping with notify("WATCHDOG=1") at about half this interval.
std::optional<std::chrono::microseconds> watchdogInterval() noexcept;

// Socket activation: when $LISTEN_PID equals getpid(), returns the $LISTEN_FDS fds
// starting at 3 (each set CLOEXEC). LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES are unset
// in every case so children don't see them. Call early in main, before threads (setenv).
std::vector<int> listenFds();

}  // namespace buntime::proc

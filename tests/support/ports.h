// SPDX-License-Identifier: MIT
// Loopback sockets for tests: a listening socket on a free port, and the port itself.
#pragma once

#include <cstdint>

#include "buntime/base/unique_fd.h"

namespace buntime::test {

// A TCP socket bound to 127.0.0.1 on a free port and listening (backlog 64); throws when
// the system refuses.
base::UniqueFd listenLoopback(std::uint16_t* port = nullptr);
// The port a bound socket has.
std::uint16_t boundPort(int fd);
// A port that was free a moment ago (bind to 0, read it, close).
std::uint16_t freePort();

}  // namespace buntime::test

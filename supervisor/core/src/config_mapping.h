// SPDX-License-Identifier: MIT
// SupervisorConfig → the section each component takes: router, pool, HTTP server, channel.
#pragma once

#include <cstdint>
#include <vector>

#include "buntime/http/server.h"
#include "buntime/pool/types.h"
#include "buntime/router/router.h"
#include "buntime/shm/channel.h"
#include "buntime/supervisor/config.h"

namespace buntime::supervisor {

router::RouterOptions toRouterOptions(const SupervisorConfig& c);
pool::PoolConfig toPoolConfig(const SupervisorConfig& c);
// `inherited_fds`: listening sockets from socket activation; TCP is bound only without them.
http::ServerConfig toServerConfig(const SupervisorConfig& c, std::vector<int> inherited_fds);
shm::ChannelConfig toChannelConfig(const SupervisorConfig& c, std::uint32_t generation);

}  // namespace buntime::supervisor

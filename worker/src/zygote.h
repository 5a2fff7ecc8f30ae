// SPDX-License-Identifier: MIT
// Template (zygote) mode of buntime-worker: after the app is loaded and initialised once,
// the template forks ready workers on the supervisor's request (proto/zygote.h).
#pragma once

#include <functional>
#include <string>

#include "buntime/shm/channel.h"

namespace buntime::worker {

// What a forked child was given for its life as a worker.
struct ForkedChild {
    shm::ChannelFds channel;
    int log_level = -1;  // base::LogLevel as int, -1: keep the template's
};

// The control descriptor named by BUNTIME_ZYGOTE, or -1 when unset; -2 when malformed.
int zygoteControlFd();

// Tells the supervisor the template cannot serve (it will exec workers instead) and exits.
[[noreturn]] void refuseTemplate(int control, const std::string& reason, int threads = 0);

// Threads of this process (entries of /proc/self/task); 0 when unreadable.
int threadCount();

// Sends Hello, then answers each Fork with a child made by clone(CLONE_PARENT) and each
// Park with children forked ahead of demand (Parked to the supervisor, with the socket on
// which the child waits for its Fork). Returns only in a child,
// already reset for serving: signal dispositions and mask as they were when runTemplate was called (right after the
// app's init, so as in an exec'd worker), PR_SET_PDEATHSIG armed against the supervisor, the given stdout/stderr in
// place, fresh randomness (WORKER_ID, rand/random seeds) and BUNTIME_CHANNEL naming its descriptors. The template exits
// when the supervisor closes the channel. `retitle(role)` names this process "buntime: <role> <app>" (a parked child is
// "parked").
ForkedChild runTemplate(int control, const std::function<void(const char* role)>& retitle);

// A random version 4 UUID from getrandom (the WORKER_ID of a worker).
std::string randomUuid();

}  // namespace buntime::worker

// SPDX-License-Identifier: MIT
// The worker process: parse argv (proto/launch.h), open the channel, load the app, init,
// Ready, serve.
//
// Exit codes: 0 terminated or the supervisor went away; 1 the app failed to load or init
// (Kind::InitFailed was sent); 2 bad command line; 3 the channel is missing or broken;
// 4 a command app's program exited by itself.
#pragma once

#include "buntime/app/app.h"

namespace buntime::worker {

inline constexpr int kExitOk = 0;
inline constexpr int kExitInitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitChannel = 3;
inline constexpr int kExitAppExited = 4;

// builtin == nullptr: buntime-worker (resolves and loads the entrypoint, execve()s an
// `app` executable). Otherwise the app linked into this executable (BUNTIME_APP_MAIN).
// Does not return while serving; returns the exit code only on early failures.
int serve(int argc, char** argv, const buntime_app_v1* builtin);

}  // namespace buntime::worker

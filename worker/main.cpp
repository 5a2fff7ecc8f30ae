// SPDX-License-Identifier: MIT
// buntime-worker: the process that hosts one app for the supervisor (see buntime/worker/host.h).
#include "buntime/worker/host.h"

int main(int argc, char** argv) { return buntime::worker::serve(argc, argv, nullptr); }

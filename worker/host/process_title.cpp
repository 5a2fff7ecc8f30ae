// SPDX-License-Identifier: MIT
// Sets the process title seen by ps (argv memory) and by top (comm).
#include <sys/prctl.h>

#include <cstring>

#include "buntime/worker/host.h"

namespace buntime::worker {

void setProcessTitle(int argc, char** argv, const std::string& title) noexcept {
    ::prctl(PR_SET_NAME, title.c_str(), 0, 0, 0);  // truncated to 15 bytes by the kernel
    if (argc <= 0 || !argv || !argv[0]) return;
    // The argv strings are contiguous; use the whole run of them.
    char* start = argv[0];
    char* end = argv[0] + std::strlen(argv[0]) + 1;
    for (int i = 1; i < argc; ++i) {
        if (argv[i] != end) break;
        end = argv[i] + std::strlen(argv[i]) + 1;
    }
    const std::size_t area = static_cast<std::size_t>(end - start);
    if (area < 2) return;
    const std::size_t n = title.size() < area - 2 ? title.size() : area - 2;
    std::memcpy(start, title.data(), n);
    std::memset(start + n, 0, area - n);
    // A non-NUL last byte tells the kernel the title was rewritten (setproctitle
    // convention): /proc/PID/cmdline then ends at the first NUL, without padding.
    start[area - 1] = ' ';
    for (int i = 1; i < argc; ++i) argv[i] = start + n;  // empty strings now
}

}  // namespace buntime::worker

// SPDX-License-Identifier: MIT
// Process title (what ps, pgrep and top show): PR_SET_NAME plus an overwrite of the argv area.
#pragma once

#include <string_view>

namespace buntime::base {

// Sets the title, e.g. "buntime: supervisor" or "buntime: worker hello@1.0.0". The comm
// name (ps -o comm, /proc/self/comm) gets the first 15 bytes. The argv strings are
// overwritten; when the environment strings follow argv contiguously they are first copied
// to the heap (environ is repointed) so a long title may use that space too. Longer titles
// are truncated. /proc/<pid>/cmdline then reads as the title and one NUL.
// Call from main before starting threads and before anything keeps argv pointers: argv[1..]
// read after this call are empty strings. Not thread-safe (writes environ).
void setProcessTitle(int argc, char** argv, std::string_view title) noexcept;

}  // namespace buntime::base

// SPDX-License-Identifier: MIT
// Process title (what ps/pgrep show): PR_SET_NAME plus an overwrite of the argv area.
#pragma once

#include <string_view>

namespace buntime::proc {

// Sets the title to `title`, e.g. "buntime: supervisor". The comm name (ps -o comm,
// /proc/self/comm) gets the first 15 bytes. The argv strings are overwritten; when the
// environment strings follow argv contiguously they are first copied to the heap (environ
// is repointed) so the title may use that space too. Longer titles are truncated.
// Call once from main before starting threads and before anything keeps argv pointers:
// argv[1..] read after this call show the title's bytes. Not thread-safe (writes environ).
void setProcessTitle(int argc, char** argv, std::string_view title) noexcept;

}  // namespace buntime::proc

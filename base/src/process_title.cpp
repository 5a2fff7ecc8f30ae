// SPDX-License-Identifier: MIT
// setProcessTitle: nginx-style reuse of the argv (and environ) string area.
#include "buntime/base/process_title.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace buntime::base {

void setProcessTitle(int argc, char** argv, std::string_view title) noexcept {
    char comm[16] = {};
    std::memcpy(comm, title.data(), title.size() < 15 ? title.size() : 15);
    ::prctl(PR_SET_NAME, comm, 0, 0, 0);

    if (argc <= 0 || argv == nullptr || argv[0] == nullptr) return;
    // The contiguous region starting at argv[0]: argv strings, then environ strings.
    char* begin = argv[0];
    char* end = begin + std::strlen(begin) + 1;
    for (int i = 1; i < argc && argv[i] == end; ++i) end += std::strlen(argv[i]) + 1;
    char* const argv_end = end;
    if (environ != nullptr) {
        for (int i = 0; environ[i] != nullptr && environ[i] == end; ++i) {
            char* copy = ::strdup(environ[i]);
            if (copy == nullptr) break;  // keep what we have; this string stays in place
            end += std::strlen(environ[i]) + 1;
            environ[i] = copy;
        }
    }
    const std::size_t room = static_cast<std::size_t>(end - begin);
    if (room < 2) return;
    const std::size_t n = title.size() < room - 1 ? title.size() : room - 1;
    std::memcpy(begin, title.data(), n);
    std::memset(begin + n, 0, room - n);
    // A non-NUL last byte of the original argv area tells the kernel the title was
    // rewritten (the setproctitle convention): cmdline then ends at the title's NUL
    // instead of showing the padding.
    if (argv_end - 1 > begin + n) argv_end[-1] = ' ';
    // Other argv entries would still point into the area; make them empty strings.
    for (int i = 1; i < argc; ++i) {
        if (argv[i] >= begin && argv[i] < end) argv[i] = begin + n;
    }
}

}  // namespace buntime::base

// SPDX-License-Identifier: MIT
// Names of the shm error values and the text of a Failure, for logs and test output.
#include "buntime/shm/error.h"

#include "buntime/base/error.h"

namespace buntime::shm {

std::string_view toString(Error e) noexcept {
    switch (e) {
    case Error::Ok: return "Ok";
    case Error::WouldBlock: return "WouldBlock";
    case Error::TooLarge: return "TooLarge";
    case Error::BadMagic: return "BadMagic";
    case Error::BadLength: return "BadLength";
    case Error::BadGeneration: return "BadGeneration";
    case Error::BadLayout: return "BadLayout";
    case Error::PeerDead: return "PeerDead";
    case Error::Timeout: return "Timeout";
    case Error::System: return "System";
    }
    return "Unknown";
}

std::string toString(const Failure& f) {
    std::string text(toString(f.code));
    if (!f.what.empty()) {
        text += ": ";
        text += f.what;
    }
    if (f.sys_errno != 0) {
        text += ": ";
        text += base::errnoText(f.sys_errno);
    }
    return text;
}

}  // namespace buntime::shm

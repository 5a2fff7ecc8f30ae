// SPDX-License-Identifier: MIT
// Names of router error codes for logs and JSON.
#include "buntime/router/result.h"

namespace buntime::router {

std::string_view toString(ErrorCode code) noexcept {
    switch (code) {
    case ErrorCode::InvalidValue: return "invalid-value";
    case ErrorCode::Io: return "io";
    case ErrorCode::Syntax: return "syntax";
    case ErrorCode::InvalidName: return "invalid-name";
    case ErrorCode::NotFound: return "not-found";
    case ErrorCode::NoMatch: return "no-match";
    case ErrorCode::Collision: return "collision";
    case ErrorCode::BadManifest: return "bad-manifest";
    }
    return "unknown";
}

}  // namespace buntime::router

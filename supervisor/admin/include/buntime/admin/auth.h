// SPDX-License-Identifier: MIT
// The admin API's bearer-token check. Pure; thread-safe.
#pragma once

#include <string_view>

namespace buntime::admin {

// True when `authorization_header` is exactly "Bearer <configured_token>". The comparison
// takes a time that depends only on the presented length, never on where the two differ.
// An empty configured token matches nothing.
bool tokenMatches(std::string_view authorization_header, std::string_view configured_token);

}  // namespace buntime::admin

// SPDX-License-Identifier: MIT
// The worker's log lines: base/log.h with the app key ("name@version") as the category.
#pragma once

#include <string>

#include "buntime/base/log.h"

namespace buntime::worker::detail {

// The category of every line this process logs. serve() sets it to the app key once, before
// any thread starts; it is only read afterwards.
inline std::string log_category = "buntime-worker";

}  // namespace buntime::worker::detail

// BUNTIME_LOG(Info, "ready (%s)", kind): printf-style, skipped below RUNTIME_LOG_LEVEL.
#define BUNTIME_LOG(level, ...) \
    ::buntime::base::logFormat(::buntime::base::LogLevel::level, ::buntime::worker::detail::log_category, __VA_ARGS__)

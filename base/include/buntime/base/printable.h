// SPDX-License-Identifier: MIT
// Text from a process we do not trust, made safe for one line of a log or a JSON string.
#pragma once

#include <string>
#include <string_view>

namespace buntime::base {

// `raw` with valid UTF-8 and tab kept; other C0 bytes, DEL, C1 controls (U+0080..U+009F) and
// every byte of an invalid sequence (overlong, surrogate, cut) written as \xNN.
std::string printableLine(std::string_view raw);

}  // namespace buntime::base

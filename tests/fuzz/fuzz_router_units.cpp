// SPDX-License-Identifier: MIT
// Fuzz target: duration and size values of manifest keys ("30s", "1.5", "10mb").
//
// Properties: no crash; a parsed duration is >= 0 and survives printing as "<n>ms";
// a parsed size survives printing as plain bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "buntime/router/units.h"
#include "fuzz_check.h"

using namespace buntime::router;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (const auto d = parseDuration(text)) {
        FUZZ_CHECK(d->count() >= 0);
        const auto back = parseDuration(std::to_string(d->count()) + "ms");
        FUZZ_CHECK(back.has_value());
        FUZZ_CHECK(*back == *d);
    }
    if (const auto s = parseSize(text)) {
        const auto back = parseSize(std::to_string(*s));
        FUZZ_CHECK(back.has_value());
        FUZZ_CHECK(*back == *s);
    }
    return 0;
}

// SPDX-License-Identifier: MIT
// Fuzz target: request-target parsing and percent-decoding (client-controlled bytes).
//
// Properties: no crash; percentDecode never grows its input and inverts a full
// %XX encoding; an App result has a valid shape (base is a prefix of the target, rest
// starts with '/', its range parses); a BadRequest carries a printable-only reason.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "buntime/base/ascii.h"
#include "buntime/router/path.h"
#include "buntime/router/semver.h"
#include "fuzz_check.h"

using namespace buntime::router;

namespace {

std::string encodeAll(std::string_view s, bool upper) {
    const char* hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        out += '%';
        out += hex[c >> 4];
        out += hex[c & 15];
    }
    return out;
}

bool printable(std::string_view s) {
    for (unsigned char c : s)
        if (c < 0x20 || c > 0x7e) return false;
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    if (const auto decoded = buntime::base::percentDecode(text)) {
        FUZZ_CHECK(decoded->size() <= text.size());
        FUZZ_CHECK(buntime::base::percentDecode(encodeAll(*decoded, size % 2 == 0)) == decoded);
    }

    const ParsedTarget t = parseTarget(text);
    FUZZ_CHECK(!targetKindName(t.kind).empty());
    switch (t.kind) {
    case TargetKind::App: {
        FUZZ_CHECK(!t.app.empty());
        FUZZ_CHECK(t.error.empty());
        FUZZ_CHECK(t.base.size() > t.app.size() && t.base[0] == '/');
        FUZZ_CHECK(text.starts_with(t.base));
        FUZZ_CHECK(std::string_view(t.base).substr(1, t.app.size()) == t.app);
        FUZZ_CHECK(!t.rest.empty() && t.rest[0] == '/');
        FUZZ_CHECK(t.rest.find('?') == std::string::npos && t.query.find('#') == std::string::npos);
        // A range that does not parse is the resolver's 404 (as the Bun-based runtime), not a 400 here.
        FUZZ_CHECK(t.range.find('/') == std::string::npos);
        break;
    }
    case TargetKind::BadRequest:
        FUZZ_CHECK(!t.error.empty());
        FUZZ_CHECK(printable(t.error));
        break;
    case TargetKind::Reserved:
    case TargetKind::NotFound: break;
    }
    return 0;
}

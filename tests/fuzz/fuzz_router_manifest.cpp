// SPDX-License-Identifier: MIT
// Fuzz target: manifest.yaml parsing (yaml-cpp plus key validation); must never throw or crash.
//
// Properties: a parsed manifest satisfies the documented bounds (timeout > 0,
// maxRequests >= 1, maxBodySize within 1..100mb, version empty or valid semver); an
// error names the source file.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "buntime/router/manifest.h"
#include "buntime/router/semver.h"
#include "fuzz_check.h"

using namespace buntime::router;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto m = parseManifest(text, "fuzz.yaml");
    if (!m) {
        FUZZ_CHECK(m.error().code == ErrorCode::Syntax || m.error().code == ErrorCode::BadManifest);
        FUZZ_CHECK(std::string_view(m.error().message).starts_with("fuzz.yaml"));
        return 0;
    }
    const WorkerConfig& c = m->config;
    FUZZ_CHECK(c.timeout.count() > 0);
    FUZZ_CHECK(c.ttl.count() >= 0);
    FUZZ_CHECK(c.idle_timeout.count() >= 0);
    FUZZ_CHECK(c.max_requests >= 1);
    FUZZ_CHECK(c.max_body_size >= 1 && c.max_body_size <= kMaxBodySizeCeiling);
    FUZZ_CHECK(c.version.empty() || Version::parse(c.version).has_value());
    for (const auto& w : m->warnings) FUZZ_CHECK(!w.empty());
    return 0;
}

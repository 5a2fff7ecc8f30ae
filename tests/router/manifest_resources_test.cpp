// SPDX-License-Identifier: MIT
// Manifest keys for worker resources: maxMemory (a size; 0 = no cap) and cpuWeight.
#include <doctest/doctest.h>

#include "buntime/router/json.h"
#include "buntime/router/manifest.h"

using namespace buntime::router;

TEST_CASE("maxMemory: unset by default (the supervisor's default applies), sizes like maxBodySize") {
    auto none = parseManifest("", "m.yaml");
    REQUIRE(none);
    CHECK_FALSE(none->config.max_memory);
    CHECK(none->config.cpu_weight == 100);
    CHECK(toJson(none->config)["maxMemory"].is_null());

    auto m = parseManifest("maxMemory: 256mb\ncpuWeight: 50\n", "m.yaml");
    REQUIRE(m);
    CHECK(m->config.max_memory == 256ull << 20);
    CHECK(m->config.cpu_weight == 50);
    CHECK(toJson(m->config)["maxMemory"] == 256ull << 20);
    CHECK(toJson(m->config)["cpuWeight"] == 50);
    CHECK(parseManifest("maxMemory: 0\n", "m.yaml")->config.max_memory == 0u);
    CHECK(parseManifest("maxMemory: 1073741824\n", "m.yaml")->config.max_memory == 1ull << 30);
    CHECK(parseManifest("maxMemory: 2gb\n", "m.yaml")->config.max_memory == 2ull << 30);
}

TEST_CASE("maxMemory and cpuWeight: bad values are manifest errors naming the key") {
    for (const char* yaml : {"maxMemory: lots\n", "maxMemory: 1mb\n", "maxMemory: -5\n", "maxMemory: [1]\n"}) {
        auto r = parseManifest(yaml, "m.yaml");
        REQUIRE_FALSE_MESSAGE(r, yaml);
        CHECK_MESSAGE(r.error().message.find("key 'maxMemory'") != std::string::npos, r.error().message);
    }
    CHECK(parseManifest("maxMemory: 1mb\n", "m.yaml").error().message.find("16mb minimum") != std::string::npos);
    for (const char* yaml : {"cpuWeight: 0\n", "cpuWeight: 10001\n", "cpuWeight: high\n", "cpuWeight: 1.5\n"}) {
        auto r = parseManifest(yaml, "m.yaml");
        REQUIRE_FALSE_MESSAGE(r, yaml);
        CHECK_MESSAGE(r.error().message.find("key 'cpuWeight'") != std::string::npos, r.error().message);
    }
}

// SPDX-License-Identifier: MIT
// The golden admin API answers, tests/golden/admin/{health,metrics,workers,apps}.json: real
// answers of a supervisor (tests/supervisor checks a live one against their key sets and
// value types). Fakes serve them and the schema tests parse them, so neither can drift.
// The including target passes -DBUNTIME_GOLDEN_DIR="<source>/tests/golden/admin".
#pragma once

#include <nlohmann/json.hpp>

#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

#ifndef BUNTIME_GOLDEN_DIR
#error "compile with -DBUNTIME_GOLDEN_DIR=\"<source>/tests/golden/admin\""
#endif

namespace buntime::test::golden {

// The golden file `name` ("health", "metrics", "workers", "apps"), parsed; throws when missing.
inline nlohmann::json json(std::string_view name) {
    const std::string path = std::string(BUNTIME_GOLDEN_DIR) + "/" + std::string(name) + ".json";
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read golden file " + path);
    return nlohmann::json::parse(in);
}

// The answer as the supervisor sends it: compact JSON.
inline std::string body(std::string_view name) { return json(name).dump(); }

}  // namespace buntime::test::golden

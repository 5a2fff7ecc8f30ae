// SPDX-License-Identifier: MIT
// The reply table: one status per reply, and the README's "Error statuses" table says the
// same thing (every code with its status and Retry-After, and nothing the table lacks).
#include <doctest/doctest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "replies.h"
#include "temp_dir.h"

using namespace buntime::supervisor;

namespace {

struct ReadmeRow {
    unsigned status;
    std::set<std::string> codes;
    bool retry_after;
};

std::vector<ReadmeRow> readmeErrorTable() {
    const std::string readme = buntime::test::readFile(BUNTIME_README);
    auto start = readme.find("## Error statuses");
    REQUIRE(start != std::string::npos);
    auto end = readme.find("\n## ", start + 3);
    std::istringstream section(readme.substr(start, end - start));
    std::vector<ReadmeRow> rows;
    const std::regex row(R"(^\| `(\d{3})` \| ([^|]*) \|)");
    const std::regex code("`([A-Z_]{3,})`");
    for (std::string line; std::getline(section, line);) {
        std::smatch m;
        if (!std::regex_search(line, m, row)) continue;
        ReadmeRow r{static_cast<unsigned>(std::stoi(m[1])), {}, m[2].str().find("Retry-After: 1") != std::string::npos};
        const std::string cell = m[2];
        for (std::sregex_iterator it(cell.begin(), cell.end(), code), e; it != e; ++it) r.codes.insert((*it)[1]);
        rows.push_back(std::move(r));
    }
    return rows;
}

}  // namespace

TEST_CASE("every reply has one row in the table, in enum order") {
    auto all = allReplies();
    REQUIRE(all.size() == 19);
    for (std::size_t i = 0; i < all.size(); ++i) {
        CHECK(static_cast<std::size_t>(all[i].reply) == i);
        CHECK(&specOf(all[i].reply) == &all[i]);
        CHECK(all[i].status >= 400);
        CHECK(all[i].status < 600);
    }
    CHECK(specOf(Reply::GatewayTimeout).status == 504);
    CHECK(specOf(Reply::WorkerVanished).status == 502);
    CHECK(specOf(Reply::NoWorker).status == 503);
}

TEST_CASE("error bodies are JSON with error and message; Retry-After only where the table says") {
    CHECK(errorBody("APP_ERROR", "it \"broke\"") ==
          R"({"code":"APP_ERROR","error":"APP_ERROR","message":"it \"broke\"","success":false})");
    auto h = errorHeaders(specOf(Reply::ShuttingDown));
    REQUIRE(h.size() == 2);
    CHECK(h[1] == std::pair<std::string, std::string>{"retry-after", "1"});
    CHECK(errorHeaders(specOf(Reply::WorkerCrashed)).size() == 1);
}

TEST_CASE("the README's Error statuses table matches the reply table, both ways") {
    const auto rows = readmeErrorTable();
    REQUIRE(rows.size() >= 10);
    for (const auto& spec : allReplies()) {
        CAPTURE(spec.code);
        CAPTURE(spec.status);
        bool found = false;
        for (const auto& r : rows) {
            if (r.status != spec.status || !r.codes.contains(std::string(spec.code))) continue;
            found = true;
            CHECK(r.retry_after == (spec.retry_after_s == 1));
        }
        CHECK(found);
    }
    for (const auto& r : rows) {
        for (const auto& c : r.codes) {
            CAPTURE(c);
            bool known = false;
            for (const auto& spec : allReplies()) known = known || (spec.code == c && spec.status == r.status);
            CHECK(known);
        }
    }
}

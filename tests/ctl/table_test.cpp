// SPDX-License-Identifier: MIT
// buntimectl's text tables: alignment, elastic columns, dropping optional ones.
#include <doctest/doctest.h>

#include "buntime/ctl/table.h"
#include "buntime/ctl/units.h"

#include <algorithm>
#include <sstream>

using namespace buntime::ctl;

namespace {

std::size_t widestLine(const std::string& text) {
    std::istringstream lines(text);
    std::size_t widest = 0;
    for (std::string line; std::getline(lines, line);) {
        widest = std::max(widest, displayWidth(line));
    }
    return widest;
}

Table sampleTable() {
    Table table({{"NAME", Align::Left, 0, true, 6},
                 {"COUNT", Align::Right, 0},
                 {"EXTRA", Align::Left, 1},
                 {"NOTES", Align::Left, 2}});
    table.addRow({"a-rather-long-application-name", "12345", "xxxxxxxxxx", "nnnnnnnnnnnnnnnnnn"});
    table.addRow({"short", "7", "y", "n"});
    return table;
}

}  // namespace

TEST_CASE("a table that fits keeps every column, aligned") {
    const Table table = sampleTable();
    const std::string text = table.render(200);
    CHECK(table.visibleHeaders(200) == std::vector<std::string>{"NAME", "COUNT", "EXTRA", "NOTES"});
    CHECK(text.find("a-rather-long-application-name") != std::string::npos);
    // Right alignment: "7" ends where "12345" ends.
    const auto first = text.find("12345");
    const auto rowStart = text.rfind('\n', first) + 1;
    const auto seven = text.find("  7  ");
    const auto secondStart = text.rfind('\n', seven) + 1;
    CHECK(first + 5 - rowStart == seven + 3 - secondStart);
}

TEST_CASE("a narrow table elides elastic columns, then drops optional ones") {
    const Table table = sampleTable();
    // Natural width: 30 + 5 + 10 + 18 + 3*2 = 69.
    const std::string elided = table.render(50);
    CHECK(widestLine(elided) <= 50);
    CHECK(table.visibleHeaders(50) == std::vector<std::string>{"NAME", "COUNT", "EXTRA", "NOTES"});
    CHECK(elided.find("\u2026") != std::string::npos);

    CHECK(table.visibleHeaders(30) == std::vector<std::string>{"NAME", "COUNT", "EXTRA"});
    CHECK(widestLine(table.render(30)) <= 30);
    CHECK(table.visibleHeaders(20) == std::vector<std::string>{"NAME", "COUNT"});
    CHECK(widestLine(table.render(20)) <= 20);
    // Below what the mandatory columns need, lines are cut rather than overflow.
    CHECK(widestLine(table.render(8)) <= 8);
}

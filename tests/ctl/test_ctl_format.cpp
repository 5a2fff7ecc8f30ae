// SPDX-License-Identifier: MIT
// Unit tests of buntimectl's units, table fitting and argument parsing.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "options.h"
#include "table.h"
#include "units.h"

#include <sstream>

using namespace buntime::ctl;

TEST_CASE("durations pick the largest sensible unit") {
    CHECK(formatDuration(0) == "0s");
    CHECK(formatDuration(0.3) == "0.30ms");
    CHECK(formatDuration(2.5) == "2.5ms");
    CHECK(formatDuration(12) == "12ms");
    CHECK(formatDuration(999) == "999ms");
    CHECK(formatDuration(1000) == "1s");
    CHECK(formatDuration(1500) == "1.5s");
    CHECK(formatDuration(30000) == "30s");
    CHECK(formatDuration(60000) == "1m");
    CHECK(formatDuration(90000) == "1m30s");
    CHECK(formatDuration(300000) == "5m");
    CHECK(formatDuration(7200000) == "2h");
    CHECK(formatDuration(3900000) == "1h5m");
    CHECK(formatDuration(2 * 86400000.0 + 3 * 3600000.0) == "2d3h");
    CHECK(formatDuration(-1) == "-");
}

TEST_CASE("bytes use binary units") {
    CHECK(formatBytes(0) == "0B");
    CHECK(formatBytes(512) == "512B");
    CHECK(formatBytes(1024) == "1KiB");
    CHECK(formatBytes(1536) == "1.5KiB");
    CHECK(formatBytes(262144) == "256KiB");
    CHECK(formatBytes(3456789) == "3.3MiB");
    CHECK(formatBytes(10485760) == "10MiB");
    CHECK(formatBytes(5.0 * 1024 * 1024 * 1024) == "5GiB");
    CHECK(formatBytes(-5) == "-");
}

TEST_CASE("percentages and plain numbers") {
    CHECK(formatPercent(0) == "0%");
    CHECK(formatPercent(2048.0 / 262144) == "0.8%");
    CHECK(formatPercent(0.99) == "99.0%");
    CHECK(formatPercent(1) == "100%");
    CHECK(formatNumber(12) == "12");
    CHECK(formatNumber(0.4) == "0.4");
    CHECK(formatNumber(50.126) == "50.13");
}

TEST_CASE("elide cuts to the width with an ellipsis") {
    CHECK(elide("hello", 10) == "hello");
    CHECK(elide("hello", 5) == "hello");
    CHECK(elide("hello world", 6) == "hello\u2026");
    CHECK(displayWidth(elide("hello world", 6)) == 6);
    CHECK(displayWidth("a\u2026") == 2);
}

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

namespace {

std::variant<Options, UsageError> parse(std::vector<std::string> args, Environment env = {}) {
    return parseArgs(args, env);
}

}  // namespace

TEST_CASE("global flags go before or after the command") {
    auto before = parse({"--url", "http://h:1", "--json", "workers", "--sort", "rss"});
    REQUIRE(std::holds_alternative<Options>(before));
    const auto& a = std::get<Options>(before);
    CHECK(a.command == Command::Workers);
    CHECK(a.url == "http://h:1");
    CHECK(a.json);
    CHECK(a.sort == "rss");

    auto after = parse({"workers", "--app=hello", "--url=http://h:2", "--timeout", "0.5"});
    REQUIRE(std::holds_alternative<Options>(after));
    const auto& b = std::get<Options>(after);
    CHECK(b.app == "hello");
    CHECK(b.url == "http://h:2");
    CHECK(b.timeout_seconds == doctest::Approx(0.5));
}

TEST_CASE("the token comes from --token, else RUNTIME_ADMIN_TOKEN") {
    Environment env;
    env.token = "from-env";
    CHECK(std::get<Options>(parse({"reload"}, env)).token == "from-env");
    CHECK(std::get<Options>(parse({"reload", "--token", "flag"}, env)).token == "flag");
}

TEST_CASE("usage errors name the problem") {
    auto message = [](std::vector<std::string> args) {
        auto parsed = parse(std::move(args));
        REQUIRE(std::holds_alternative<UsageError>(parsed));
        return std::get<UsageError>(parsed).message;
    };
    CHECK(message({}) == "missing command");
    CHECK(message({"frobnicate"}) == "unknown command 'frobnicate'");
    CHECK(message({"status", "--bogus"}) == "unknown option '--bogus'");
    CHECK(message({"status", "--url"}) == "option '--url' needs a value");
    CHECK(message({"retire"}).find("KEY") != std::string::npos);
    CHECK(message({"retire", "a@1", "b@1"}).find("exactly one") != std::string::npos);
    CHECK(message({"status", "extra"}) == "unexpected argument 'extra'");
    CHECK(message({"workers", "--sort", "colour"}) == "unknown sort column 'colour'");
    CHECK(message({"status", "--sort", "rss"}).find("workers") != std::string::npos);
    CHECK(message({"metrics", "--watch", "0"}).find("--watch") != std::string::npos);
    CHECK(message({"metrics", "--count", "3"}).find("--watch") != std::string::npos);
    CHECK(message({"status", "--url", "http://a:1", "--socket", "/s"}).find("either") != std::string::npos);
    CHECK(message({"status", "--timeout", "-1"}).find("--timeout") != std::string::npos);
}

TEST_CASE("help wins over a missing command and every command has help") {
    auto parsed = parse({"--help"});
    REQUIRE(std::holds_alternative<Options>(parsed));
    CHECK(std::get<Options>(parsed).help);
    for (Command command :
         {Command::Status, Command::Workers, Command::Apps, Command::Metrics, Command::Retire, Command::Reload}) {
        const std::string text = helpText(command);
        CHECK(text.find("Usage: buntimectl " + std::string(commandName(command))) == 0);
        for (const char* flag :
             {"--url", "--socket", "--token", "--timeout", "--json", "--width", "--help", "--version"}) {
            CHECK_MESSAGE(text.find(flag) != std::string::npos, commandName(command), " ", flag);
        }
    }
    const std::string workers = helpText(Command::Workers);
    CHECK(workers.find("--sort") != std::string::npos);
    CHECK(workers.find("--app") != std::string::npos);
    for (const auto key : workerSortKeys()) {
        CHECK(workers.find(std::string(key)) != std::string::npos);
    }
    const std::string metrics = helpText(Command::Metrics);
    CHECK(metrics.find("--watch") != std::string::npos);
    CHECK(metrics.find("--count") != std::string::npos);
    const std::string overview = helpText(Command::None);
    for (const char* word :
         {"status", "workers", "apps", "metrics", "retire", "reload", "Exit codes", "--url", "--socket", "--token",
          "--timeout", "--json", "--width", "--version", "--sort", "--app", "--watch", "--count"}) {
        CHECK_MESSAGE(overview.find(word) != std::string::npos, word);
    }
}

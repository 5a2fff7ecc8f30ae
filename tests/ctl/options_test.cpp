// SPDX-License-Identifier: MIT
// buntimectl's argument parsing, usage errors and help texts.
#include <doctest/doctest.h>

#include "buntime/ctl/options.h"

#include <string>
#include <variant>
#include <vector>

using namespace buntime::ctl;

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

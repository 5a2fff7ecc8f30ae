// SPDX-License-Identifier: MIT
// buntimectl deploy, remove and reload NAME: their arguments, flags and usage errors.
#include <doctest/doctest.h>

#include <string>
#include <variant>
#include <vector>

#include "buntime/ctl/options.h"

using namespace buntime::ctl;

namespace {

std::variant<Options, UsageError> parse(std::vector<std::string> args) { return parseArgs(args, Environment{}); }

}  // namespace

TEST_CASE("deploy DIR|ARCHIVE [--replace]") {
    auto r = parse({"deploy", "./app", "--replace"});
    REQUIRE(std::holds_alternative<Options>(r));
    CHECK(std::get<Options>(r).command == Command::Deploy);
    CHECK(std::get<Options>(r).deploy_path == "./app");
    CHECK(std::get<Options>(r).replace);
    CHECK(std::holds_alternative<UsageError>(parse({"deploy"})));
    CHECK(std::holds_alternative<UsageError>(parse({"deploy", "a", "b"})));
    CHECK(std::holds_alternative<UsageError>(parse({"status", "--replace"})));
}

TEST_CASE("remove NAME[@VERSION] [--force]") {
    auto app = parse({"remove", "hello"});
    REQUIRE(std::holds_alternative<Options>(app));
    CHECK(std::get<Options>(app).remove_name == "hello");
    CHECK(std::get<Options>(app).remove_version.empty());
    CHECK_FALSE(std::get<Options>(app).force);
    auto version = parse({"--force", "remove", "hello@1.2.3"});
    REQUIRE(std::holds_alternative<Options>(version));
    CHECK(std::get<Options>(version).remove_name == "hello");
    CHECK(std::get<Options>(version).remove_version == "1.2.3");
    CHECK(std::get<Options>(version).force);
    CHECK(std::holds_alternative<UsageError>(parse({"remove"})));
    CHECK(std::holds_alternative<UsageError>(parse({"remove", "@1.0.0"})));
    CHECK(std::holds_alternative<UsageError>(parse({"remove", "hello@"})));
    CHECK(std::holds_alternative<UsageError>(parse({"deploy", "x", "--force"})));
}

TEST_CASE("reload takes an optional app NAME") {
    auto all = parse({"reload"});
    REQUIRE(std::holds_alternative<Options>(all));
    CHECK(std::get<Options>(all).reload_app.empty());
    auto one = parse({"reload", "hello"});
    REQUIRE(std::holds_alternative<Options>(one));
    CHECK(std::get<Options>(one).reload_app == "hello");
    CHECK(std::holds_alternative<UsageError>(parse({"reload", "a", "b"})));
    CHECK(helpText(Command::Deploy).find("--replace") != std::string::npos);
    CHECK(helpText(Command::Remove).find("--force") != std::string::npos);
}

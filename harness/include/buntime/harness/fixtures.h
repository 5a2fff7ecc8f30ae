// SPDX-License-Identifier: MIT
// The four fixture apps (.perf-fixtures/): manifests plus app.so copied from the built examples.
#pragma once

#include <string>
#include <vector>

namespace buntime::harness {

struct FixtureApp {
    std::string name;        // directory and route prefix: noop, echo, slow, ephemeral
    std::string source_app;  // built example providing app.so: hello, echo, slow
    bool ephemeral = false;  // ttl: 0
};

const std::vector<FixtureApp>& fixtureApps();
std::string fixtureManifest(const FixtureApp& app);
// <apps_dir>/<source_app>/app.so
std::string fixtureSource(const std::string& apps_dir, const FixtureApp& app);

// Writes <dir>/<name>/{manifest.yaml,app.so} for every fixture app. Returns "" or an error.
std::string generateFixtures(const std::string& dir, const std::string& apps_dir);
void removeFixtures(const std::string& dir);

// What an operator must install on a PERF_TARGET server (paths + manifests).
std::string operatorInstructions(const std::string& apps_dir);

}  // namespace buntime::harness

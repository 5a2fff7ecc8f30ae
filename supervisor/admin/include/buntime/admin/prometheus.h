// SPDX-License-Identifier: MIT
// Renders the admin API's JSON metrics and worker list in the Prometheus text format.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace buntime::admin {

// `metrics` is the object served at /_/api/metrics, `workers` the array at /_/api/workers.
std::string renderPrometheus(const nlohmann::json& metrics, const nlohmann::json& workers);

// camelCase → snake_case ("totalWorkersCreated" → "total_workers_created").
std::string snakeCase(std::string_view camel);

// Constant-time comparison of a presented bearer token with the configured one.
bool tokenMatches(std::string_view authorization_header, std::string_view configured_token);

}  // namespace buntime::admin

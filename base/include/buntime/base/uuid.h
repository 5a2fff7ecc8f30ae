// SPDX-License-Identifier: MIT
// Version 4 UUID text from 128 random bits (request ids, WORKER_ID); the caller picks the
// randomness (a fast per-thread generator on the request path, getrandom in a new worker).
#pragma once

#include <cstdint>
#include <string>

namespace buntime::base {

// "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", lowercase, with the version (4) and variant (10)
// bits set over `hi` and `lo`; `out` is overwritten (its buffer reused).
void formatUuidV4(std::uint64_t hi, std::uint64_t lo, std::string& out);
std::string formatUuidV4(std::uint64_t hi, std::uint64_t lo);

}  // namespace buntime::base

// SPDX-License-Identifier: MIT
// FUZZ_CHECK: a property a fuzz target asserts; on failure it names the line and aborts.
#pragma once

#include <cstdio>
#include <cstdlib>

// Fuzz targets must stop at the first broken property so the fuzzer (or the driver)
// records the input; abort() is what both of them treat as a crash.
#define FUZZ_CHECK(cond)                                                                         \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            std::fprintf(stderr, "FUZZ_CHECK failed: %s at %s:%d\n", #cond, __FILE__, __LINE__); \
            std::abort();                                                                        \
        }                                                                                        \
    } while (0)

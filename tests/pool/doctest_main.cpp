// SPDX-License-Identifier: MIT
// doctest entry point shared by the pool suites.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

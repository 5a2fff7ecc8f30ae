// SPDX-License-Identifier: MIT
// Did-you-mean: edit distance and the choice among the manifest keys.
#include <doctest/doctest.h>

#include "buntime/router/manifest.h"
#include "buntime/router/suggest.h"

using namespace buntime::router;

TEST_CASE("edit distance counts insertions, deletions, substitutions and swaps") {
    CHECK(editDistance("timeout", "timeout") == 0);
    CHECK(editDistance("timout", "timeout") == 1);    // insertion
    CHECK(editDistance("timeoutt", "timeout") == 1);  // deletion
    CHECK(editDistance("tineout", "timeout") == 1);   // substitution
    CHECK(editDistance("tiemout", "timeout") == 1);   // swap of neighbours
    CHECK(editDistance("TimeOut", "timeout") == 0);   // case-insensitive
    CHECK(editDistance("", "ttl") == 3);
    CHECK(editDistance("abc", "") == 3);
}

TEST_CASE("didYouMean picks the closest manifest key, or none") {
    CHECK(didYouMean("timout", kManifestKeys) == "timeout");
    CHECK(didYouMean("max_requests", kManifestKeys) == "maxRequests");  // same letters, other spelling
    CHECK(didYouMean("idle-timeout", kManifestKeys) == "idleTimeout");
    CHECK(didYouMean("entrypiont", kManifestKeys) == "entrypoint");
    CHECK(didYouMean("host", kManifestKeys) == "hosts");
    CHECK(didYouMean("foo", kManifestKeys).empty());
    CHECK(didYouMean("tl", kManifestKeys).empty());  // distance 1 from ttl, but half of a 2-letter word
    CHECK(didYouMean("completelydifferent", kManifestKeys).empty());
}

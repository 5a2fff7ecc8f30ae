// SPDX-License-Identifier: MIT
// The bearer-token check of mutating admin calls.
#include <doctest/doctest.h>

#include "buntime/admin/auth.h"

using buntime::admin::tokenMatches;

TEST_CASE("only \"Bearer <token>\" with the exact token matches") {
    CHECK(tokenMatches("Bearer s3cret", "s3cret"));
    CHECK_FALSE(tokenMatches("Bearer s3cre", "s3cret"));         // shorter
    CHECK_FALSE(tokenMatches("Bearer s3crets", "s3cret"));       // longer
    CHECK_FALSE(tokenMatches("Bearer s3creT", "s3cret"));        // last byte differs
    CHECK_FALSE(tokenMatches("Bearer S3cret", "s3cret"));        // first byte differs
    CHECK_FALSE(tokenMatches("Bearer s3crets3cret", "s3cret"));  // a repetition of the token
    CHECK_FALSE(tokenMatches("bearer s3cret", "s3cret"));        // the scheme is case-sensitive here
    CHECK_FALSE(tokenMatches("Basic s3cret", "s3cret"));
    CHECK_FALSE(tokenMatches("s3cret", "s3cret"));
    CHECK_FALSE(tokenMatches("Bearer", "s3cret"));
    CHECK_FALSE(tokenMatches("", "s3cret"));
}

TEST_CASE("an empty configured token matches nothing, not even an empty bearer") {
    CHECK_FALSE(tokenMatches("Bearer ", ""));
    CHECK_FALSE(tokenMatches("Bearer x", ""));
}

using buntime::admin::ApiKey;
using buntime::admin::KeyRing;
using buntime::admin::parseApiKeys;
using buntime::admin::Role;
using buntime::admin::sha256;
using buntime::admin::toHex;

TEST_CASE("sha256 gives the FIPS 180-2 test vectors") {
    CHECK(toHex(sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(toHex(sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(toHex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE("a keys file in YAML or JSON gives named keys with roles") {
    const std::string abc = toHex(sha256("abc"));
    auto yaml = parseApiKeys("- name: ci\n  sha256: " + abc + "\n  role: deployer\n", "keys.yaml");
    REQUIRE(yaml.has_value());
    REQUIRE(yaml.value().size() == 1);
    CHECK(yaml.value()[0].name == "ci");
    CHECK(yaml.value()[0].role == Role::Deployer);
    CHECK(yaml.value()[0].digest == sha256("abc"));
    auto json = parseApiKeys(R"([{"name": "ops", "sha256": ")" + abc + R"(", "role": "admin"},
                                 {"name": "dash", "sha256": ")" +
                                 toHex(sha256("x")) + R"(", "role": "viewer"}])",
                             "keys.json");
    REQUIRE(json.has_value());
    CHECK(json.value().size() == 2);
    CHECK(json.value()[1].role == Role::Viewer);
}

TEST_CASE("a bad keys file is one clear error naming the file and the entry") {
    const std::string abc = toHex(sha256("abc"));
    auto error = [](std::string text) {
        auto r = parseApiKeys(text, "keys.yaml");
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().find("keys.yaml") != std::string::npos);
        CHECK(r.error().find('\n') == std::string::npos);
        return r.error();
    };
    CHECK(error("- name: a\n  sha256: abcd\n  role: viewer\n").find("64 hex digits") != std::string::npos);
    CHECK(error("- name: a\n  sha256: " + std::string(63, '0') + "g\n  role: viewer\n").find("entry 1") !=
          std::string::npos);
    CHECK(error("- name: a\n  sha256: " + abc + "\n  role: root\n").find("viewer, deployer or admin") !=
          std::string::npos);
    CHECK(error("- sha256: " + abc + "\n  role: admin\n").find("'name'") != std::string::npos);
    CHECK(error("- name: a\n  sha256: " + abc + "\n  role: admin\n- name: a\n  sha256: " + abc + "\n  role: admin\n")
              .find("twice") != std::string::npos);
    CHECK(error("- name: a\n  sha: " + abc + "\n  role: admin\n").find("unknown key 'sha'") != std::string::npos);
    CHECK(error("name: a\n").find("list") != std::string::npos);
    CHECK(error("[]").find("empty") != std::string::npos);
    CHECK(error("[unclosed").find("not YAML or JSON") != std::string::npos);
}

TEST_CASE("a key ring matches the presented key by its digest, the token as an admin key") {
    KeyRing ring;
    ring.add(ApiKey{"viewer-key", sha256("v-secret"), Role::Viewer});
    ring.addToken("t-secret");
    const std::string viewer = "Bearer v-secret", token = "Bearer t-secret", wrong = "Bearer v-secreT",
                      bare = "v-secret", empty = "Bearer ";
    REQUIRE(ring.match(&viewer) != nullptr);
    CHECK(ring.match(&viewer)->name == "viewer-key");
    REQUIRE(ring.match(&token) != nullptr);
    CHECK(ring.match(&token)->role == Role::Admin);
    CHECK(ring.match(&wrong) == nullptr);
    CHECK(ring.match(&bare) == nullptr);
    CHECK(ring.match(&empty) == nullptr);
    CHECK(ring.match(nullptr) == nullptr);
    KeyRing none;
    none.addToken("");
    CHECK(none.empty());
}

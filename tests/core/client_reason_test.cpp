// SPDX-License-Identifier: MIT
// clientSafeReason: what a client may see of a failure (no paths, no trace, bounded).
#include <doctest/doctest.h>

#include "replies.h"

using buntime::supervisor::clientSafeReason;
using buntime::supervisor::kClientReasonMax;

TEST_CASE("absolute paths are cut to their last component; short reasons stay") {
    CHECK(clientSafeReason("db down") == "db down");
    CHECK(clientSafeReason("init threw: no database") == "init threw: no database");
    CHECK(clientSafeReason("/srv/apps/bad@2.0.0/manifest.yaml: key 'ttl': invalid duration \"soon\"") ==
          "manifest.yaml: key 'ttl': invalid duration \"soon\"");
    CHECK(clientSafeReason("dlopen('/srv/apps/x/app.so') failed: /lib/libfoo.so.1: cannot open shared object") ==
          "dlopen('app.so') failed: libfoo.so.1: cannot open shared object");
    CHECK(clientSafeReason("cannot read /home/deploy/.secrets/key.pem") == "cannot read key.pem");
    CHECK(clientSafeReason("entrypoint=/opt/a/b, (/tmp/x/)") == "entrypoint=b, (x)");
    CHECK(clientSafeReason("a/b relative stays") == "a/b relative stays");
    CHECK(clientSafeReason("/") == "/");
    CHECK(clientSafeReason("") == "");
}

TEST_CASE("only the first line: stack traces and tracebacks stay in the log") {
    CHECK(clientSafeReason("TypeError: x is undefined\n    at handler (/srv/apps/js/index.js:3:9)\n") ==
          "TypeError: x is undefined");
    CHECK(clientSafeReason("boom\r\nTraceback (most recent call last):") == "boom");
    CHECK(clientSafeReason("tab\there") == "tab here");
}

TEST_CASE("long reasons are cut without splitting a UTF-8 sequence") {
    const std::string long_reason(500, 'x');
    const auto cut = clientSafeReason(long_reason);
    CHECK(cut.size() == kClientReasonMax);
    CHECK(cut.ends_with("..."));
    std::string accented;
    for (int i = 0; i < 150; ++i) accented += "\xc3\xa9";  // é
    const auto cut2 = clientSafeReason(accented);
    CHECK(cut2.size() <= kClientReasonMax);
    CHECK(cut2.ends_with("\xc3\xa9..."));
}

TEST_CASE("credentials in URLs never reach the client; the rest of the URL stays") {
    CHECK(clientSafeReason("connect redis://user:s3cret@cache:6379/0 failed") ==
          "connect redis://***@cache:6379/0 failed");
    CHECK(clientSafeReason("DATABASE_URL=postgres://app:pa/ss@w0rd@db.internal/prod: refused") ==
          "DATABASE_URL=postgres://***@db.internal/prod: refused");
    CHECK(clientSafeReason("fetch 'https://TOKEN@api.example.com/v1' 401") ==
          "fetch 'https://***@api.example.com/v1' 401");
    CHECK(clientSafeReason("a://u:p@h and b://x:y@z") == "a://***@h and b://***@z");
    CHECK(clientSafeReason("http://example.com/status (no userinfo)") == "http://example.com/status (no userinfo)");
    CHECK(clientSafeReason("mongodb://root:hunter2@m0\nTraceback") == "mongodb://***@m0");
    CHECK(clientSafeReason("file:///srv/apps/x/app.so missing") == "file:app.so missing");
    const auto cut = clientSafeReason(std::string(190, 'x') + " amqp://guest:longpassword@mq");
    CHECK(cut.find("longpassword") == std::string::npos);
    CHECK(cut.find("guest") == std::string::npos);
}

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The app SDK outside the tree: scripts/install --destdir (as a normal user would: no --no-user,
# and no user may be created), then an app.so built with only `pkg-config --cflags
# buntime-app` and an `app` executable built with --cflags and --libs, in a directory that
# is not the source tree, both served by a real supervisor.
# Usage: sdk_test.sh SOURCE_ROOT BUILD_DIR BUILD_PREFIX
set -uo pipefail
root=$1
build=$2
build_prefix=$3
source "$(dirname "${BASH_SOURCE[0]}")/../support/checks.sh"

work=$(mktemp -d)
sup_pid=""
cleanup() {
  if [[ -n $sup_pid ]]; then
    kill -TERM "$sup_pid" 2>/dev/null
    wait "$sup_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# Commands that would change this machine's users record themselves instead.
stubs="$work/stubs"
mkdir -p "$stubs"
for cmd in useradd groupadd userdel groupdel usermod chown chgrp systemctl; do
  printf '#!/bin/sh\necho "%s $*" >> "%s"\n' "$cmd" "$work/system-calls" > "$stubs/$cmd"
  chmod +x "$stubs/$cmd"
done

d="$work/dest"
PATH="$stubs:$PATH" "$root/scripts/install" --destdir "$d" --build-dir "$build" --no-rebuild --prefix "$build_prefix" \
  > "$work/install.log" 2>&1
check "install --destdir exits 0 ($(tail -n 3 "$work/install.log" | tr '\n' ' '))" test $? -eq 0
check "install --destdir created no user and changed no owner ($(cat "$work/system-calls" 2>/dev/null))" \
  test ! -s "$work/system-calls"
check "app.h installed" test -f "$d$build_prefix/include/buntime/app.h"
check "app/app.h installed" test -f "$d$build_prefix/include/buntime/app/app.h"
pc=$(find "$d$build_prefix" -name buntime-app.pc -print -quit)
check "buntime-app.pc installed" test -n "$pc"
lib=$(find "$d$build_prefix" -name libbuntime-app.a -print -quit)
check "libbuntime-app.a installed" test -n "$lib"
manifest="$d$build_prefix/share/buntime/install-manifest.txt"
check "the install manifest lists the SDK" grep -q 'buntime-app.pc$' "$manifest"
[[ -n $pc && -n $lib ]] || { echo "$failures failure(s)"; exit 1; }

# pkg-config against the staged tree: its paths are rewritten into the destdir.
export PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$d"
cflags=$(pkg-config --cflags buntime-app)
libs=$(pkg-config --libs buntime-app)
check "--cflags names the staged include dir ($cflags)" grep -qF -- "-I$d$build_prefix/include" <<<"$cflags"
check "--cflags does not point into the source tree" bash -c "! grep -qF -- '$root' <<<'$cflags'"
check "--libs names libbuntime-app ($libs)" grep -qF -- "-lbuntime-app" <<<"$libs"

src="$work/outside"
mkdir -p "$src/apps/greet" "$src/apps/tally"
cat > "$src/greet.cpp" <<'CPP'
#include <buntime/app.h>

#include <string>

struct Greet {
    void handle(buntime::app::Request req, buntime::app::Response res) {
        res.header("content-type", "text/plain");
        res.end("greetings from outside the tree, " + std::string(req.method()));
    }
};

BUNTIME_APP(Greet)
CPP
cat > "$src/tally.cpp" <<'CPP'
#include <buntime/app.h>

#include <atomic>
#include <string>

struct Tally {
    void handle(buntime::app::Request&, buntime::app::Response& res) { res.end("tally " + std::to_string(++n)); }
    std::atomic<int> n{0};
};

BUNTIME_APP_MAIN(Tally)
CPP
# Under sanitizers the archive holds instrumented code: the executable links their runtimes.
san_flags=()
[[ -n ${BUNTIME_SANITIZE:-} ]] && san_flags=(-fsanitize="$BUNTIME_SANITIZE")
(cd "$src" && g++ -shared -fPIC $cflags greet.cpp -o apps/greet/app.so) > "$work/cc-so.log" 2>&1
check "g++ -shared -fPIC \$(pkg-config --cflags buntime-app) builds app.so ($(head -c 600 "$work/cc-so.log"))" \
  test -f "$src/apps/greet/app.so"
(cd "$src" && g++ $cflags tally.cpp "${san_flags[@]}" $libs -o apps/tally/app) > "$work/cc-exe.log" 2>&1
check "g++ \$(pkg-config --cflags) app.cpp \$(pkg-config --libs) builds an app executable ($(head -c 600 "$work/cc-exe.log"))" \
  test -x "$src/apps/tally/app"
printf 'name: greet\nversion: 1.0.0\nentrypoint: app.so\nttl: 1m\n' > "$src/apps/greet/manifest.yaml"
printf 'name: tally\nversion: 1.0.0\nentrypoint: app\nttl: 1m\n' > "$src/apps/tally/manifest.yaml"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
env_args=(-u RUNTIME_ADMIN_TOKEN PORT="$port" RUNTIME_BIND=127.0.0.1 RUNTIME_WORKER_DIRS="$src/apps"
          RUNTIME_STATE_DIR="$work/state" RUNTIME_ACCESS_LOG=off)
[[ -n ${BUNTIME_SANITIZE:-} ]] && env_args+=(RUNTIME_WORKER_MAX_MEMORY=0)
env "${env_args[@]}" "$build/supervisor/core/buntime" > "$work/supervisor.log" 2>&1 &
sup_pid=$!
for _ in $(seq 1 200); do
  curl -fs "http://127.0.0.1:$port/_/api/health/live" >/dev/null 2>&1 && break
  sleep 0.1
done
greet=$(curl -s "http://127.0.0.1:$port/greet/")
check "the supervisor serves the app.so built outside the tree (got: $greet)" \
  test "$greet" = "greetings from outside the tree, GET"
tally=$(curl -s "http://127.0.0.1:$port/tally/"; echo; curl -s "http://127.0.0.1:$port/tally/")
check "the supervisor serves the app executable built outside the tree (got: $tally)" \
  test "$tally" = $'tally 1\ntally 2'
kill -TERM "$sup_pid"
wait "$sup_pid"
rc=$?
sup_pid=""
check "the supervisor exits 0 on SIGTERM (rc $rc)" test $rc -eq 0
[[ $failures -eq 0 ]] || tail -n 30 "$work/supervisor.log"

finish

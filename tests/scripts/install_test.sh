#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs scripts/install into temporary --destdir trees (no user, no systemctl) and uninstalls.
# Usage: install_test.sh SOURCE_ROOT BUILD_DIR BUILD_PREFIX
set -uo pipefail
root=$1
build=$2
build_prefix=$3
install="$root/scripts/install"
source "$(dirname "${BASH_SOURCE[0]}")/../support/checks.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. System files only, with a non-default prefix substituted into the units.
d="$work/system"
check "install --no-build exits 0" "$install" --destdir "$d" --no-user --no-build --prefix /opt/bt
check "service installed" test -f "$d/etc/systemd/system/buntime.service"
check "socket installed" test -f "$d/etc/systemd/system/buntime.socket"
check "ExecStart uses the prefix" grep -qxF 'ExecStart=/opt/bt/bin/buntime' "$d/etc/systemd/system/buntime.service"
check "no /usr/local left in the unit" bash -c "! grep -q /usr/local '$d/etc/systemd/system/buntime.service'"
check "env example installed" cmp -s "$root/scripts/buntime.env.example" "$d/etc/buntime/buntime.env.example"
check "env file created" test -f "$d/etc/buntime/buntime.env"
check "env file is 0640" test "$(stat -c %a "$d/etc/buntime/buntime.env")" = 640
check "state dir created" test -d "$d/var/lib/buntime"
check "apps dir created" test -d "$d/srv/buntime/apps"
check "manifest written" test -f "$d/opt/bt/share/buntime/install-manifest.txt"

echo "PORT=9001" >> "$d/etc/buntime/buntime.env"
touch "$d/srv/buntime/apps/keep-me" "$d/var/lib/buntime/state"
check "second install exits 0" "$install" --destdir "$d" --no-user --no-build --prefix /opt/bt
check "existing env file kept" grep -qxF 'PORT=9001' "$d/etc/buntime/buntime.env"

check "uninstall exits 0" "$install" --destdir "$d" --no-user --uninstall --prefix /opt/bt
check "service removed" test ! -e "$d/etc/systemd/system/buntime.service"
check "socket removed" test ! -e "$d/etc/systemd/system/buntime.socket"
check "env example removed" test ! -e "$d/etc/buntime/buntime.env.example"
check "manifest removed" test ! -e "$d/opt/bt/share/buntime"
check "env file kept" grep -qxF 'PORT=9001' "$d/etc/buntime/buntime.env"
check "apps kept" test -f "$d/srv/buntime/apps/keep-me"
check "state kept" test -f "$d/var/lib/buntime/state"
check "systemd dir itself kept" test -d "$d/etc/systemd/system"

check "uninstall --purge exits 0" "$install" --destdir "$d" --no-user --uninstall --purge --prefix /opt/bt
left=$(cd "$d" && find . -type f -o -type d -name '*buntime*')
check "purge leaves no file or buntime directory (left: $left)" test -z "$left"

# 2. The meson install of this build directory (no rebuild), at the build's own prefix.
d="$work/meson"
check "install with meson exits 0" "$install" --destdir "$d" --no-user --build-dir "$build" --no-rebuild --prefix "$build_prefix"
manifest="$d$build_prefix/share/buntime/install-manifest.txt"
check "manifest lists the units" grep -qxF /etc/systemd/system/buntime.service "$manifest"
if [[ -x "$build/ctl/buntimectl" ]]; then
  check "buntimectl installed" test -x "$d$build_prefix/bin/buntimectl"
  check "manifest lists buntimectl" grep -qxF "$build_prefix/bin/buntimectl" "$manifest"
  check "installed buntimectl runs" "$d$build_prefix/bin/buntimectl" --version
fi
mapfile -t installed < <(grep -v '^$' "$manifest")
check "uninstall of the meson install exits 0" "$install" --destdir "$d" --no-user --uninstall --prefix "$build_prefix"
for path in "${installed[@]}"; do
  check "removed $path" test ! -e "$d$path"
done

# 3. Usage errors.
"$install" --bogus >/dev/null 2>&1
check "unknown option exits 2" test $? -eq 2
"$install" --destdir "$work/x" --purge >/dev/null 2>&1
check "--purge without --uninstall exits 2" test $? -eq 2
"$install" --prefix relative --destdir "$work/x" >/dev/null 2>&1
check "relative prefix exits 2" test $? -eq 2
check "--help documents every flag" bash -c "out=\$('$install' --help); for f in --prefix --destdir --build-dir --no-build --no-rebuild --no-user --uninstall --purge; do grep -q -- \"\$f\" <<<\"\$out\" || exit 1; done"

finish

# SPDX-License-Identifier: MIT
# Sourced by the shell test scripts: count failures, report each check, end with the total.
#   fail MESSAGE              one failure
#   check DESCRIPTION CMD...  runs CMD: "ok: DESCRIPTION", or a failure
#   finish                    prints "N failure(s)" and returns non-zero when N > 0
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
check() {
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else fail "$what"; fi
}
finish() {
  echo "$failures failure(s)"
  [[ $failures -eq 0 ]]
}

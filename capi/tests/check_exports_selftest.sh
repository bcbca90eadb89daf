#!/usr/bin/env bash
# Proves check_exports.sh can fail: it is run on tiny libraries built here
# with one version script each, and must pass or fail as stated, with the
# message of the check meant to catch the case.
#
#   check_exports_selftest.sh
set -euo pipefail
checker="$(cd "$(dirname "$0")" && pwd)/check_exports.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

cat >subinterp.h <<'C'
#ifndef SUBINTERP_API
#define SUBINTERP_API
#endif
SUBINTERP_API int subinterp_a(void);
SUBINTERP_API int subinterp_b(void);
C
cat >lib.c <<'C'
int subinterp_a(void) { return 1; }
int subinterp_b(void) { return 2; }
int PyInit__subinterp(void) { return 0; }
int helper(void) { return 3; }
C

failures=0
# expect NAME pass|fail MESSAGE VERSION_SCRIPT
expect() {
  local name=$1 outcome=$2 message=$3 script=$4 status=0
  printf '%s\n' "$script" >lib.map
  "${CC:-cc}" -shared -fPIC -o libsubinterp.so.1 lib.c -Wl,-soname,libsubinterp.so.1 \
    -Wl,--version-script=lib.map
  "$checker" ./libsubinterp.so.1 subinterp.h >out 2>&1 || status=$?
  if { [[ $outcome == pass && $status == 0 ]] || [[ $outcome == fail && $status != 0 ]]; } &&
    grep -qF -- "$message" out; then
    echo "ok: $name"
  else
    echo "FAIL: $name (exit $status, expected to $outcome with '$message'):" >&2
    sed 's/^/    /' out >&2
    failures=$((failures + 1))
  fi
}

expect "one node" pass "all subinterp_* at @@SUBINTERP_1.0," \
  'SUBINTERP_1.0 { global: subinterp_*; PyInit__subinterp; local: *; };'
expect "a later node inheriting SUBINTERP_1.0" pass "at @@SUBINTERP_1.0,SUBINTERP_1.1," \
  'SUBINTERP_1.0 { global: subinterp_a; PyInit__subinterp; local: *; };
   SUBINTERP_1.1 { global: subinterp_b; } SUBINTERP_1.0;'
expect "a node of another name" fail "exported symbol 'subinterp_b' has version '@@OTHER_1.1'" \
  'SUBINTERP_1.0 { global: subinterp_a; PyInit__subinterp; local: *; };
   OTHER_1.1 { global: subinterp_b; } SUBINTERP_1.0;'
expect "no SUBINTERP_1.0" fail "the version definition SUBINTERP_1.0 is missing" \
  'SUBINTERP_1.1 { global: subinterp_*; PyInit__subinterp; local: *; };'
expect "no version script node" fail "exported symbol 'subinterp_a' has version '<none>'" \
  '{ global: subinterp_*; PyInit__subinterp; local: *; };'
expect "a symbol not named subinterp_*" fail "exported symbol 'helper@@SUBINTERP_1.0'" \
  'SUBINTERP_1.0 { global: subinterp_*; PyInit__subinterp; helper; local: *; };'
expect "a declared function not exported" fail "declared in the header but not exported" \
  'SUBINTERP_1.0 { global: subinterp_a; PyInit__subinterp; local: *; };'

if ((failures > 0)); then
  echo "check_exports self-test: $failures case(s) failed" >&2
  exit 1
fi
echo "check_exports self-test: OK"

#!/usr/bin/env bash
# Self-test of ci/abi-check: proves that each of its checks fails when it
# should (and passes on an unchanged ABI), by running ci/abi-check itself on
#   - the built libsubinterp.so.1 against edited copies of the committed
#     baseline (a function removed, one added, a symbol version changed, a
#     baseline without types) and as a stripped copy (no DWARF);
#   - throwaway libraries built here: one from a copy of the real public
#     headers, then from copies edited (a struct field's type, an enum value,
#     an added enumerator); one from a tiny header of its own (a function
#     added or removed, a struct grown or reordered, an enumerator added, a
#     version node renamed, objects without -g);
#   - --update: refused for a released version node, and for a library
#     without DWARF; accepted for an addition in a new node.
# Each failure must come from the check meant to catch it (its message is
# matched), not from any error.
#
#   capi/abi/selftest.sh [--python X.Y]   uses build/pyX.Y as built (no build)
source "$(dirname "$0")/../../ci/lib.sh"
export LC_ALL=C

series=${PYTHON_SERIES[-1]}
while (($#)); do
  case $1 in
    --python) series=$2; shift 2 ;;
    *) die "unknown option $1 (use --python X.Y)" ;;
  esac
done
check=$ROOT/ci/abi-check
baseline=$ROOT/capi/abi
library=$(build_dir_for "$series")/libsubinterp.so.1
[[ -f $library ]] || die "no library $library (build it: ci/build --python $series)"
for tool in strip "${CC:-cc}"; do
  command -v "$tool" >/dev/null || die "$tool not found on PATH"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
start=$SECONDS
passed=0
failed=0
failures=()

# expect pass|fail NAME [PATTERN...] -- ci/abi-check arguments
# fail: ci/abi-check must exit non-zero and its output match every PATTERN
# (grep -E), so that it failed for the reason under test.
expect() {
  local want=$1 name=$2 patterns=() output status=0 pattern ok=1
  shift 2
  while [[ $1 != -- ]]; do patterns+=("$1"); shift; done
  shift
  output=$("$check" "$@" 2>&1) || status=$?
  if [[ $want == pass ]]; then
    ((status == 0)) || ok=0
  else
    ((status != 0)) || ok=0
    for pattern in "${patterns[@]}"; do
      grep -qE -- "$pattern" <<<"$output" || { ok=0; echo "    (output lacks /$pattern/)"; }
    done
  fi
  if ((ok)); then
    passed=$((passed + 1)); echo "ok: $name (ci/abi-check exited $status)"
  else
    failed=$((failed + 1)); failures+=("$name")
    echo "FAILED: $name: wanted $want, ci/abi-check exited $status; its output:"
    sed 's/^/    /' <<<"$output"
  fi
}

# Asserts that a file was changed by an edit (an edit that silently matched
# nothing would test nothing).
changed() { # original edited what
  if cmp -s "$1" "$2"; then die "self-test bug: the edit '$3' changed nothing in $2"; fi
}

same_files() { # name file1 file2
  if cmp -s "$2" "$3"; then
    passed=$((passed + 1)); echo "ok: $1"
  else
    failed=$((failed + 1)); failures+=("$1"); echo "FAILED: $1: $2 and $3 differ"
  fi
}

copy_baseline() { # dir
  mkdir -p "$1"
  cp "$baseline"/*.abi "$baseline"/*.symbols "$baseline"/released-nodes "$1"/
}

echo "== the built library ($library) against edited copies of the committed baseline"
copy_baseline "$tmp/real"
expect pass "unchanged library, unchanged baseline" -- --library "$library" --baseline-dir "$tmp/real"

# (a) A function missing from the baseline: the library has one more.
copy_baseline "$tmp/removed"
fn=subinterp_queue_size
sed -i "/<elf-symbol name='$fn' /d; /<function-decl name='$fn' /,/<\/function-decl>/d" "$tmp/removed/libsubinterp.so.1.abi"
changed "$baseline/libsubinterp.so.1.abi" "$tmp/removed/libsubinterp.so.1.abi" "remove $fn"
expect fail "a function the baseline lacks (added to the library)" \
  "libsubinterp.so.1 .*abidiff exited 4 " "1 Added function" "'function subinterp_status $fn\(" -- \
  --library "$library" --baseline-dir "$tmp/removed"

# (a) A function only the baseline has: removed from the library.
copy_baseline "$tmp/added"
gone=subinterp_selftest_removed
awk -v f="$fn" -v g="$gone" -v q="'" '
  function renamed(s) { gsub(f, g, s); return s }
  index($0, "<elf-symbol name=" q f q " ") { print; print renamed($0); next }
  index($0, "<function-decl name=" q f q " ") { block = ""; inside = 1 }
  inside { print; block = block $0 "\n"; if (index($0, "</function-decl>")) { inside = 0; printf "%s", renamed(block) }; next }
  { print }' "$baseline/libsubinterp.so.1.abi" >"$tmp/added/libsubinterp.so.1.abi"
changed "$baseline/libsubinterp.so.1.abi" "$tmp/added/libsubinterp.so.1.abi" "add $gone"
expect fail "a function only the baseline has (removed from the library)" \
  "libsubinterp.so.1 .*abidiff exited 12 " "1 Removed function" "$gone" -- \
  --library "$library" --baseline-dir "$tmp/added"

# A symbol's version changed (the baseline says SUBINTERP_0.9).
copy_baseline "$tmp/version"
sed -i "s/^symbol $fn@@SUBINTERP_1.0 /symbol $fn@@SUBINTERP_0.9 /" "$tmp/version/libsubinterp.so.1.symbols"
changed "$baseline/libsubinterp.so.1.symbols" "$tmp/version/libsubinterp.so.1.symbols" "version of $fn"
expect fail "a symbol version differs from the baseline's" \
  "exported symbols or version definitions differ" "^    \+symbol $fn@@SUBINTERP_1.0 " -- \
  --library "$library" --baseline-dir "$tmp/version"

# A released node the baseline does not define (a typo in released-nodes).
copy_baseline "$tmp/released"
echo SUBINTERP_1.9 >>"$tmp/released/released-nodes"
expect fail "released-nodes names a node the baseline lacks" \
  "released-nodes lists SUBINTERP_1.9" -- --library "$library" --baseline-dir "$tmp/released"

# (c) No DWARF: a stripped copy of the library.
strip --strip-debug -o "$tmp/libsubinterp.so.1" "$library"
expect fail "the library stripped of its DWARF" "has no .debug_info section" -- \
  --library "$tmp/libsubinterp.so.1" --baseline-dir "$tmp/real"
expect fail "--update from the stripped library" "has no .debug_info section" -- \
  --library "$tmp/libsubinterp.so.1" --baseline-dir "$tmp/real" --update
same_files "the refused --update left the baseline as it was" "$baseline/libsubinterp.so.1.abi" "$tmp/real/libsubinterp.so.1.abi"

# A baseline written from a library without DWARF compares as "no change"
# with anything: the check refuses such a baseline.
copy_baseline "$tmp/typeless"
abidw --headers-dir "$ROOT/capi/include" --drop-private-types --exported-interfaces-only --no-elf-needed \
  --out-file "$tmp/typeless/libsubinterp.so.1.abi" "$tmp/libsubinterp.so.1"
expect fail "a baseline without type information" "the baseline libsubinterp.so.1.abi has no type information" -- \
  --library "$library" --baseline-dir "$tmp/typeless"

echo
echo "== a throwaway library built from a copy of the public headers, then from edited copies"
# Two functions that reach the real structs; the headers' corpus covers the rest.
hdr=$tmp/hdr
mkdir -p "$hdr/baseline"
cp -r "$ROOT/capi/include" "$hdr/include"
cp "$hdr/include/subinterp.h" "$hdr/subinterp.h.orig"
cat >"$hdr/lib.c" <<'EOF'
#include "subinterp.h"
SUBINTERP_API int selftest_config(subinterp_config *config) { return config->gil; }
SUBINTERP_API int selftest_queue_info(subinterp_queue_info *info) { return (int)info->struct_size; }
EOF
echo 'SELFTEST_1.0 { global: selftest_*; local: *; };' >"$hdr/lib.map"
build_hdr_lib() { # output
  "${CC:-cc}" -std=c11 -g -O0 -fPIC -shared -fvisibility=hidden -I"$hdr/include" \
    -Wl,--version-script="$hdr/lib.map" -Wl,-soname,libselftest.so.1 -o "$1" "$hdr/lib.c"
}
build_hdr_lib "$hdr/libselftest.so.1"
"$check" --library "$hdr/libselftest.so.1" --headers "$hdr/include" --baseline-dir "$hdr/baseline" --update >/dev/null
# The headers' corpus does not depend on where the headers are.
same_files "the headers' corpus of a copy of capi/include equals the committed headers.abi" \
  "$baseline/headers.abi" "$hdr/baseline/headers.abi"
expect pass "unchanged copy of the headers" -- \
  --library "$hdr/libselftest.so.1" --headers "$hdr/include" --baseline-dir "$hdr/baseline"

edit_header() { # sed-expression description
  cp "$hdr/subinterp.h.orig" "$hdr/include/subinterp.h"
  sed -i "$1" "$hdr/include/subinterp.h"
  changed "$hdr/subinterp.h.orig" "$hdr/include/subinterp.h" "$2"
  build_hdr_lib "$hdr/libselftest-edited.so.1"
}

# (b) A field of subinterp_config changes type: the layout of a public struct.
edit_header 's/^    int allow_fork;$/    int64_t allow_fork;/' "subinterp_config.allow_fork -> int64_t"
expect fail "subinterp_config.allow_fork becomes int64_t (struct layout)" \
  "libselftest.so.1 .*abidiff exited 4 " "public headers .*abidiff exited 4 " \
  "type size changed from 256 to 320" "offset changed" -- \
  --library "$hdr/libselftest-edited.so.1" --headers "$hdr/include" --baseline-dir "$hdr/baseline"

# An error code renumbered: no function mentions enum subinterp_status_code,
# only the headers' corpus sees it.
edit_header 's/^    SUBINTERP_ERR_BUSY = 3,$/    SUBINTERP_ERR_BUSY = 33,/' "SUBINTERP_ERR_BUSY = 33"
expect fail "SUBINTERP_ERR_BUSY renumbered (an enum no function uses)" \
  "public headers .*abidiff exited 4 " "SUBINTERP_ERR_BUSY" -- \
  --library "$hdr/libselftest-edited.so.1" --headers "$hdr/include" --baseline-dir "$hdr/baseline"

# An enumerator added at the end: compatible, and abidiff exits 0 for it
# unless asked (--harmless); the baseline must record it all the same.
edit_header 's/^    SUBINTERP_DATA_PICKLED = 12$/    SUBINTERP_DATA_PICKLED = 12, SUBINTERP_DATA_SELFTEST = 13/' "SUBINTERP_DATA_SELFTEST"
expect fail "an enumerator appended to subinterp_data_kind" \
  "public headers .*abidiff exited 4 " "SUBINTERP_DATA_SELFTEST" -- \
  --library "$hdr/libselftest-edited.so.1" --headers "$hdr/include" --baseline-dir "$hdr/baseline"

echo
echo "== a tiny library of its own: functions, layouts, enumerators, version nodes, DWARF"
# make_tiny DIR VARIANT: base, added (t_new in T_1.0), added-new-node (t_new
# in T_1.1), removed (no t_kind_of), layout-size (t_opts.a int64_t),
# layout-order (t_opts.a and .b swapped), enum (T_C appended), node (T_2.0
# instead of T_1.0), nodebug (t.c without -g; .debug_info from another object).
make_tiny() {
  local dir=$1 variant=$2 fields enumerators map cflags=-g
  mkdir -p "$dir/include"
  case $variant in
    layout-size) fields="uint32_t struct_size; int64_t a; int32_t b;" ;;
    layout-order) fields="uint32_t struct_size; int32_t b; int32_t a;" ;;
    *) fields="uint32_t struct_size; int32_t a; int32_t b;" ;;
  esac
  enumerators="T_A, T_B"
  [[ $variant == enum ]] && enumerators="T_A, T_B, T_C"
  {
    echo '#include <stdint.h>'
    echo '#define T_API __attribute__((visibility("default")))'
    echo "typedef enum t_kind { $enumerators } t_kind;"
    echo "typedef struct t_opts { $fields } t_opts;"
    echo 'T_API int t_init(t_opts *o);'
    [[ $variant == removed ]] || echo 'T_API t_kind t_kind_of(int x);'
    [[ $variant == added* ]] && echo 'T_API int t_new(void);'
  } >"$dir/include/t.h"
  {
    echo '#include "t.h"'
    echo 'int t_init(t_opts *o) { o->a = 1; o->b = 2; return 0; }'
    [[ $variant == removed ]] || echo 't_kind t_kind_of(int x) { return (t_kind)x; }'
    [[ $variant == added* ]] && echo 'int t_new(void) { return 3; }'
  } >"$dir/t.c"
  printf '#include "t.h"\nint t_internal(t_opts *o) { return o->b; }\n' >"$dir/internal.c"
  case $variant in
    node) map='T_2.0 { global: t_*; local: *; };' ;;
    added-new-node) map='T_1.0 { global: t_*; local: *; }; T_1.1 { global: t_new; } T_1.0;' ;;
    *) map='T_1.0 { global: t_*; local: *; };' ;;
  esac
  echo "$map" >"$dir/t.map"
  [[ $variant == nodebug ]] && cflags=-g0
  "${CC:-cc}" -std=c11 -O2 -fPIC -fvisibility=hidden -I"$dir/include" $cflags -c -o "$dir/t.o" "$dir/t.c"
  "${CC:-cc}" -std=c11 -O2 -fPIC -fvisibility=hidden -I"$dir/include" -g -c -o "$dir/internal.o" "$dir/internal.c"
  "${CC:-cc}" -shared -Wl,--version-script="$dir/t.map" -Wl,-soname,libt.so.1 -o "$dir/libt.so.1" "$dir/t.o" "$dir/internal.o"
}
tiny=$tmp/tiny
for variant in base added added-new-node removed layout-size layout-order enum node nodebug; do
  make_tiny "$tiny/$variant" "$variant"
done
mkdir -p "$tiny/baseline"
"$check" --library "$tiny/base/libt.so.1" --headers "$tiny/base/include" --baseline-dir "$tiny/baseline" --update >/dev/null
tiny_check() { # variant
  echo --library "$tiny/$1/libt.so.1" --headers "$tiny/$1/include" --baseline-dir "$tiny/baseline"
}
# shellcheck disable=SC2046  # the paths have no spaces (mktemp -d)
{
expect pass "tiny: unchanged" -- $(tiny_check base)
expect fail "tiny: a function added" "libt.so.1 .*abidiff exited 4 " "1 Added function" \
  "^    \+symbol t_new@@T_1.0 " -- $(tiny_check added)
expect fail "tiny: a function removed" "libt.so.1 .*abidiff exited 12 " "1 Removed function" \
  "^    -symbol t_kind_of@@T_1.0 " -- $(tiny_check removed)
expect fail "tiny: a struct field grows (size and offsets)" "libt.so.1 .*abidiff exited 4 " \
  "public headers .*abidiff exited 4 " "type size changed from 96 to 192" -- $(tiny_check layout-size)
expect fail "tiny: two struct fields swap (same size)" "libt.so.1 .*abidiff exited 4 " \
  "public headers .*abidiff exited 4 " "offset changed from 32 to 64" -- $(tiny_check layout-order)
expect fail "tiny: an enumerator appended" "libt.so.1 .*abidiff exited 4 " \
  "public headers .*abidiff exited 4 " "T_C" -- $(tiny_check enum)
expect fail "tiny: the version node renamed" "libt.so.1 .*abidiff exited 12 " \
  "exported symbols or version definitions differ" "^    \+version T_2.0" -- $(tiny_check node)
expect fail "tiny: the exported functions' object built without -g" \
  "have no DWARF description" "t_init@@T_1.0" -- $(tiny_check nodebug)

# --update and released nodes.
echo T_1.0 >"$tiny/baseline/released-nodes"
cp -r "$tiny/baseline" "$tiny/baseline.before"
expect fail "tiny: --update adding a function to the released node T_1.0" \
  "REFUSED: version node T_1.0 is released" "> t_new@@T_1.0" -- $(tiny_check added) --update
same_files "the refused --update left the baseline as it was" "$tiny/baseline.before/libt.so.1.abi" "$tiny/baseline/libt.so.1.abi"
expect fail "tiny: --update removing a function of the released node T_1.0" \
  "REFUSED: version node T_1.0 is released" "< t_kind_of@@T_1.0" -- $(tiny_check removed) --update
expect fail "tiny: a function added in the new node T_1.1 (before --update)" \
  "libt.so.1 .*abidiff exited 4 " "^    \+symbol t_new@@T_1.1 " "^    \+version T_1.1 parent T_1.0" -- $(tiny_check added-new-node)
expect pass "tiny: --update adding a function in the new node T_1.1" -- $(tiny_check added-new-node) --update
expect pass "tiny: the check after that --update" -- $(tiny_check added-new-node)
expect fail "tiny: the old library against the updated baseline" "libt.so.1 .*abidiff exited 12 " -- $(tiny_check base)
}

echo
echo "abi self-test: $passed passed, $failed failed ($((SECONDS - start)) s)"
if ((failed)); then
  echo "FAILED: ${failures[*]}"
  exit 1
fi

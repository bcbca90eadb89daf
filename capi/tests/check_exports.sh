#!/usr/bin/env bash
# ABI hygiene of the built library:
#   (a) only subinterp_* symbols (and PyInit__subinterp, the entry point of the
#       _subinterp Python module the library also is) are exported, each at a
#       version node SUBINTERP_1.<n> the library defines; SUBINTERP_1.0 is one
#       of them (later releases add nodes: capi/abi/README.md)
#   (b) the SONAME is libsubinterp.so.1
#   (c) the functions the header declares with SUBINTERP_API == the exports
#   (d) nothing C++ leaks: no mangled (_Z) names, no C++ runtime symbols
#   (e) RUNPATH/RPATH has no empty entry (an empty entry means the cwd, so a
#       library planted in whatever directory the host runs from would load)
#
#   check_exports.sh path/to/libsubinterp.so path/to/subinterp.h
set -euo pipefail
export LC_ALL=C  # sort and comm must agree on the order

if [[ $# -ne 2 ]]; then
  echo "usage: $0 LIBRARY HEADER" >&2
  exit 2
fi
library=$1
header=$2
readonly first_node=SUBINTERP_1.0
readonly node_pattern='^SUBINTERP_1\.[0-9]+$'
readonly soname=libsubinterp.so.1

failures=0
# Prints a section's summary only if the section added no failure.
section_start=0
begin_section() { section_start=$failures; }
passed() { if ((failures == section_start)); then echo "exports: $*"; fi; }
fail() {
  echo "exports: FAIL: $*" >&2
  failures=$((failures + 1))
}

for path in "$library" "$header"; do
  [[ -f $path ]] || { echo "exports: FAIL: no such file: $path" >&2; exit 1; }
done
for tool in nm readelf "${CC:-cc}"; do
  command -v "$tool" >/dev/null || { echo "exports: FAIL: $tool not found on PATH" >&2; exit 1; }
done

# "ADDRESS TYPE NAME[@@VERSION]" for every defined dynamic symbol. Errors of
# nm are fatal on purpose: an unreadable library must not pass as "no symbols".
defined=$(nm -D --defined-only "$library")
if [[ -z $defined ]]; then
  echo "exports: FAIL: nm -D --defined-only printed nothing for $library" >&2
  exit 1
fi

# --- (a) names and versions -----------------------------------------------------
begin_section
# The version definitions (type A symbols, e.g. "0000000000000000 A SUBINTERP_1.0").
declare -A nodes=()
while read -r _address type symbol; do
  [[ $type == A ]] || continue
  if [[ $symbol =~ $node_pattern ]]; then
    nodes[$symbol]=1
  else
    fail "version definition '$symbol' is not named SUBINTERP_1.<n>"
  fi
done <<<"$defined"
exported_functions=()
while read -r _address type symbol; do
  [[ $type == A ]] && continue  # a version definition, checked above
  name=${symbol%%@*}
  version=${symbol#"$name"}
  if [[ $name != subinterp_* && $name != PyInit__subinterp ]]; then
    fail "exported symbol '$symbol' (type $type) is not named subinterp_*"
    continue
  fi
  if [[ $version != @@* || -z ${nodes[${version#@@}]:-} ]]; then
    fail "exported symbol '$name' has version '${version:-<none>}', expected the default version of a SUBINTERP_1.<n> node"
  fi
  [[ $name == PyInit__subinterp ]] && { python_entry=1; continue; }  # not part of the C header
  exported_functions+=("$name")
done <<<"$defined"
if [[ -z ${nodes[$first_node]:-} ]]; then
  fail "the version definition $first_node is missing (was the version script applied?)"
fi
if [[ -z ${python_entry:-} ]]; then
  fail "PyInit__subinterp is not exported: Python cannot import the _subinterp module"
fi
passed "${#exported_functions[@]} symbols, all subinterp_* at @@$(printf '%s\n' "${!nodes[@]}" | sort -V | paste -sd,), plus PyInit__subinterp"

# --- (b) SONAME -------------------------------------------------------------------
dynamic=$(readelf -d "$library")
actual_soname=$(sed -n 's/.*(SONAME).*Library soname: \[\(.*\)\].*/\1/p' <<<"$dynamic")
if [[ $actual_soname != "$soname" ]]; then
  fail "SONAME is '${actual_soname:-<none>}', expected '$soname'"
else
  echo "exports: SONAME $actual_soname"
fi

# --- (c) header <-> exports ---------------------------------------------------------
begin_section
# The preprocessor strips comments and applies #if exactly as a C consumer
# sees the header; the export macro becomes a marker we can grep for.
marker=__subinterp_api_marker__
preprocessed=$("${CC:-cc}" -E -P -x c -D"SUBINTERP_API=$marker" "$header") ||
  { echo "exports: FAIL: cannot preprocess $header" >&2; exit 1; }
declared=$(tr '\n' ' ' <<<"$preprocessed" |
  grep -oE "$marker[^;{}(]*[^A-Za-z0-9_]subinterp_[A-Za-z0-9_]+[[:space:]]*\(" |
  grep -oE 'subinterp_[A-Za-z0-9_]+[[:space:]]*\($' | tr -d ' (' | sort -u || true)
exported=$(printf '%s\n' "${exported_functions[@]}" | sort -u)
if [[ -z $declared ]]; then
  fail "found no SUBINTERP_API function declarations in $header"
fi
declared_only=$(comm -23 <(echo "$declared") <(echo "$exported"))
exported_only=$(comm -13 <(echo "$declared") <(echo "$exported"))
if [[ -n $declared_only ]]; then
  fail "declared in the header but not exported:"$'\n'"$(sed 's/^/    /' <<<"$declared_only")"
fi
if [[ -n $exported_only ]]; then
  fail "exported but not declared in the header:"$'\n'"$(sed 's/^/    /' <<<"$exported_only")"
fi
passed "the $(wc -l <<<"$declared") SUBINTERP_API functions of the header are exactly the exports"

# --- (d) no C++ ---------------------------------------------------------------------
begin_section
# Exported C++ symbols (template instantiations, typeinfo, libstdc++ inline
# code) would bind against whatever libstdc++ the host has and break the ABI.
cxx=$(awk '{print $3}' <<<"$defined" |
  grep -E '^_Z|^__cxa_|^__gxx_|^__cxx|@GLIBCXX_|@CXXABI_' || true)
if [[ -n $cxx ]]; then
  fail "C++ or libstdc++ symbols are exported:"$'\n'"$(sed 's/^/    /' <<<"$cxx")"
fi
# GNU unique symbols (type u) resolve process-wide even with RTLD_LOCAL.
unique=$(awk '$2 == "u" {print $3}' <<<"$defined")
if [[ -n $unique ]]; then
  fail "GNU unique (type u) symbols are exported:"$'\n'"$(sed 's/^/    /' <<<"$unique")"
fi
passed "no C++ mangled, C++ runtime or unique symbols exported"

# --- (e) RUNPATH / RPATH ----------------------------------------------------------------
paths=$(sed -n 's/.*(\(RUNPATH\|RPATH\)).*Library r[a-z]*path: \[\(.*\)\].*/\1 \2/p' <<<"$dynamic")
if [[ -z $paths ]] && grep -Eq '\((RUNPATH|RPATH)\)' <<<"$dynamic"; then
  fail "cannot parse the RUNPATH/RPATH lines of readelf -d"
fi
while read -r kind value; do
  [[ -n $kind ]] || continue
  echo "exports: $kind [$value]"
  # Leading, trailing or doubled ':' (or nothing at all) is an empty entry.
  if [[ -z $value || $value == :* || $value == *: || $value == *::* ]]; then
    fail "$kind '$value' has an empty entry, which means the current directory"
  fi
done <<<"$paths"
[[ -n $paths ]] || echo "exports: no RUNPATH/RPATH"

if ((failures > 0)); then
  echo "exports: FAILED ($failures problem(s))" >&2
  exit 1
fi
echo "exports: OK"

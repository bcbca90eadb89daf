#!/usr/bin/env bash
# Installs the library into a scratch prefix and builds a C consumer against
# the installed copy, the two ways a user would:
#   (a) pkg-config --cflags --libs subinterp
#   (b) a CMake project with find_package(subinterp 0.1 REQUIRED)
# Each consumer runs print(6*7) in a sub-interpreter and checks the output.
#
#   check_install.sh CMAKE_BUILD_DIR SCRATCH_DIR      (SCRATCH_DIR is wiped)
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 CMAKE_BUILD_DIR SCRATCH_DIR" >&2
  exit 2
fi
build=$1
scratch=$2

die() {
  echo "install: FAIL: $*" >&2
  exit 1
}

[[ -f $build/CMakeCache.txt ]] || die "$build is not a CMake build directory"
# The scratch directory is removed recursively: refuse anything that is not
# clearly a directory of its own.
case $(realpath -m -- "$scratch") in
  / | "$HOME" | "$(realpath -m -- "$build")") die "refusing to wipe '$scratch'" ;;
esac
for tool in cc cmake pkg-config readelf; do
  command -v "$tool" >/dev/null || die "$tool not found on PATH"
done

rm -rf -- "$scratch"
mkdir -p -- "$scratch"
scratch=$(realpath -- "$scratch")
prefix=$scratch/prefix

echo "install: cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" >"$scratch/install.log" ||
  { cat "$scratch/install.log" >&2; die "cmake --install failed"; }

# lib, lib64 or lib/<multiarch>: whatever GNUInstallDirs chose.
pc_file=$(find "$prefix" -path '*/pkgconfig/subinterp.pc' -print -quit)
[[ -n $pc_file ]] || die "no pkgconfig/subinterp.pc under $prefix"
pc_dir=$(dirname -- "$pc_file")
lib_dir=$(dirname -- "$pc_dir")
[[ -f $prefix/include/subinterp.h ]] || die "header not installed at $prefix/include/subinterp.h"
# The consumer links libsubinterp.so -> libsubinterp.so.1 -> the real file.
[[ -e $lib_dir/libsubinterp.so ]] || die "$lib_dir/libsubinterp.so (development link) not installed"
[[ -e $lib_dir/libsubinterp.so.1 ]] || die "$lib_dir/libsubinterp.so.1 (SONAME link) not installed"
[[ -f $lib_dir/cmake/subinterp/subinterpConfig.cmake ]] ||
  die "$lib_dir/cmake/subinterp/subinterpConfig.cmake not installed"
echo "install: installed into $prefix (libdir $lib_dir)"

cat >"$scratch/consumer.c" <<'EOF'
#include <stdio.h>
#include <string.h>

#include <subinterp.h>

static int fail(const char *what, subinterp_error *err) {
    fprintf(stderr, "consumer: %s failed: %s: %s\n", what, subinterp_status_name(subinterp_error_code(err)),
            subinterp_error_message(err));
    subinterp_error_free(err);
    return 1;
}

int main(void) {
    subinterp_error *err = NULL;
    subinterp_run_options opts;
    subinterp_output *out = NULL;
    int64_t id = 0;
    const char *text;

    if (subinterp_version() != SUBINTERP_VERSION_NUMBER) {
        fprintf(stderr, "consumer: library version %u, header %d\n", subinterp_version(), SUBINTERP_VERSION_NUMBER);
        return 1;
    }
    if (subinterp_create(NULL, &id, &err) != SUBINTERP_OK) return fail("create", err);
    subinterp_run_options_init(&opts);
    opts.flags = SUBINTERP_RUN_CAPTURE_STDOUT;
    if (subinterp_exec(id, "print(6*7)", &opts, &out, &err) != SUBINTERP_OK) return fail("exec", err);
    text = subinterp_output_stdout(out, NULL);
    if (strcmp(text, "42\n") != 0) {
        fprintf(stderr, "consumer: captured \"%s\", expected \"42\\n\"\n", text);
        return 1;
    }
    printf("consumer: subinterp %s on CPython %s: 6*7 = %s", subinterp_version_string(),
           subinterp_python_version_string(), text);
    subinterp_output_free(out);
    if (subinterp_destroy(id, &err) != SUBINTERP_OK) return fail("destroy", err);
    if (subinterp_runtime_finalize(&err) != SUBINTERP_OK) return fail("finalize", err);
    return 0;
}
EOF
# Runs a consumer with the installed library first on the search path, and
# checks it really loaded the installed copy (not a build tree or /usr/local).
run_consumer() {
  local binary=$1
  readelf -d "$binary" | grep -q 'NEEDED.*\[libsubinterp\.so\.1\]' ||
    die "$binary does not depend on the SONAME libsubinterp.so.1"
  local loaded
  loaded=$(LD_LIBRARY_PATH=$lib_dir ldd "$binary" | awk '$1 == "libsubinterp.so.1" {print $3}')
  [[ $(realpath -- "${loaded:-/nonexistent}" 2>/dev/null) == "$(realpath -- "$lib_dir/libsubinterp.so.1")" ]] ||
    die "$binary loads libsubinterp.so.1 from '${loaded:-nowhere}', not from $lib_dir"
  LD_LIBRARY_PATH=$lib_dir "$binary" || die "$binary failed (exit status $?)"
}

# --- (a) pkg-config ------------------------------------------------------------------
export PKG_CONFIG_PATH=$pc_dir
pc_prefix=$(pkg-config --variable=prefix subinterp) || die "pkg-config cannot read $pc_file"
# A prefix frozen at configure time sends consumers to headers and libraries
# that are not there (or, worse, to another installed version).
[[ -d $pc_prefix && $(realpath "$pc_prefix") == "$(realpath "$prefix")" ]] ||
  die "subinterp.pc says prefix=$pc_prefix but it was installed under $prefix (the .pc is not relocatable)"
header_version=$(sed -n 's/^#define SUBINTERP_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' \
  "$prefix/include/subinterp.h" | paste -sd.)
pc_version=$(pkg-config --modversion subinterp)
[[ $pc_version == "$header_version" ]] ||
  die "pkg-config --modversion says $pc_version, the installed header $header_version"
read -r -a pc_flags <<<"$(pkg-config --cflags --libs subinterp)"
echo "install: cc consumer.c ${pc_flags[*]}"
cc -std=c99 -Wall -Wextra -Werror "$scratch/consumer.c" "${pc_flags[@]}" -o "$scratch/consumer_pkgconfig" ||
  die "building the consumer with pkg-config flags failed"
run_consumer "$scratch/consumer_pkgconfig"
echo "install: pkg-config consumer OK"

# --- (b) find_package ---------------------------------------------------------------------
mkdir -p "$scratch/cmake-consumer"
cp "$scratch/consumer.c" "$scratch/cmake-consumer/consumer.c"
cat >"$scratch/cmake-consumer/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.20)
project(subinterp_consumer LANGUAGES C)
find_package(subinterp 0.1 REQUIRED)
add_executable(consumer consumer.c)
target_link_libraries(consumer PRIVATE subinterp::subinterp)
EOF
generator=()
if command -v ninja >/dev/null; then
  generator=(-G Ninja)
fi
echo "install: find_package(subinterp 0.1 REQUIRED) with CMAKE_PREFIX_PATH=$prefix"
cmake -S "$scratch/cmake-consumer" -B "$scratch/cmake-consumer/build" "${generator[@]}" \
  -DCMAKE_C_COMPILER="$(command -v cc)" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF \
  >"$scratch/cmake-consumer.log" 2>&1 ||
  { cat "$scratch/cmake-consumer.log" >&2; die "configuring the find_package consumer failed"; }
found=$(sed -n 's/^subinterp_DIR:PATH=//p' "$scratch/cmake-consumer/build/CMakeCache.txt")
[[ $found == "$prefix"/* ]] || die "find_package found subinterp in '$found', not under $prefix"
cmake --build "$scratch/cmake-consumer/build" >>"$scratch/cmake-consumer.log" 2>&1 ||
  { cat "$scratch/cmake-consumer.log" >&2; die "building the find_package consumer failed"; }
run_consumer "$scratch/cmake-consumer/build/consumer"
echo "install: find_package consumer OK"

echo "install: OK"

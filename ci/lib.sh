# Shared by the ci/ scripts: paths, logging, and finding the CPython builds.
# shellcheck shell=bash
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_ROOT=${SUBINTERP_BUILD_ROOT:-$ROOT/build}
# The CPython series the project supports and tests; newest last.
PYTHON_SERIES=(3.12 3.13)

log() { printf '\n==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

pyenv_root() { echo "${PYENV_ROOT:-$HOME/.pyenv}"; }

# Newest installed pyenv build of a series, e.g. "3.13" -> /root/.pyenv/versions/3.13.0/bin/python3
python_for() {
  local series=$1 best="" v
  for dir in "$(pyenv_root)"/versions/"$series".*; do
    [[ -x $dir/bin/python3 ]] || continue
    v=${dir##*/}
    [[ $v =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || continue
    if [[ -z $best ]] || [[ $(printf '%s\n%s\n' "${best##*/versions/}" "$v" | sort -V | tail -1) == "$v" ]]; then
      best=$dir
    fi
  done
  [[ -n $best ]] || return 1
  echo "${best%/}/bin/python3"
}

build_dir_for() { # series [variant]
  echo "$BUILD_ROOT/py$1${2:+-$2}"
}

# The Python binding's test runner, pinned; ci/setup installs it into one venv
# per series (venv_for), ci/check-python-package into its throwaway venv.
PYTEST_VERSION=9.2.0
# The conformance driver validates the case files with it (ci/setup installs
# it beside pytest).
JSONSCHEMA_VERSION=4.26.0
# ci/check-python-package checks the type stubs with it (in its throwaway venv).
MYPY_VERSION=2.4.1
venv_for() { # series
  echo "$BUILD_ROOT/venv/py$1"
}
# The benchmarks' venv (bench/requirements.txt; ci/setup makes it).
bench_venv_for() { # series
  echo "$BUILD_ROOT/venv/bench-py$1"
}

jobs() { nproc 2>/dev/null || echo 2; }

# The Rust workspace (bindings/rust: the crates, the Rust example and the Rust
# conformance runner) built against one series' library: cargo's target
# directory lives in that series' build directory, and pkg-config finds the
# library there (CMake writes subinterp-uninstalled.pc into it).
RUST_WORKSPACE=$ROOT/bindings/rust
cargo_for() { # series cargo-arguments...
  local dir
  dir=$(build_dir_for "$1")
  shift
  (cd "$RUST_WORKSPACE" && CARGO_TARGET_DIR="$dir/rust" PKG_CONFIG_PATH="$dir" cargo "$@")
}

# The Go binding (bindings/go) and the Go programs built on it (examples/go,
# conformance/runners/go: modules of their own that `replace` the binding
# with this checkout) against one series' library, found by pkg-config (cgo).
GO_BINDING=$ROOT/bindings/go
go_for() { # series directory go-arguments...
  local dir series=$1 where=$2
  dir=$(build_dir_for "$series")
  shift 2
  # Go's build cache keys cgo packages on CGO_* variables but not on what
  # pkg-config prints, so without a series-specific CGO_LDFLAGS one series'
  # binaries would link (and rpath) the other series' library.
  (cd "$where" && PKG_CONFIG_PATH="$dir" CGO_LDFLAGS="${CGO_LDFLAGS:-} -L$dir" \
    GOFLAGS="${GOFLAGS:-} -buildvcs=false" go "$@")
}

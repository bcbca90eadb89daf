"""Builds the native parts of the `subinterp` package with the project's CMake.

    pip install ./bindings/python          (from the repository root)

configures the repository root (two levels up) against the running Python in a
temporary build directory, builds the target `subinterp_python_package` and
puts into the package, next to the .py sources and stubs:

- ``_capi<EXT_SUFFIX>`` and ``capi.py``: the SWIG control plane;
- ``libsubinterp.so.1``: the library itself (a real file, not the build tree's
  symlink), which ``_native.py`` loads as the data plane ``_subinterp``.

Needs CMake >= 3.20, a C++17 compiler and SWIG 4 on PATH (ci/setup installs
them), and a shared-library CPython 3.12 or 3.13 (--enable-shared), since the
library embeds the CPython it was built against. The package is built from the
repository; an sdist on its own cannot build.

Environment knobs: SUBINTERP_CMAKE_BUILD_TYPE (default Release),
SUBINTERP_CMAKE_ARGS (extra arguments for the configure step, space
separated), CMAKE_BUILD_PARALLEL_LEVEL (default: the number of CPUs).
"""
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
LIBRARY = "libsubinterp.so.1"


class CMakeExtension(Extension):
    """An extension CMake builds; setuptools only knows where it goes."""

    def __init__(self, name):
        super().__init__(name, sources=[])


class BuildWithCMake(build_ext):
    def build_extension(self, ext):
        if not os.path.isfile(os.path.join(REPO_ROOT, "CMakeLists.txt")) or \
                not os.path.isfile(os.path.join(REPO_ROOT, "bindings", "python", "capi.i")):
            raise RuntimeError(f"subinterp: the repository root (with CMakeLists.txt) is expected at {REPO_ROOT}; "
                               f"build the package from a checkout: pip install ./bindings/python")
        for tool in ("cmake", "swig"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"subinterp: `{tool}` is not on PATH; install it (Debian: apt-get install "
                                   f"cmake swig g++), or run ci/setup")
        if not sysconfig.get_config_var("Py_ENABLE_SHARED"):
            raise RuntimeError(f"subinterp: {sys.executable} is not a shared-library build of CPython "
                               f"(--enable-shared); the library embeds libpython")

        # Where setuptools expects the extension: build/lib.*/subinterp, or the
        # source package for an in-place (editable) build.
        package_dir = os.path.dirname(os.path.abspath(self.get_ext_fullpath(ext.name)))
        os.makedirs(package_dir, exist_ok=True)
        ext_suffix = sysconfig.get_config_var("EXT_SUFFIX")

        build_type = os.environ.get("SUBINTERP_CMAKE_BUILD_TYPE", "Release")
        configure = [
            "cmake", "-S", REPO_ROOT,
            f"-DCMAKE_BUILD_TYPE={build_type}",
            f"-DSUBINTERP_PYTHON={sys.executable}",
            "-DSUBINTERP_BUILD_TESTS=OFF",
            "-DSUBINTERP_BUILD_EXAMPLES=OFF",
            "-DSUBINTERP_BUILD_PYTHON_PACKAGE=ON",
        ]
        if shutil.which("ninja"):
            configure += ["-G", "Ninja"]
        configure += shlex.split(os.environ.get("SUBINTERP_CMAKE_ARGS", ""))
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(os.cpu_count() or 1)

        with tempfile.TemporaryDirectory(prefix="subinterp-cmake-") as build_dir:
            subprocess.run(configure + ["-B", build_dir], check=True)
            subprocess.run(["cmake", "--build", build_dir, "--target", "subinterp_python_package",
                            "--parallel", jobs], check=True)
            built = os.path.join(build_dir, "python", "subinterp")
            capi_module = os.path.join(built, "_capi" + ext_suffix)
            for needed in (capi_module, os.path.join(built, "capi.py"), os.path.join(built, LIBRARY)):
                if not os.path.exists(needed):
                    raise RuntimeError(f"subinterp: the CMake build did not produce {needed}")
            shutil.copyfile(capi_module, os.path.join(package_dir, "_capi" + ext_suffix))
            shutil.copyfile(os.path.join(built, "capi.py"), os.path.join(package_dir, "capi.py"))
            # The build tree has a symlink to libsubinterp.so.<version>: ship the file itself.
            shutil.copyfile(os.path.realpath(os.path.join(built, LIBRARY)), os.path.join(package_dir, LIBRARY))
            for name in ("_capi" + ext_suffix, LIBRARY):
                os.chmod(os.path.join(package_dir, name), 0o755)


setup(
    ext_modules=[CMakeExtension("subinterp._capi")],
    cmdclass={"build_ext": BuildWithCMake},
)

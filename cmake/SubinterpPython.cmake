# Finds the CPython to build against and describes it.
#
#   SUBINTERP_PYTHON          path to a python3 executable (wins if set)
#   SUBINTERP_PYTHON_VERSION  e.g. "3.12": newest pyenv build of that series
#   (neither)                 newest pyenv build of 3.12 or later
#
# Sets SUBINTERP_PY_{VERSION,INCLUDE,LIBRARY,LIBDIR,PREFIX,STDLIB,EXT_SUFFIX}.

set(SUBINTERP_PYTHON "" CACHE FILEPATH "CPython 3.12+ executable to build against")
set(SUBINTERP_PYTHON_VERSION "" CACHE STRING "Series (e.g. 3.13) to pick from pyenv when SUBINTERP_PYTHON is unset")

function(_subinterp_pyenv_candidates out)
  if(DEFINED ENV{PYENV_ROOT})
    set(root "$ENV{PYENV_ROOT}")
  else()
    set(root "$ENV{HOME}/.pyenv")
  endif()
  file(GLOB dirs LIST_DIRECTORIES true "${root}/versions/3.*")
  set(${out} ${dirs} PARENT_SCOPE)
endfunction()

if(NOT SUBINTERP_PYTHON)
  _subinterp_pyenv_candidates(candidates)
  set(best_version "0")
  foreach(dir IN LISTS candidates)
    get_filename_component(version "${dir}" NAME)
    if(NOT version MATCHES "^3\\.([0-9]+)\\.[0-9]+$")
      continue()  # skip dev/rc/free-threaded builds
    endif()
    if(CMAKE_MATCH_1 LESS 12 OR NOT EXISTS "${dir}/bin/python3")
      continue()
    endif()
    if(SUBINTERP_PYTHON_VERSION AND NOT version MATCHES "^${SUBINTERP_PYTHON_VERSION}\\.")
      continue()
    endif()
    if(version VERSION_GREATER best_version)
      set(best_version "${version}")
      set(best "${dir}/bin/python3")
    endif()
  endforeach()
  if(NOT best)
    message(FATAL_ERROR "No CPython ${SUBINTERP_PYTHON_VERSION} (3.12 or later) found under pyenv; "
                        "set -DSUBINTERP_PYTHON=/path/to/python3")
  endif()
  set(SUBINTERP_PYTHON "${best}" CACHE FILEPATH "CPython 3.12+ executable to build against" FORCE)
endif()

execute_process(
  COMMAND "${SUBINTERP_PYTHON}" -c [=[
import sys, sysconfig
v = sysconfig.get_config_var
print(";".join([
    "%d.%d.%d" % sys.version_info[:3],
    sysconfig.get_paths()["include"],
    v("LIBDIR") or "", v("LDLIBRARY") or "", str(v("Py_ENABLE_SHARED") or 0),
    sys.base_prefix, sysconfig.get_paths()["stdlib"], v("EXT_SUFFIX"),
]))
]=]
  OUTPUT_VARIABLE _described OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _failed)
if(_failed)
  message(FATAL_ERROR "Cannot run ${SUBINTERP_PYTHON}")
endif()
list(GET _described 0 SUBINTERP_PY_VERSION)
list(GET _described 1 SUBINTERP_PY_INCLUDE)
list(GET _described 2 SUBINTERP_PY_LIBDIR)
list(GET _described 3 _ldlibrary)
list(GET _described 4 _shared)
list(GET _described 5 SUBINTERP_PY_PREFIX)
list(GET _described 6 SUBINTERP_PY_STDLIB)
list(GET _described 7 SUBINTERP_PY_EXT_SUFFIX)

if(SUBINTERP_PY_VERSION VERSION_LESS 3.12)
  message(FATAL_ERROR "${SUBINTERP_PYTHON} is CPython ${SUBINTERP_PY_VERSION}; 3.12 or later is required "
                      "(per-interpreter GIL)")
endif()
if(NOT _shared STREQUAL "1")
  message(FATAL_ERROR "${SUBINTERP_PYTHON} is not a shared-library build (--enable-shared); embedding needs libpython")
endif()
set(SUBINTERP_PY_LIBRARY "${SUBINTERP_PY_LIBDIR}/${_ldlibrary}")
message(STATUS "subinterp: building against CPython ${SUBINTERP_PY_VERSION} (${SUBINTERP_PYTHON})")

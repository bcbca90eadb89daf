#include "subinterp/config.hpp"

#include <string>

#include "subinterp/error.hpp"

namespace subinterp {
namespace {

void require_boolean(int value, const char* field) {
    if (value != 0 && value != 1) {
        throw Error(ErrorCode::Config,
                    std::string("config.") + field + " must be 0 or 1, got " + std::to_string(value));
    }
}

}  // namespace

void Config::validate() const {
    require_boolean(use_main_obmalloc, "use_main_obmalloc");
    require_boolean(allow_fork, "allow_fork");
    require_boolean(allow_exec, "allow_exec");
    require_boolean(allow_threads, "allow_threads");
    require_boolean(allow_daemon_threads, "allow_daemon_threads");
    require_boolean(check_multi_interp_extensions, "check_multi_interp_extensions");
    if (gil < static_cast<int>(Gil::Default) || gil > static_cast<int>(Gil::Own)) {
        throw Error(ErrorCode::Config, "config.gil must be SUBINTERP_GIL_DEFAULT (0), SHARED (1) or OWN (2), got " +
                                           std::to_string(gil));
    }
    // CPython 3.12.1 and 3.13.0 accept this and then share one allocator
    // between two GILs, which corrupts memory; the docs forbid it.
    if (use_main_obmalloc && has_own_gil()) {
        throw Error(ErrorCode::Config, "config.use_main_obmalloc=1 cannot be combined with gil=OWN: "
                                       "an interpreter with its own GIL needs its own allocator");
    }
    if (!use_main_obmalloc && !check_multi_interp_extensions) {
        throw Error(ErrorCode::Config, "config.use_main_obmalloc=0 requires check_multi_interp_extensions=1: "
                                       "single-phase extension modules cannot use a per-interpreter allocator");
    }
    if (allow_daemon_threads && !allow_threads) {
        throw Error(ErrorCode::Config, "config.allow_daemon_threads=1 requires allow_threads=1");
    }
}

}  // namespace subinterp

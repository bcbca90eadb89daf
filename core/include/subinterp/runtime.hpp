// The process-wide relation to CPython: embed (we initialized it) or attach
// (a Python process loaded us). Owns the interpreter registry.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "subinterp/error.hpp"
#include "subinterp/interpreters.hpp"

namespace subinterp {

// Values equal SUBINTERP_RUNTIME_* of subinterp.h.
enum class RuntimeMode : int { None = 0, Embed = 1, Attach = 2, Finalized = 3 };

struct RuntimeOptions {
    std::optional<std::string> python_home;  // default: $SUBINTERP_PYTHON_HOME, else the build's prefix
    bool import_site = true;
    bool install_signal_handlers = false;
};

class Runtime {
public:
    static Runtime& instance();

    // Explicit start; nullptr means defaults. Options given once started, or
    // any start after finalize, throw Error(Runtime).
    void start(const RuntimeOptions* options);

    // The registry, starting the runtime with defaults on first use.
    Interpreters& interpreters();

    // Destroys every sub-interpreter; in embed mode finalizes CPython for good,
    // in attach mode returns to None (the next use attaches again).
    void finalize();

    RuntimeMode mode() const noexcept { return mode_.load(std::memory_order_acquire); }

    // The Python home embed mode uses with these options.
    static std::string python_home(const RuntimeOptions& options);

    // The CPython the library was compiled against: PY_VERSION_HEX, PY_VERSION.
    static uint32_t python_version_hex() noexcept;
    static const char* python_version() noexcept;

private:
    Runtime() = default;
    void start_locked(const RuntimeOptions& options);
    void embed(const RuntimeOptions& options);

    std::mutex mutex_;
    std::atomic<RuntimeMode> mode_{RuntimeMode::None};
    std::unique_ptr<Interpreters> interpreters_;
    std::optional<Error> start_failure_;  // a failed CPython start is final too
};

}  // namespace subinterp

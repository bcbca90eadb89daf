// The seven PyInterpreterConfig fields, presets and the validation CPython
// 3.12/3.13 do not do themselves.
#pragma once

#include <tuple>

namespace subinterp {

enum class Gil : int { Default = 0, Shared = 1, Own = 2 };

// Copies the seven fields between any two structs that name them alike:
// Config, the C ABI's subinterp_config and CPython's PyInterpreterConfig.
// The one place that lists them.
template <class From, class To>
void copy_config_fields(const From& from, To& to) {
    to.use_main_obmalloc = from.use_main_obmalloc;
    to.allow_fork = from.allow_fork;
    to.allow_exec = from.allow_exec;
    to.allow_threads = from.allow_threads;
    to.allow_daemon_threads = from.allow_daemon_threads;
    to.check_multi_interp_extensions = from.check_multi_interp_extensions;
    to.gil = from.gil;
}

struct Config {
    int use_main_obmalloc = 0;
    int allow_fork = 0;
    int allow_exec = 0;
    int allow_threads = 1;
    int allow_daemon_threads = 0;
    int check_multi_interp_extensions = 1;
    int gil = static_cast<int>(Gil::Own);

    static Config isolated() { return Config{}; }
    static Config legacy() { return Config{1, 1, 1, 1, 1, 0, static_cast<int>(Gil::Shared)}; }
    // What CPython's main interpreter runs with.
    static Config main() { return Config{1, 1, 1, 1, 1, 0, static_cast<int>(Gil::Own)}; }

    // Throws Error(Config) naming the offending field(s).
    void validate() const;
    // Field by field; keep in step with copy_config_fields above.
    bool operator==(const Config& other) const {
        return std::tie(use_main_obmalloc, allow_fork, allow_exec, allow_threads, allow_daemon_threads,
                        check_multi_interp_extensions, gil) ==
               std::tie(other.use_main_obmalloc, other.allow_fork, other.allow_exec, other.allow_threads,
                        other.allow_daemon_threads, other.check_multi_interp_extensions, other.gil);
    }
    bool operator!=(const Config& other) const { return !(*this == other); }
    bool has_own_gil() const { return gil == static_cast<int>(Gil::Own); }
};

}  // namespace subinterp

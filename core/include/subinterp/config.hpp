// The seven PyInterpreterConfig fields, presets and the validation CPython
// 3.12/3.13 do not do themselves.
#pragma once

namespace subinterp {

enum class Gil : int { Default = 0, Shared = 1, Own = 2 };

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
    bool has_own_gil() const { return gil == static_cast<int>(Gil::Own); }
};

}  // namespace subinterp

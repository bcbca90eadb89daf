#include "subinterp/compatibility.hpp"

#include <Python.h>

#include <optional>
#include <utility>

#include "subinterp/error.hpp"
#include "subinterp/execution.hpp"
#include "subinterp/interpreters.hpp"
#include "subinterp/runtime.hpp"
#include "subinterp/utf8.hpp"

namespace subinterp {
namespace {

// What CPython says when an extension refuses an interpreter (3.12, 3.13).
constexpr const char* kRefusedBySubinterpreter = "does not support loading in subinterpreters";

constexpr const char* kImport =
    "import importlib\n"
    "try:\n"
    "    importlib.import_module(_subinterp_module)\n"
    "finally:\n"
    "    del _subinterp_module\n";

// Imports `module` in a fresh interpreter of `config`: nullopt if it
// imports, else the failure.
std::optional<Error> try_import(const Config& config, const std::string& module) {
    Interpreters& registry = Runtime::instance().interpreters();
    const int64_t id = registry.create(config);
    std::optional<Error> failure;
    try {
        const auto interpreter = registry.find(id);
        prepare_main(*interpreter, *Data::dict({{Data::str("_subinterp_module"), Data::str(module)}}));
        exec(*interpreter, kImport, RunOptions{}, nullptr);
    } catch (const Error& error) {
        failure = error;
    }
    registry.destroy(id);
    return failure;
}

Config shared_gil() {
    Config config = Config::isolated();
    config.gil = static_cast<int>(Gil::Shared);
    return config;
}

std::string describe(const Error& error) {
    if (!error.python()) return error.message();
    return error.python()->qualname + ": " + error.message();
}

struct Verdict {
    std::string reason;
    std::optional<std::string> needs;
};

// Why `module` failed under the asked config, by trying the configs that
// lift one restriction at a time.
Verdict diagnose(const Config& config, const std::string& module, const Error& failure) {
    if (failure.python() && failure.python()->qualname == "ModuleNotFoundError") return {"not-found", std::nullopt};
    const bool refused = failure.message().find(kRefusedBySubinterpreter) != std::string::npos;
#if PY_VERSION_HEX < 0x030D0000
    // CPython 3.12 runs a single-phase module's init before refusing it, and
    // some (_testsinglephase, _datetime, _decimal) keep objects of the
    // refusing interpreter in static state: importing them again in any
    // interpreter frees those and crashes the process. So no second try:
    // the reason stays undecided, and LEGACY accepts both kinds.
    if (refused) return {"not-isolated", "legacy"};
#endif
    if (config != shared_gil() && config != Config::legacy() && !try_import(shared_gil(), module)) {
        return {refused ? "no-per-interpreter-gil" : "needs-shared-gil", "shared-gil"};
    }
    if (config != Config::legacy() && !try_import(Config::legacy(), module)) {
        return {refused ? "single-phase" : "needs-legacy", "legacy"};
    }
    return {"error", std::nullopt};
}

DataPtr optional_str(const std::optional<std::string>& text) { return text ? Data::str(*text) : Data::none(); }

}  // namespace

DataPtr check_imports(const Config& config, const std::vector<std::string>& modules) {
    config.validate();
    for (const std::string& module : modules) {
        utf8::require_valid(module, "module name");
        if (module.empty()) throw Error(ErrorCode::InvalidArgument, "a module name is empty");
    }
    DataItems report;
    for (const std::string& module : modules) {
        const std::optional<Error> failure = try_import(config, module);
        const Verdict verdict = failure ? diagnose(config, module, *failure) : Verdict{"ok", std::nullopt};
        report.push_back(Data::dict({
            {Data::str("module"), Data::str(module)},
            {Data::str("ok"), Data::boolean(!failure)},
            {Data::str("reason"), Data::str(verdict.reason)},
            {Data::str("needs"), optional_str(verdict.needs)},
            {Data::str("error"), failure ? Data::str(describe(*failure)) : Data::none()},
        }));
    }
    return Data::list(std::move(report));
}

}  // namespace subinterp

// Versions, runtime start/finalize and interpreter configs.
#include <cstddef>

#include "config.hpp"
#include "guard.hpp"
#include "subinterp/runtime.hpp"

using subinterp::capi::guarded;
using subinterp::capi::require;
using subinterp::capi::require_struct_size;

namespace {

constexpr std::size_t kRuntimeOptionsV1 = offsetof(subinterp_runtime_options, install_signal_handlers) + sizeof(int);
constexpr std::size_t kConfigV1 = offsetof(subinterp_config, gil) + sizeof(int);

subinterp::Config to_core(const subinterp_config& config) {
    require_struct_size(config.struct_size, kConfigV1, sizeof(subinterp_config), "subinterp_config");
    subinterp::Config result;
    subinterp::copy_config_fields(config, result);
    return result;
}

}  // namespace

namespace subinterp::capi {

Config config_from(const subinterp_config* config) {
    return config ? to_core(*config) : Config::isolated();
}

void config_to(const Config& from, subinterp_config& to) {
    require_struct_size(to.struct_size, kConfigV1, sizeof(subinterp_config), "subinterp_config");
    copy_config_fields(from, to);
}

}  // namespace subinterp::capi

extern "C" {

unsigned subinterp_version(void) { return SUBINTERP_VERSION_NUMBER; }

const char* subinterp_version_string(void) {
#define SUBINTERP_STR2(x) #x
#define SUBINTERP_STR(x) SUBINTERP_STR2(x)
    return SUBINTERP_STR(SUBINTERP_VERSION_MAJOR) "." SUBINTERP_STR(SUBINTERP_VERSION_MINOR) "." SUBINTERP_STR(
        SUBINTERP_VERSION_PATCH);
}

uint32_t subinterp_python_version(void) { return subinterp::Runtime::python_version_hex(); }

const char* subinterp_python_version_string(void) { return subinterp::Runtime::python_version(); }

subinterp_status subinterp_runtime_options_init(subinterp_runtime_options* opts) {
    if (!opts) return SUBINTERP_ERR_INVALID_ARGUMENT;
    *opts = subinterp_runtime_options{};
    opts->struct_size = sizeof(subinterp_runtime_options);
    opts->python_home = nullptr;
    opts->import_site = 1;
    opts->install_signal_handlers = 0;
    return SUBINTERP_OK;
}

subinterp_status subinterp_runtime_init(const subinterp_runtime_options* opts, subinterp_error** err) {
    return guarded(err, [&] {
        if (!opts) {
            subinterp::Runtime::instance().start(nullptr);
            return;
        }
        require_struct_size(opts->struct_size, kRuntimeOptionsV1, sizeof(subinterp_runtime_options),
                            "subinterp_runtime_options");
        subinterp::RuntimeOptions options;
        if (opts->python_home) options.python_home = opts->python_home;
        options.import_site = opts->import_site != 0;
        options.install_signal_handlers = opts->install_signal_handlers != 0;
        subinterp::Runtime::instance().start(&options);
    });
}

subinterp_status subinterp_runtime_finalize(subinterp_error** err) {
    return guarded(err, [&] { subinterp::Runtime::instance().finalize(); });
}

subinterp_runtime_mode subinterp_runtime_get_mode(void) {
    return static_cast<subinterp_runtime_mode>(subinterp::Runtime::instance().mode());
}

subinterp_status subinterp_config_init(subinterp_config* config, subinterp_config_preset preset) {
    if (!config) return SUBINTERP_ERR_INVALID_ARGUMENT;
    subinterp::Config core;
    switch (subinterp::capi::enum_value(preset)) {
        case SUBINTERP_CONFIG_ISOLATED: core = subinterp::Config::isolated(); break;
        case SUBINTERP_CONFIG_LEGACY: core = subinterp::Config::legacy(); break;
        default: return SUBINTERP_ERR_INVALID_ARGUMENT;
    }
    *config = subinterp_config{};
    config->struct_size = sizeof(subinterp_config);
    subinterp::capi::config_to(core, *config);
    return SUBINTERP_OK;
}

subinterp_status subinterp_config_validate(const subinterp_config* config, subinterp_error** err) {
    return guarded(err, [&] { to_core(require(config, "config")).validate(); });
}

}  // extern "C"

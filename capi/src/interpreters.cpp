// Interpreter lifecycle and running code.
#include <algorithm>
#include <memory>

#include "config.hpp"
#include "guard.hpp"
#include "run.hpp"
#include "subinterp/compatibility.hpp"
#include "subinterp/execution.hpp"
#include "subinterp/runtime.hpp"


using subinterp::capi::guarded;
using subinterp::capi::require;

namespace {

constexpr uint32_t kKnownRunFlags = SUBINTERP_RUN_CAPTURE_STDOUT | SUBINTERP_RUN_CAPTURE_STDERR | SUBINTERP_RUN_STRICT;
constexpr std::size_t kRunOptionsV1 = offsetof(subinterp_run_options, flags) + sizeof(uint32_t);

subinterp::Interpreters& registry() { return subinterp::Runtime::instance().interpreters(); }

std::shared_ptr<subinterp::Interpreter> find(int64_t id) { return registry().find(id); }

const subinterp::Data* core(const subinterp_data* data) { return reinterpret_cast<const subinterp::Data*>(data); }

}  // namespace

namespace subinterp::capi {

RunOptions run_options(const subinterp_run_options* opts) {
    subinterp::RunOptions options;
    if (!opts) return options;
    subinterp::capi::require_struct_size(opts->struct_size, kRunOptionsV1, sizeof(subinterp_run_options),
                                         "subinterp_run_options");
    if (opts->flags & ~kKnownRunFlags) {
        throw subinterp::Error(subinterp::ErrorCode::InvalidArgument,
                               "subinterp_run_options.flags has unknown bits " + std::to_string(opts->flags & ~kKnownRunFlags));
    }
    options.capture_stdout = opts->flags & SUBINTERP_RUN_CAPTURE_STDOUT;
    options.capture_stderr = opts->flags & SUBINTERP_RUN_CAPTURE_STDERR;
    options.strict = opts->flags & SUBINTERP_RUN_STRICT;
    if (opts->struct_size >= offsetof(subinterp_run_options, timeout) + sizeof(double)) {
        options.timeout = subinterp::run_timeout_from_seconds(opts->timeout);
    }
    return options;
}

}  // namespace subinterp::capi

using subinterp::capi::run_with_output;

extern "C" {

subinterp_status subinterp_create(const subinterp_config* config, int64_t* id, subinterp_error** err) {
    return guarded(err, [&] {
        int64_t& out = require(id, "id");
        out = registry().create(subinterp::capi::config_from(config));
    });
}

subinterp_status subinterp_destroy(int64_t id, subinterp_error** err) {
    return guarded(err, [&] { registry().destroy(id); });
}

subinterp_status subinterp_list(int64_t* ids, size_t capacity, size_t* count, subinterp_error** err) {
    return guarded(err, [&] { subinterp::capi::write_ids(registry().ids(), ids, capacity, count); });
}

subinterp_status subinterp_main_id(int64_t* id, subinterp_error** err) {
    return guarded(err, [&] {
        int64_t& out = require(id, "id");
        out = registry().main()->id();
    });
}

subinterp_status subinterp_current_id(int64_t* id, subinterp_error** err) {
    return guarded(err, [&] {
        int64_t& out = require(id, "id");
        registry();  // started, so the thread-state query is meaningful
        const auto current = subinterp::Interpreters::current_id();
        if (!current) {
            throw subinterp::Error(subinterp::ErrorCode::NotFound, "the calling thread is not running Python code");
        }
        out = *current;
    });
}

subinterp_status subinterp_is_running(int64_t id, int* running, subinterp_error** err) {
    return guarded(err, [&] {
        int& out = require(running, "running");
        out = find(id)->is_running() ? 1 : 0;
    });
}

subinterp_status subinterp_get_config(int64_t id, subinterp_config* config, subinterp_error** err) {
    return guarded(err, [&] {
        subinterp_config& out = require(config, "config");
        subinterp::capi::config_to(find(id)->config(), out);
    });
}

subinterp_status subinterp_run_options_init(subinterp_run_options* opts) {
    if (!opts) return SUBINTERP_ERR_INVALID_ARGUMENT;
    *opts = subinterp_run_options{};
    opts->struct_size = sizeof(subinterp_run_options);
    return SUBINTERP_OK;
}

const char* subinterp_output_stdout(const subinterp_output* out, size_t* len) {
    if (len) *len = out ? out->output.out.size() : 0;
    return out ? out->output.out.c_str() : "";
}

const char* subinterp_output_stderr(const subinterp_output* out, size_t* len) {
    if (len) *len = out ? out->output.err.size() : 0;
    return out ? out->output.err.c_str() : "";
}

void subinterp_output_free(subinterp_output* out) { std::unique_ptr<subinterp_output> owned(out); }

subinterp_status subinterp_exec(int64_t id, const char* source, const subinterp_run_options* opts,
                                subinterp_output** output, subinterp_error** err) {
    return run_with_output(opts, output, err, [&](const subinterp::RunOptions& options, subinterp::Output* captured) {
        const char* text = &require(source, "source");
        subinterp::exec(*find(id), text, options, captured);
    });
}

subinterp_status subinterp_call(int64_t id, const char* callable, const subinterp_data* args,
                                const subinterp_data* kwargs, const subinterp_run_options* opts,
                                subinterp_data** result, subinterp_output** output, subinterp_error** err) {
    return run_with_output(opts, output, err, [&](const subinterp::RunOptions& options, subinterp::Output* captured) {
        const char* name = &require(callable, "callable");
        subinterp_data*& out = require(result, "result");
        subinterp::DataPtr value = subinterp::call(*find(id), name, core(args), core(kwargs), options, captured);
        out = reinterpret_cast<subinterp_data*>(value.release());
    });
}

subinterp_status subinterp_interrupt(int64_t id, size_t* interrupted, subinterp_error** err) {
    return guarded(err, [&] {
        const std::size_t count = subinterp::interrupt(*find(id));
        if (interrupted) *interrupted = count;
    });
}

subinterp_status subinterp_check_imports(const subinterp_config* config, const char* const* modules, size_t count,
                                         subinterp_data** report, subinterp_error** err) {
    return guarded(err, [&] {
        subinterp_data*& out = require(report, "report");
        if (count > 0) subinterp::capi::require_non_null(modules, "modules");
        std::vector<std::string> names;
        names.reserve(count);
        for (size_t i = 0; i < count; ++i) {
            if (!modules[i]) {
                throw subinterp::Error(subinterp::ErrorCode::InvalidArgument, "modules[" + std::to_string(i) + "] is NULL");
            }
            names.emplace_back(modules[i]);
        }
        out = reinterpret_cast<subinterp_data*>(
            subinterp::check_imports(subinterp::capi::config_from(config), names).release());
    });
}

subinterp_status subinterp_prepare_main(int64_t id, const subinterp_data* names, subinterp_error** err) {
    return guarded(err, [&] { subinterp::prepare_main(*find(id), require(core(names), "names")); });
}

}  // extern "C"

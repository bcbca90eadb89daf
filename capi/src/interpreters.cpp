// Interpreter lifecycle and running code.
#include <algorithm>
#include <memory>

#include "config.hpp"
#include "guard.hpp"
#include "subinterp/execution.hpp"
#include "subinterp/runtime.hpp"

struct subinterp_output {
    subinterp::Output output;
};


using subinterp::capi::guarded;
using subinterp::capi::require;

namespace {

constexpr uint32_t kKnownRunFlags = SUBINTERP_RUN_CAPTURE_STDOUT | SUBINTERP_RUN_CAPTURE_STDERR | SUBINTERP_RUN_STRICT;
constexpr std::size_t kRunOptionsV1 = offsetof(subinterp_run_options, flags) + sizeof(uint32_t);

subinterp::Interpreters& registry() { return subinterp::Runtime::instance().interpreters(); }

std::shared_ptr<subinterp::Interpreter> find(int64_t id) { return registry().find(id); }

const subinterp::Data* core(const subinterp_data* data) { return reinterpret_cast<const subinterp::Data*>(data); }

subinterp::RunOptions run_options(const subinterp_run_options* opts) {
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
    return options;
}

// Runs `body` with an Output when capture is requested, and hands the output
// to the caller whatever the outcome, so text printed before an error is kept.
template <class Body>
subinterp_status run_with_output(const subinterp_run_options* opts, subinterp_output** output,
                                 subinterp_error** err, Body&& body) {
    std::unique_ptr<subinterp_output> captured;
    const subinterp_status status = guarded(err, [&] {
        const subinterp::RunOptions options = run_options(opts);
        if (options.captures()) {
            require(output, "output");
            captured = std::make_unique<subinterp_output>();
        }
        body(options, captured ? &captured->output : nullptr);
    });
    if (captured && output) *output = captured.release();
    return status;
}

}  // namespace

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

subinterp_status subinterp_prepare_main(int64_t id, const subinterp_data* names, subinterp_error** err) {
    return guarded(err, [&] { subinterp::prepare_main(*find(id), require(core(names), "names")); });
}

}  // extern "C"

// What every C function that runs code shares: subinterp_run_options read
// into RunOptions, and captured output handed to the caller.
#pragma once

#include <memory>

#include "guard.hpp"
#include "subinterp/execution.hpp"

struct subinterp_output {
    subinterp::Output output;
};

namespace subinterp::capi {

// NULL means defaults. Throws Error(InvalidArgument) for a bad struct_size,
// unknown flags or a NaN timeout.
RunOptions run_options(const subinterp_run_options* opts);

// Runs `body(options, output)` with an Output when capture is requested, and
// hands the output to the caller whatever the outcome, so text printed before
// an error is kept.
template <class Body>
subinterp_status run_with_output(const subinterp_run_options* opts, subinterp_output** output, subinterp_error** err,
                                 Body&& body) {
    std::unique_ptr<subinterp_output> captured;
    const subinterp_status status = guarded(err, [&] {
        const RunOptions options = run_options(opts);
        if (options.captures()) {
            require(output, "output");
            captured = std::make_unique<subinterp_output>();
        }
        body(options, captured ? &captured->output : nullptr);
    });
    if (captured && output) *output = captured.release();
    return status;
}

}  // namespace subinterp::capi

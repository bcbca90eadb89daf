//! Round-trip costs of the safe `subinterp` crate, measured with criterion:
//! the same benchmarks, by name and meaning, as the C and Go hosts.
//!
//! - `create_destroy`: create an interpreter with the isolated preset (own
//!   GIL) and destroy it;
//! - `exec_pass`: exec `"pass"` in one existing isolated interpreter;
//! - `call_small`: call `"operator:add"` with `(1, 2)` in that interpreter and
//!   extract the result as an `i64`, which must be 3.
//!
//! The runtime start and the shared interpreter's creation stay outside the
//! timed region. Any error, or a wrong result, panics: the run exits non-zero.

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use subinterp::{runtime, Config, Interpreter};

fn add(interp: &Interpreter) -> i64 {
    let sum = interp
        .call("operator:add", (1, 2))
        .and_then(|value| value.extract::<i64>())
        .expect("call_small: operator:add(1, 2) failed");
    assert_eq!(sum, 3, "call_small: operator:add(1, 2) returned {sum}");
    sum
}

fn roundtrip(c: &mut Criterion) {
    runtime::ensure_started().expect("cannot start the runtime");
    let config = Config::isolated();
    let interp = Interpreter::with_config(&config).expect("cannot create the isolated interpreter");
    // Each benchmark's operation once, untimed, so a broken one fails before
    // any measurement.
    Interpreter::with_config(&config)
        .and_then(Interpreter::close)
        .expect("create_destroy: create or destroy failed");
    interp.exec("pass").expect("exec_pass: exec failed");
    add(&interp);

    let mut group = c.benchmark_group("subinterp");
    // Milliseconds an iteration: the same iteration count in every sample
    // (criterion's advice for long iterations; its automatic choice would
    // switch between linear and flat with the sample size and times).
    group.sampling_mode(SamplingMode::Flat);
    group.bench_function("create_destroy", |b| {
        b.iter(|| {
            Interpreter::with_config(&config)
                .and_then(Interpreter::close)
                .expect("create_destroy: create or destroy failed");
        })
    });
    group.sampling_mode(SamplingMode::Auto);
    group.bench_function("exec_pass", |b| {
        b.iter(|| interp.exec("pass").expect("exec_pass: exec failed"))
    });
    group.bench_function("call_small", |b| b.iter(|| add(&interp)));
    group.finish();
    interp.close().expect("cannot destroy the interpreter");
}

criterion_group! {
    name = benches;
    // Numbers only (CRITERION_HOME/subinterp/<name>/new/sample.json): no
    // plots, even where gnuplot is installed.
    config = Criterion::default().without_plots();
    targets = roundtrip
}
criterion_main!(benches);

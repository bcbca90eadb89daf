//! Runs one CPU-bound pure-Python function in N isolated interpreters, one
//! Rust thread each, and prints the speedup over running it in one.
//!
//! ```text
//! parallel_speedup [N] [WORK] [ROUNDS]
//! ```
//!
//! N defaults to the number of cores, WORK to 2,000,000 loop steps, ROUNDS to
//! 5; the speedup printed is the median over the rounds. The same program in
//! C is examples/parallel_speedup.c.

use std::process::ExitCode;
use std::sync::Barrier;
use std::thread;
use std::time::Instant;

use subinterp::{runtime, Interpreter};

const SOURCE: &str = "\
def work(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total
";

struct Args {
    workers: usize,
    work: i64,
    rounds: usize,
}

fn parse_args() -> Result<Args, String> {
    let cores = thread::available_parallelism().map_or(2, |n| n.get());
    let mut args = std::env::args().skip(1);
    let mut next = |default: i64, range: std::ops::RangeInclusive<i64>| -> Result<i64, String> {
        match args.next() {
            None => Ok(default),
            Some(text) => match text.parse::<i64>() {
                Ok(n) if range.contains(&n) => Ok(n),
                _ => Err(format!("bad argument {text:?}")),
            },
        }
    };
    Ok(Args {
        workers: next(cores as i64, 1..=256)? as usize,
        work: next(2_000_000, 1..=i64::MAX)?,
        rounds: next(5, 1..=100)? as usize,
    })
}

/// Runs `work(n)` once in each interpreter, all at once (one thread each),
/// and returns the wall time from a common start and the results.
fn run_at_once(interpreters: &[Interpreter], work: i64) -> subinterp::Result<(f64, Vec<i64>)> {
    let start_line = Barrier::new(interpreters.len() + 1);
    thread::scope(|s| {
        let threads: Vec<_> = interpreters
            .iter()
            .map(|interp| {
                let start_line = &start_line;
                s.spawn(move || {
                    start_line.wait();
                    interp.call("work", (work,))?.extract::<i64>()
                })
            })
            .collect();
        start_line.wait();
        let start = Instant::now();
        let results = threads
            .into_iter()
            .map(|t| t.join().expect("worker thread panicked"))
            .collect::<subinterp::Result<Vec<_>>>()?;
        Ok((start.elapsed().as_secs_f64(), results))
    })
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn run(args: &Args) -> subinterp::Result<()> {
    let interpreters = (0..args.workers)
        .map(|_| {
            let interp = Interpreter::new()?;
            interp.exec(SOURCE)?;
            Ok(interp)
        })
        .collect::<subinterp::Result<Vec<_>>>()?;
    println!(
        "subinterp {} on CPython {} (Rust): {} isolated interpreters, {} cores, work({}), {} rounds",
        runtime::version(),
        runtime::python_version(),
        args.workers,
        thread::available_parallelism().map_or(0, |n| n.get()),
        args.work,
        args.rounds
    );
    let (mut one, mut all, mut speedups) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=args.rounds {
        let (single, expected) = run_at_once(&interpreters[..1], args.work)?;
        let (parallel, results) = run_at_once(&interpreters, args.work)?;
        assert!(results.iter().all(|r| *r == expected[0]), "interpreters disagree: {results:?}");
        let speedup = args.workers as f64 * single / parallel;
        println!(
            "  round {round}: 1 call {single:.3} s, {} calls at once {parallel:.3} s, speedup {speedup:.2}x",
            args.workers
        );
        one.push(single);
        all.push(parallel);
        speedups.push(speedup);
    }
    let n = args.workers;
    println!(
        "median: 1 interpreter {:.3} s per call; {n} interpreters {:.3} s for {n} calls",
        median(&mut one),
        median(&mut all)
    );
    let speedup = median(&mut speedups);
    println!(
        "parallel speedup: {speedup:.2}x with {n} interpreters (ideal {n}x, efficiency {:.0}%)",
        100.0 * speedup / n as f64
    );
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}\nusage: parallel_speedup [N 1..256] [WORK] [ROUNDS 1..100]");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("parallel_speedup failed: {error}");
            ExitCode::FAILURE
        }
    }
}

//! The ops of pools, futures, interrupts and import checks, on the safe
//! crate's `Pool`, `Task`, `Interpreter::interrupt` and `check_imports`.

use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value as Json;
use subinterp::{check_imports, Backpressure, Config, Interpreter, Pool, PoolOptions, TaskState, Value};

use crate::case::{check_output, Bound, Case, Problem};
use crate::ops::{arg, config_of, interpreter, keywords, positional, run_options};
use crate::ops::{Expect, Outcome, Step};
use crate::values::check;

fn check_value(case: &Case, expect: &Expect, value: &Value) -> Result<(), Problem> {
    match expect.get("value") {
        Some(want) => check(case, want, value, "value"),
        None => Ok(()),
    }
}

fn text<'a>(step: &'a Step, key: &str) -> Result<Option<&'a str>, Problem> {
    match step.get(key) {
        None => Ok(None),
        Some(Json::String(text)) => Ok(Some(text)),
        Some(other) => Err(Problem::unsupported(format!("{key} must be a string, got {other}"))),
    }
}

fn count(step: &Step, key: &str) -> Result<Option<u64>, Problem> {
    match step.get(key) {
        None => Ok(None),
        Some(n) => n.as_u64().map(Some).ok_or_else(|| Problem::unsupported(format!("{key} must be a non-negative integer"))),
    }
}

fn flag(step: &Step, key: &str, default: bool) -> Result<bool, Problem> {
    match step.get(key) {
        None => Ok(default),
        Some(Json::Bool(b)) => Ok(*b),
        Some(_) => Err(Problem::unsupported(format!("{key} must be a bool"))),
    }
}

fn callable(step: &Step) -> Result<&str, Problem> {
    text(step, "callable")?.ok_or_else(|| Problem::unsupported("missing \"callable\""))
}

fn args(case: &Case, step: &Step) -> Result<Vec<Value>, Problem> {
    step.get("args").map_or(Ok(Vec::new()), |args| positional(case, args))
}

// ---- interrupts and import checks ------------------------------------------

pub fn op_interrupt(case: &mut Case, step: &Step, expect: &Expect) -> Outcome {
    let interrupted = interpreter(case, step)?.interrupt()?;
    let value = Value::from(interrupted as i64);
    check_value(case, expect, &value)?;
    Ok(Some(Bound::Value(value)))
}

pub fn op_check_imports(case: &mut Case, step: &Step, expect: &Expect) -> Outcome {
    let config = step.get("config").map_or(Ok(Config::isolated()), config_of)?;
    let modules = arg(step, "modules")?
        .as_array()
        .ok_or_else(|| Problem::unsupported("modules must be an array of strings"))?
        .iter()
        .map(|name| name.as_str().ok_or_else(|| Problem::unsupported("modules must be an array of strings")))
        .collect::<Result<Vec<&str>, _>>()?;
    let report = check_imports(&config, &modules)?;
    // The report as the C ABI gives it: a list of dicts.
    let text = |text: Option<&str>| text.map_or(Value::None, Value::from);
    let value = Value::list(report.iter().map(|entry| {
        Value::dict([
            ("module", Value::from(entry.module.as_str())),
            ("ok", Value::from(entry.ok)),
            ("reason", Value::from(entry.reason.as_str())),
            ("needs", text(entry.needs.as_ref().map(|needs| needs.as_str()))),
            ("error", text(entry.error.as_deref())),
        ])
    }));
    check_value(case, expect, &value)?;
    Ok(Some(Bound::Value(value)))
}

// ---- pools -----------------------------------------------------------------

pub fn op_pool_create(case: &mut Case, step: &Step, _: &Expect) -> Outcome {
    let mut options = PoolOptions::new();
    if let Some(workers) = count(step, "workers")? {
        options = options.workers(usize::try_from(workers).map_err(|_| Problem::unsupported("too many workers"))?);
    }
    if let Some(config) = step.get("config") {
        options = options.config(config_of(config)?);
    }
    if let Some(source) = text(step, "init_source")? {
        options = options.init_source(source);
    }
    let init_args = step.get("init_args").map(|args| positional(case, args)).transpose()?;
    match (text(step, "init_callable")?, init_args) {
        (Some(callable), args) => options = options.init_callable(callable, args.unwrap_or_default()),
        (None, Some(_)) => {
            return Err(Problem::unsupported("init_args without init_callable: PoolOptions::init_callable takes both"))
        }
        (None, None) => {}
    }
    if let Some(max) = count(step, "max_queued")? {
        options = options.max_queued(usize::try_from(max).map_err(|_| Problem::unsupported("max_queued too big"))?);
    }
    if let Some(max) = count(step, "max_tasks_per_worker")? {
        options = options.max_tasks_per_worker(max);
    }
    Ok(Some(Bound::Pool(options.build()?)))
}

/// `wait`: seconds to wait for room; absent or negative: as long as it
/// takes; 0: fail at once.
fn backpressure(step: &Step) -> Result<Backpressure, Problem> {
    match step.get("wait") {
        None => Ok(Backpressure::Block),
        Some(wait) => {
            let seconds = wait.as_f64().ok_or_else(|| Problem::unsupported("wait must be a number"))?;
            Ok(if seconds < 0.0 || seconds.is_infinite() {
                Backpressure::Block
            } else if seconds == 0.0 {
                Backpressure::FailFast
            } else {
                Backpressure::Wait(Duration::from_secs_f64(seconds))
            })
        }
    }
}

pub fn op_pool_submit(case: &mut Case, step: &Step, _: &Expect) -> Outcome {
    let pool = case.pool(arg(step, "pool")?)?;
    let kwargs = keywords(case, step)?;
    let kwargs: Vec<(&str, Value)> = kwargs.iter().map(|(name, value)| (name.as_str(), value.clone())).collect();
    let task = pool.submit_with(callable(step)?, args(case, step)?, &kwargs, &run_options(step)?, backpressure(step)?)?;
    Ok(Some(Bound::Task(task)))
}

pub fn op_pool_call(case: &mut Case, step: &Step, expect: &Expect) -> Outcome {
    let pool = case.pool(arg(step, "pool")?)?;
    let kwargs = keywords(case, step)?;
    let kwargs: Vec<(&str, Value)> = kwargs.iter().map(|(name, value)| (name.as_str(), value.clone())).collect();
    let (value, output) = pool.call_with(callable(step)?, args(case, step)?, &kwargs, &run_options(step)?)?;
    check_output(expect, &output)?;
    check_value(case, expect, &value)?;
    Ok(Some(Bound::Value(value)))
}

pub fn op_pool_map(case: &mut Case, step: &Step, expect: &Expect) -> Outcome {
    let pool = case.pool(arg(step, "pool")?)?;
    let lists = arg(step, "args")?
        .as_array()
        .ok_or_else(|| Problem::unsupported("args must be an array of argument lists"))?
        .iter()
        .map(|list| positional(case, list))
        .collect::<Result<Vec<_>, _>>()?;
    let results = Value::List(pool.map_with(callable(step)?, lists, &run_options(step)?)?);
    check_value(case, expect, &results)?;
    Ok(Some(Bound::Value(results)))
}

pub fn op_pool_shutdown(case: &mut Case, step: &Step, _: &Expect) -> Outcome {
    let pool = case.pool(arg(step, "pool")?)?;
    pool.shutdown(flag(step, "wait", true)?, flag(step, "cancel_pending", false)?)?;
    Ok(None)
}

pub fn op_pool_check(case: &mut Case, step: &Step, _: &Expect) -> Outcome {
    case.pool(arg(step, "pool")?)?.check()?;
    Ok(None)
}

/// Compares the listed fields of an `expect` object with what the library
/// reports (integers, or booleans where the C field is a flag).
fn check_fields(expect: &Expect, key: &str, fields: &[(&str, Json)]) -> Result<(), Problem> {
    let Some(want) = expect.get(key) else { return Ok(()) };
    let want = want.as_object().ok_or_else(|| Problem::unsupported(format!("expect.{key} must be an object")))?;
    for (field, value) in want {
        let got = fields
            .iter()
            .find(|(name, _)| name == field)
            .ok_or_else(|| Problem::unsupported(format!("unknown {key} field {field}")))?;
        let same = match (value, &got.1) {
            (Json::Bool(want), Json::Bool(got)) => want == got,
            (Json::Number(want), Json::Number(got)) => want.as_i64().is_some() && want.as_i64() == got.as_i64(),
            _ => return Err(Problem::unsupported(format!("expect.{key}.{field} = {value}: wrong type"))),
        };
        if !same {
            return Err(Problem::failed(format!("{key}.{field}: expected {value}, got {}", got.1)));
        }
    }
    Ok(())
}

pub fn op_pool_stats(case: &mut Case, step: &Step, expect: &Expect) -> Outcome {
    let stats = case.pool(arg(step, "pool")?)?.stats()?;
    let fields = [
        ("workers", Json::from(stats.workers)),
        ("live_workers", Json::from(stats.live_workers)),
        ("busy_workers", Json::from(stats.busy_workers)),
        ("queued", Json::from(stats.queued)),
        ("submitted", Json::from(stats.submitted)),
        ("succeeded", Json::from(stats.succeeded)),
        ("failed", Json::from(stats.failed)),
        ("timed_out", Json::from(stats.timed_out)),
        ("cancelled", Json::from(stats.cancelled)),
        ("replaced", Json::from(stats.replaced)),
    ];
    check_fields(expect, "stats", &fields)?;
    Ok(None)
}

pub fn op_pool_worker(case: &mut Case, step: &Step, expect: &Expect) -> Outcome {
    let index = arg(step, "index")?
        .as_u64()
        .and_then(|index| usize::try_from(index).ok())
        .ok_or_else(|| Problem::unsupported("index must be a non-negative integer"))?;
    let worker = case.pool(arg(step, "pool")?)?.worker(index)?;
    let id = worker.interpreter.map_or(-1, |id| id.0);
    let fields = [
        ("alive", Json::from(worker.alive)),
        ("busy", Json::from(worker.busy)),
        ("interpreter_id", Json::from(id)),
        ("tasks", Json::from(worker.tasks)),
        ("failed", Json::from(worker.failed)),
        ("replaced", Json::from(worker.replaced)),
    ];
    check_fields(expect, "worker", &fields)?;
    Ok(Some(Bound::Id(id)))
}

pub fn op_pool_free(case: &mut Case, step: &Step, _: &Expect) -> Outcome {
    // Dropping a Pool is subinterp_pool_free: cancel pending, wait, release.
    drop(case.take_pool(arg(step, "pool")?)?);
    Ok(None)
}

/// Frees a pool at the end of a case: cancels what is queued, interrupts
/// what still runs (a case may leave an endless task behind, and freeing
/// waits for running tasks), then frees it.
pub fn stop(pool: Pool) {
    let _ = pool.shutdown(false, true);
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        let Ok(workers) = pool.workers() else { break };
        let busy: Vec<_> = workers.iter().filter(|w| w.busy).filter_map(|w| w.interpreter).collect();
        if busy.is_empty() {
            break;
        }
        for id in busy {
            let _ = Interpreter::from_id(id).interrupt();
        }
        thread::sleep(Duration::from_millis(10));
    }
    drop(pool);
}

// ---- futures ---------------------------------------------------------------

pub fn op_future_result(case: &mut Case, step: &Step, expect: &Expect) -> Outcome {
    let (value, output) = case.task(arg(step, "future")?)?.result_with_output()?;
    check_output(expect, &output)?;
    check_value(case, expect, &value)?;
    Ok(Some(Bound::Value(value)))
}

pub fn op_future_wait(case: &mut Case, step: &Step, _: &Expect) -> Outcome {
    let timeout = match step.get("timeout") {
        None => None,
        Some(seconds) => {
            let seconds = seconds.as_f64().ok_or_else(|| Problem::unsupported("timeout must be a number"))?;
            (seconds >= 0.0 && seconds.is_finite()).then(|| Duration::from_secs_f64(seconds))
        }
    };
    if case.task(arg(step, "future")?)?.wait(timeout) {
        Ok(None)
    } else {
        // Task::wait says "not yet" with false; C's status for it is TIMEOUT.
        Err(Problem::status("TIMEOUT", "the future is not done yet"))
    }
}

pub fn op_future_state(case: &mut Case, step: &Step, expect: &Expect) -> Outcome {
    let state = match case.task(arg(step, "future")?)?.state()? {
        TaskState::Pending => "pending",
        TaskState::Running => "running",
        TaskState::Finished => "finished",
        TaskState::Cancelled => "cancelled",
        _ => "(a state this runner does not know)",
    };
    let value = Value::from(state);
    check_value(case, expect, &value)?;
    Ok(Some(Bound::Value(value)))
}

pub fn op_future_cancel(case: &mut Case, step: &Step, expect: &Expect) -> Outcome {
    let cancelled = case.task(arg(step, "future")?)?.cancel()?;
    let value = Value::from(cancelled);
    check_value(case, expect, &value)?;
    Ok(Some(Bound::Value(value)))
}

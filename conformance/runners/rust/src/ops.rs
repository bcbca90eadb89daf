//! The ops (docs/conformance.md, "Steps"), each mapped onto the safe
//! `subinterp` crate as a Rust program would use it. subinterp-sys is used
//! only where the safe API deliberately has no equivalent; each such use is
//! marked "raw:" with the reason.

use std::ffi::CStr;
use std::path::PathBuf;
use std::ptr;
use std::time::{Duration, Instant};

use serde_json::{Map, Value as Json};
use subinterp::runtime::{self, Mode};
use subinterp::{BigInt, Buffer, Config, Gil, Interpreter, InterpreterId, Queue, RunOptions, Unbound, Value};
use subinterp_sys as sys;

use crate::case::{check_output, expect_str, Bound, Case, Problem};
use crate::pools;
use crate::values::{build, check, render, text_of};

pub(crate) type Step = Map<String, Json>;
pub(crate) type Expect = Map<String, Json>;
pub(crate) type Outcome = Result<Option<Bound>, Problem>;
type Handler = fn(&mut Case, &Step, &Expect) -> Outcome;

/// Each op with its handler and the expectations it checks (besides the
/// error ones, which every op checks).
const OPS: &[(&str, Handler, &[&str])] = &[
    ("versions", op_versions, &["library", "python_series"]),
    ("runtime_init", op_runtime_init, &[]),
    ("runtime_finalize", op_runtime_finalize, &[]),
    ("runtime_get_mode", op_runtime_get_mode, &["mode"]),
    ("config_init", op_config_init, &["config"]),
    ("config_validate", op_config_validate, &[]),
    ("create", op_create, &[]),
    ("destroy", op_destroy, &[]),
    ("list", op_list, &["includes", "excludes", "first"]),
    ("main_id", op_main_id, &["id"]),
    ("current_id", op_current_id, &["id"]),
    ("is_running", op_is_running, &["running"]),
    ("get_config", op_get_config, &["config"]),
    ("exec", op_exec, &["stdout", "stderr"]),
    ("call", op_call, &["value", "stdout", "stderr"]),
    ("prepare_main", op_prepare_main, &[]),
    ("data", op_data, &["kind", "repr", "len", "equals"]),
    ("data_get", op_data_get, &["value"]),
    ("queue_create", op_queue_create, &[]),
    ("queue_put", op_queue_put, &["elapsed_at_least"]),
    ("queue_get", op_queue_get, &["value", "unbound", "elapsed_at_least"]),
    ("queue_size", op_queue_size, &["size"]),
    ("queue_info", op_queue_info, &["info"]),
    ("queue_list", op_queue_list, &["includes", "excludes"]),
    ("queue_close", op_queue_close, &[]),
    ("queue_retain", op_queue_retain, &[]),
    ("queue_release", op_queue_release, &[]),
    ("queue_destroy", op_queue_destroy, &[]),
    ("status_name", op_status_name, &["name"]),
    ("interrupt", pools::op_interrupt, &["value"]),
    ("check_imports", pools::op_check_imports, &["value"]),
    ("pool_create", pools::op_pool_create, &[]),
    ("pool_submit", pools::op_pool_submit, &[]),
    ("pool_call", pools::op_pool_call, &["value", "stdout", "stderr"]),
    ("pool_map", pools::op_pool_map, &["value"]),
    ("pool_shutdown", pools::op_pool_shutdown, &[]),
    ("pool_check", pools::op_pool_check, &[]),
    ("pool_stats", pools::op_pool_stats, &["stats"]),
    ("pool_worker", pools::op_pool_worker, &["worker"]),
    ("pool_free", pools::op_pool_free, &[]),
    ("future_result", pools::op_future_result, &["value", "stdout", "stderr"]),
    ("future_wait", pools::op_future_wait, &[]),
    ("future_state", pools::op_future_state, &["value"]),
    ("future_cancel", pools::op_future_cancel, &["value"]),
    // null_pointer needs c-pointers: a Rust reference is never NULL.
];

/// The handler of an op and the expectations it checks.
pub fn find(op: &str) -> Option<(Handler, &'static [&'static str])> {
    OPS.iter().find(|(name, _, _)| *name == op).map(|(_, handler, keys)| (*handler, *keys))
}

// ---- arguments and checks -------------------------------------------------

pub(crate) fn arg<'a>(step: &'a Step, key: &str) -> Result<&'a Json, Problem> {
    step.get(key).ok_or_else(|| Problem::unsupported(format!("missing \"{key}\"")))
}

/// A handle on the step's interpreter id. It never destroys the interpreter;
/// a stale id gives NOT_FOUND when used.
pub(crate) fn interpreter(case: &Case, step: &Step) -> Result<Interpreter, Problem> {
    Ok(Interpreter::from_id(InterpreterId(case.resolve(arg(step, "interp")?)?)))
}

/// A handle on the step's queue id (NOT_FOUND if there is no such queue).
/// It holds the queue for the step only.
fn queue(case: &Case, step: &Step) -> Result<Queue, Problem> {
    Ok(Queue::from_id(case.resolve(arg(step, "queue")?)?)?)
}

/// `flags` and `timeout` (the run's deadline, in seconds) of exec, call and
/// the pool ops.
pub(crate) fn run_options(step: &Step) -> Result<RunOptions, Problem> {
    let mut options = RunOptions::new();
    if let Some(timeout) = step.get("timeout") {
        let seconds = timeout.as_f64().ok_or_else(|| Problem::unsupported("timeout must be a number"))?;
        // 0, negative or infinite: no deadline (as in C). NaN cannot be JSON.
        if seconds > 0.0 && seconds.is_finite() {
            options = options.timeout(Duration::from_secs_f64(seconds));
        }
    }
    let Some(flags) = step.get("flags") else { return Ok(options) };
    let flags = flags.as_array().ok_or_else(|| Problem::unsupported("flags must be an array"))?;
    for flag in flags {
        options = match flag.as_str() {
            Some("capture_stdout") => options.capture_stdout(true),
            Some("capture_stderr") => options.capture_stderr(true),
            Some("strict") => options.strict(true),
            _ => return Err(Problem::unsupported(format!("unknown flag {flag}"))),
        };
    }
    Ok(options)
}

fn check_int(expect: &Expect, key: &str, got: i64) -> Result<(), Problem> {
    match expect.get(key) {
        None => Ok(()),
        Some(want) => match want.as_i64() {
            Some(want) if want == got => Ok(()),
            Some(want) => Err(Problem::failed(format!("{key}: expected {want}, got {got}"))),
            None => Err(Problem::unsupported(format!("expect.{key} must be an integer"))),
        },
    }
}

fn check_bool(expect: &Expect, key: &str, got: bool) -> Result<(), Problem> {
    match expect.get(key) {
        None => Ok(()),
        Some(Json::Bool(want)) if *want == got => Ok(()),
        Some(Json::Bool(want)) => Err(Problem::failed(format!("{key}: expected {want}, got {got}"))),
        Some(_) => Err(Problem::unsupported(format!("expect.{key} must be a bool"))),
    }
}

fn check_id(case: &Case, expect: &Expect, got: i64) -> Result<(), Problem> {
    match expect.get("id") {
        Some(want) if case.resolve(want)? != got => Err(Problem::failed(format!("id {got}, expected {want}"))),
        _ => Ok(()),
    }
}

/// `includes`, `excludes` and `first` of a list of ids.
fn check_ids(case: &Case, expect: &Expect, ids: &[i64]) -> Result<(), Problem> {
    let refs = |key: &str| -> Result<&[Json], Problem> {
        match expect.get(key) {
            None => Ok(&[]),
            Some(Json::Array(refs)) => Ok(refs),
            Some(_) => Err(Problem::unsupported(format!("expect.{key} must be an array of ids"))),
        }
    };
    for reference in refs("includes")? {
        if !ids.contains(&case.resolve(reference)?) {
            return Err(Problem::failed(format!("{reference} not in {ids:?}")));
        }
    }
    for reference in refs("excludes")? {
        if ids.contains(&case.resolve(reference)?) {
            return Err(Problem::failed(format!("{reference} in {ids:?}")));
        }
    }
    if let Some(first) = expect.get("first") {
        if ids.first() != Some(&case.resolve(first)?) {
            return Err(Problem::failed(format!("expected {first} first in {ids:?}")));
        }
    }
    Ok(())
}

/// Runs one raw subinterp-sys call; a refusal is the step's outcome, with the
/// library's status name and message.
pub(crate) fn raw(call: impl FnOnce(*mut *mut sys::subinterp_error) -> sys::subinterp_status) -> Result<(), Problem> {
    let mut err = ptr::null_mut();
    let status = call(&mut err);
    let outcome = if status == sys::subinterp_status::SUBINTERP_OK {
        Ok(())
    } else {
        let message = if err.is_null() {
            String::new()
        } else {
            // SAFETY: a live error's message is a NUL-terminated string it owns.
            unsafe { CStr::from_ptr(sys::subinterp_error_message(err)) }.to_string_lossy().into_owned()
        };
        let name = status_name(status);
        Err(Problem::status(name.strip_prefix("SUBINTERP_ERR_").unwrap_or(&name), message))
    };
    // SAFETY: err is NULL or an error the call gave us; freed once.
    unsafe { sys::subinterp_error_free(err) };
    outcome
}

/// raw: the safe API names the status of an `Error` (Error::code_name), not
/// an arbitrary code.
fn status_name(status: sys::subinterp_status) -> String {
    // SAFETY: subinterp_status_name takes any code and returns a static string.
    let name = unsafe { sys::subinterp_status_name(status) };
    if name.is_null() {
        format!("(NULL name for status {})", status.0)
    } else {
        // SAFETY: non-NULL: a static NUL-terminated string.
        unsafe { CStr::from_ptr(name) }.to_string_lossy().into_owned()
    }
}

/// raw: a hold on a queue by id. The safe API's only hold is a `Queue`
/// handle, which cannot be released by id, so the case's holds (create,
/// queue_retain) are raw holds and queue_release drops one of them.
fn take_hold(id: i64) -> Result<(), Problem> {
    // SAFETY: plain call with an out-parameter for the error.
    raw(|err| unsafe { sys::subinterp_queue_retain(id, err) })
}

/// raw: drops one hold taken by `take_hold` (see there).
pub fn release_hold(id: i64) -> Result<(), Problem> {
    // SAFETY: plain call with an out-parameter for the error.
    raw(|err| unsafe { sys::subinterp_queue_release(id, err) })
}

// ---- versions and runtime -------------------------------------------------

/// PY_VERSION_HEX agrees with "3.13.0" (or "3.14.0a1", "3.13.0rc2"...).
fn python_versions_agree(hex: u32, text: &str) -> bool {
    let mut parts = text.splitn(3, '.');
    let (Some(major), Some(minor), Some(rest)) = (parts.next(), parts.next(), parts.next()) else { return false };
    let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    let (micro, level_text) = rest.split_at(digits);
    let (Ok(major), Ok(minor), Ok(micro)) = (major.parse::<u32>(), minor.parse::<u32>(), micro.parse::<u32>()) else {
        return false;
    };
    if hex >> 8 != (major << 16 | minor << 8 | micro) {
        return false;
    }
    let serial_after = |prefix: &str| {
        level_text.strip_prefix(prefix).is_some_and(|serial| {
            let end = serial.find(|c: char| !c.is_ascii_digit()).unwrap_or(serial.len());
            serial[..end].parse::<u32>().ok() == Some(hex & 0xF)
        })
    };
    match (hex >> 4) & 0xF {
        0xF => !level_text.starts_with(['a', 'b', 'r']),
        0xA => serial_after("a"),
        0xB => serial_after("b"),
        0xC => serial_after("rc"),
        _ => false,
    }
}

fn op_versions(_: &mut Case, _: &Step, expect: &Expect) -> Outcome {
    let text = runtime::version();
    // raw: the safe API gives the library version as text only; its number
    // (MAJOR * 10000 + MINOR * 100 + PATCH) must agree with it.
    // SAFETY: no arguments, returns an integer.
    let number = unsafe { sys::subinterp_version() };
    let parts: Option<Vec<u32>> = text.split('.').map(|part| part.parse().ok()).collect();
    match parts.as_deref() {
        Some(&[major, minor, patch]) => {
            let expected = major * 10000 + minor * 100 + patch;
            if number != expected {
                return Err(Problem::failed(format!("version number {number} disagrees with {text:?} ({expected})")));
            }
        }
        _ => return Err(Problem::failed(format!("library version {text:?} is not X.Y.Z"))),
    }
    let python = runtime::python_version();
    let hex = runtime::python_version_hex();
    if !python_versions_agree(hex, python) {
        return Err(Problem::failed(format!("python_version_hex() {hex:#010x} disagrees with {python:?}")));
    }
    if let Some(want) = expect_str(expect, "library")? {
        if want != text {
            return Err(Problem::failed(format!("library version {text}, expected {want}")));
        }
    }
    if let Some(series) = expect.get("python_series") {
        let series = series.as_array().ok_or_else(|| Problem::unsupported("python_series must be an array"))?;
        let known = series.iter().filter_map(Json::as_str).any(|s| python.strip_prefix(s).is_some_and(|r| r.starts_with('.')));
        if !known {
            return Err(Problem::failed(format!("Python {python} not in {}", Json::Array(series.clone()))));
        }
    }
    Ok(None)
}

/// A runtime option flag: a bool, or 0 / 1 (a Rust bool holds no other value).
fn option_flag(key: &str, value: &Json) -> Result<bool, Problem> {
    match (value.as_bool(), value.as_i64()) {
        (Some(flag), _) => Ok(flag),
        (_, Some(0)) => Ok(false),
        (_, Some(1)) => Ok(true),
        _ => Err(Problem::unsupported(format!("options.{key} = {value}: runtime::Options takes a bool (needs c-structs)"))),
    }
}

fn op_runtime_init(_: &mut Case, step: &Step, _: &Expect) -> Outcome {
    let Some(given) = step.get("options") else {
        // No options (NULL in C): start with the defaults if not started.
        runtime::ensure_started()?;
        return Ok(None);
    };
    let given = given.as_object().ok_or_else(|| Problem::unsupported("options must be an object"))?;
    let mut options = runtime::Options::default();
    for (key, value) in given {
        match key.as_str() {
            "python_home" => {
                options.python_home = match value {
                    Json::Null => None,
                    Json::String(home) => Some(PathBuf::from(home)),
                    _ => return Err(Problem::unsupported("options.python_home must be a string or null")),
                }
            }
            "import_site" => options.import_site = option_flag(key, value)?,
            "install_signal_handlers" => options.install_signal_handlers = option_flag(key, value)?,
            "struct_size" => return Err(Problem::unsupported("options.struct_size (runtime::Options is a Rust struct; needs c-structs)")),
            _ => return Err(Problem::unsupported(format!("unknown runtime option {key}"))),
        }
    }
    runtime::init(&options)?;
    Ok(None)
}

fn op_runtime_finalize(_: &mut Case, _: &Step, _: &Expect) -> Outcome {
    // SAFETY: the runner is single-threaded: no other thread calls the
    // library while this runs.
    unsafe { runtime::finalize() }?;
    Ok(None)
}

fn op_runtime_get_mode(_: &mut Case, _: &Step, expect: &Expect) -> Outcome {
    let mode = match runtime::mode() {
        Mode::NotStarted => "none",
        Mode::Embedded => "embed",
        Mode::Attached => "attach",
        Mode::Finalized => "finalized",
        _ => "(a mode this runner does not know)",
    };
    if let Some(want) = expect_str(expect, "mode")? {
        // A Rust program is a native host: the runtime it starts is embedded.
        let want = if want == "started" { "embed" } else { want };
        if mode != want {
            return Err(Problem::failed(format!("mode {mode}, expected {want}")));
        }
    }
    Ok(None)
}

// ---- configs and interpreters ---------------------------------------------

/// The case format writes `gil` as the C enum's number.
fn gil_number(gil: Gil) -> i64 {
    i64::from(match gil {
        Gil::Default => sys::SUBINTERP_GIL_DEFAULT,
        Gil::Shared => sys::SUBINTERP_GIL_SHARED,
        Gil::Own => sys::SUBINTERP_GIL_OWN,
    })
}

fn config_fields(config: &Config) -> [(&'static str, i64); 7] {
    [
        ("use_main_obmalloc", config.use_main_obmalloc.into()),
        ("allow_fork", config.allow_fork.into()),
        ("allow_exec", config.allow_exec.into()),
        ("allow_threads", config.allow_threads.into()),
        ("allow_daemon_threads", config.allow_daemon_threads.into()),
        ("check_multi_interp_extensions", config.check_multi_interp_extensions.into()),
        ("gil", gil_number(config.gil)),
    ]
}

fn preset(name: &Json) -> Result<Config, Problem> {
    match name.as_str() {
        Some("isolated") => Ok(Config::isolated()),
        Some("legacy") => Ok(Config::legacy()),
        _ => Err(Problem::unsupported(format!("preset {name}: Config has the isolated and legacy presets (needs c-structs)"))),
    }
}

/// A `Config` from a CONFIG of a case: the preset with fields overridden.
/// Booleans are 0 or 1 and gil one of the three Gil values; anything else
/// cannot be a Rust Config (c-structs).
pub(crate) fn config_of(spec: &Json) -> Result<Config, Problem> {
    let spec = spec.as_object().ok_or_else(|| Problem::unsupported("a config must be an object"))?;
    let mut config = match spec.get("preset") {
        None => Config::isolated(),
        Some(name) => preset(name)?,
    };
    for (field, value) in spec {
        let number = value.as_i64();
        let flag = match number {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        };
        let cannot = || Problem::unsupported(format!("{field} = {value} cannot be a Rust Config field (needs c-structs)"));
        config = match field.as_str() {
            "preset" => config,
            "use_main_obmalloc" => config.use_main_obmalloc(flag.ok_or_else(cannot)?),
            "allow_fork" => config.allow_fork(flag.ok_or_else(cannot)?),
            "allow_exec" => config.allow_exec(flag.ok_or_else(cannot)?),
            "allow_threads" => config.allow_threads(flag.ok_or_else(cannot)?),
            "allow_daemon_threads" => config.allow_daemon_threads(flag.ok_or_else(cannot)?),
            "check_multi_interp_extensions" => config.check_multi_interp_extensions(flag.ok_or_else(cannot)?),
            "gil" => {
                let gil = [Gil::Default, Gil::Shared, Gil::Own].into_iter().find(|gil| Some(gil_number(*gil)) == number);
                config.gil(gil.ok_or_else(cannot)?)
            }
            "struct_size" => return Err(Problem::unsupported("struct_size (Config is a Rust struct; needs c-structs)")),
            _ => return Err(Problem::unsupported(format!("unknown config field {field}"))),
        };
    }
    Ok(config)
}

fn check_config(expect: &Expect, config: &Config) -> Result<(), Problem> {
    let Some(want) = expect.get("config") else { return Ok(()) };
    let want = want.as_object().ok_or_else(|| Problem::unsupported("expect.config must be an object"))?;
    let fields = config_fields(config);
    for (field, value) in want {
        let got = fields
            .iter()
            .find(|(name, _)| name == field)
            .ok_or_else(|| Problem::unsupported(format!("unknown config field {field}")))?
            .1;
        if value.as_i64() != Some(got) {
            return Err(Problem::failed(format!("config.{field}: expected {value}, got {got}")));
        }
    }
    Ok(())
}

fn op_config_init(_: &mut Case, step: &Step, expect: &Expect) -> Outcome {
    check_config(expect, &preset(arg(step, "preset")?)?)?;
    Ok(None)
}

fn op_config_validate(_: &mut Case, step: &Step, _: &Expect) -> Outcome {
    config_of(arg(step, "config")?)?.validate()?;
    Ok(None)
}

fn op_create(case: &mut Case, step: &Step, _: &Expect) -> Outcome {
    let interp = match step.get("config") {
        None => Interpreter::new()?,
        Some(spec) => Interpreter::with_config(&config_of(spec)?)?,
    };
    let id = interp.id().0;
    case.interpreters.push(interp);
    Ok(Some(Bound::Id(id)))
}

fn op_destroy(case: &mut Case, step: &Step, _: &Expect) -> Outcome {
    let id = InterpreterId(case.resolve(arg(step, "interp")?)?);
    match case.interpreters.iter().position(|interp| interp.id() == id) {
        // An interpreter the case owns: close() destroys it and says why not.
        Some(index) => {
            if let Err(error) = case.interpreters.remove(index).close() {
                // Left as it was, and no longer destroyed on drop: destroy it
                // when the case ends.
                case.strays.push(id);
                return Err(error.into());
            }
        }
        // Any other id (already destroyed, never existed, main): a handle.
        None => Interpreter::from_id(id).close()?,
    }
    Ok(None)
}

fn op_list(case: &mut Case, _: &Step, expect: &Expect) -> Outcome {
    let ids: Vec<i64> = InterpreterId::list()?.into_iter().map(|id| id.0).collect();
    check_ids(case, expect, &ids)?;
    Ok(None)
}

fn op_main_id(case: &mut Case, _: &Step, expect: &Expect) -> Outcome {
    let id = InterpreterId::main()?.0;
    check_id(case, expect, id)?;
    Ok(Some(Bound::Id(id)))
}

fn op_current_id(case: &mut Case, _: &Step, expect: &Expect) -> Outcome {
    let id = InterpreterId::current()?.0;
    check_id(case, expect, id)?;
    Ok(Some(Bound::Id(id)))
}

fn op_is_running(case: &mut Case, step: &Step, expect: &Expect) -> Outcome {
    check_bool(expect, "running", interpreter(case, step)?.is_running()?)?;
    Ok(None)
}

fn op_get_config(case: &mut Case, step: &Step, expect: &Expect) -> Outcome {
    check_config(expect, &interpreter(case, step)?.config()?)?;
    Ok(None)
}

// ---- running code ---------------------------------------------------------

fn op_exec(case: &mut Case, step: &Step, expect: &Expect) -> Outcome {
    let interp = interpreter(case, step)?;
    let source = text_of(arg(step, "source")?)?;
    let output = interp.exec_with(&source, &run_options(step)?)?;
    check_output(expect, &output)?;
    Ok(None)
}

/// A dict with str keys as (name, value) pairs: what the typed API takes for
/// keyword arguments and for prepare_main. Other keys or kinds cannot be
/// expressed (`why` says which signature refuses them).
fn named(value: Value, what: &str, why: &str) -> Result<Vec<(String, Value)>, Problem> {
    match value {
        Value::Dict(entries) => entries
            .into_iter()
            .map(|(key, value)| match key {
                Value::Str(name) => Ok((name, value)),
                other => Err(Problem::unsupported(format!(
                    "a {what} key of kind {} cannot be expressed: {why}",
                    other.kind_name()
                ))),
            })
            .collect(),
        other => Err(Problem::unsupported(format!("{what} of kind {} cannot be expressed: {why}", other.kind_name()))),
    }
}

fn op_call(case: &mut Case, step: &Step, expect: &Expect) -> Outcome {
    let interp = interpreter(case, step)?;
    let callable = arg(step, "callable")?.as_str().ok_or_else(|| Problem::unsupported("callable must be a string"))?;
    // Positional arguments are a sequence of values (IntoArgs; the crate
    // passes them as a tuple): a JSON array of values, or a tagged list or
    // tuple. Absent (NULL in C): no arguments.
    let args = match step.get("args") {
        None => Vec::new(),
        Some(args) => positional(case, args)?,
    };
    let kwargs = keywords(case, step)?;
    let kwargs: Vec<(&str, Value)> = kwargs.iter().map(|(name, value)| (name.as_str(), value.clone())).collect();
    let (value, output) = interp.call_with(callable, args, &kwargs, &run_options(step)?)?;
    check_output(expect, &output)?;
    if let Some(want) = expect.get("value") {
        check(case, want, &value, "value")?;
    }
    Ok(Some(Bound::Value(value)))
}

/// Positional arguments: a JSON array of tagged values, or a tagged list or
/// tuple (the crate takes them as IntoArgs, a sequence of values).
pub(crate) fn positional(case: &Case, args: &Json) -> Result<Vec<Value>, Problem> {
    match args {
        Json::Array(items) => items.iter().map(|item| build(case, item)).collect(),
        tagged => match build(case, tagged)? {
            Value::Tuple(items) | Value::List(items) => Ok(items),
            other => Err(Problem::unsupported(format!(
                "args of kind {} cannot be expressed: the crate takes positional arguments as IntoArgs \
                 (a sequence of values)",
                other.kind_name()
            ))),
        },
    }
}

/// The step's `kwargs` as (name, value) pairs (none when absent).
pub(crate) fn keywords(case: &Case, step: &Step) -> Result<Vec<(String, Value)>, Problem> {
    match step.get("kwargs") {
        None => Ok(Vec::new()),
        Some(tagged) => named(build(case, tagged)?, "kwargs", "the crate takes keyword arguments as &[(&str, Value)]"),
    }
}

fn op_prepare_main(case: &mut Case, step: &Step, _: &Expect) -> Outcome {
    let interp = interpreter(case, step)?;
    let names = named(
        build(case, arg(step, "names")?)?,
        "names",
        "prepare_main takes (name, value) pairs whose names are strings",
    )?;
    interp.prepare_main(names)?;
    Ok(None)
}

// ---- portable data --------------------------------------------------------

/// A value through the library's conversion both ways: into portable data
/// (put into a queue) and back (get), as a Rust program makes and reads
/// portable data. The library's refusals (a repeated dict key...) come from
/// the put.
fn round_trip(value: Value) -> Result<Value, Problem> {
    let carrier = Queue::new()?;
    carrier.put(value)?;
    carrier.try_get()?.ok_or_else(|| Problem::failed("a host item came back as the UNBOUND marker"))
}

fn op_data(case: &mut Case, step: &Step, expect: &Expect) -> Outcome {
    let value = round_trip(build(case, arg(step, "value")?)?)?;
    if let Some(want) = expect_str(expect, "kind")? {
        if value.kind_name() != want {
            return Err(Problem::failed(format!("kind {}, expected {want}", value.kind_name())));
        }
    }
    if let Some(want) = expect_str(expect, "repr")? {
        let repr = value.repr()?;
        if repr != want {
            return Err(Problem::failed(format!("repr {repr:?}, expected {want:?}")));
        }
    }
    if expect.contains_key("len") {
        let len = match &value {
            Value::Tuple(items) | Value::List(items) => items.len(),
            Value::Dict(entries) => entries.len(),
            other => return Err(Problem::failed(format!("expected a len, got a {} value", other.kind_name()))),
        };
        check_int(expect, "len", len as i64)?;
    }
    if let Some(want) = expect.get("equals") {
        check(case, want, &value, "equals")?;
    }
    Ok(None)
}

/// Reads a value (after its trip through the library) as the type `as`
/// names. Typed reads are `Value::extract` (FromValue), whose errors carry
/// the C status (TYPE, OVERFLOW). Pickle bytes, items and entries are read by
/// matching the enum and indexing a slice, where a value of another kind or a
/// missing index is a `None`: those are named with the status the C getters
/// give for them (TYPE, INDEX).
fn op_data_get(case: &mut Case, step: &Step, expect: &Expect) -> Outcome {
    let value = round_trip(build(case, arg(step, "value")?)?)?;
    let as_ = arg(step, "as")?.as_str().ok_or_else(|| Problem::unsupported("\"as\" must be a string"))?;
    if step.contains_key("index") && !matches!(as_, "item" | "entry") {
        return Err(Problem::unsupported("\"index\" is only for \"as\": item or entry"));
    }
    let index = || -> Result<usize, Problem> {
        step.get("index")
            .and_then(Json::as_u64)
            .and_then(|index| usize::try_from(index).ok())
            .ok_or_else(|| Problem::unsupported("\"index\" must be a non-negative integer"))
    };
    let wrong_kind = |want: &str, got: &Value| Problem::status("TYPE", format!("expected {want}, got {}", got.kind_name()));
    let missing = |index: usize, len: usize| Problem::status("INDEX", format!("index {index} of a container of {len}"));
    let read = match as_ {
        "int64" => Value::Int(value.extract()?),
        "int_bytes" => Value::Bytes(value.extract::<BigInt>()?.to_signed_bytes_le().to_vec()),
        "bool" => Value::Bool(value.extract()?),
        "float" => Value::Float(value.extract()?),
        "str" => Value::Str(value.extract()?),
        "bytes" => Value::Bytes(value.extract()?),
        "buffer" => Value::Buffer(value.extract::<Buffer>()?),
        "pickled" => match value {
            Value::Pickled(bytes) => Value::Bytes(bytes),
            other => return Err(wrong_kind("pickled", &other)),
        },
        "queue" => Value::Int(value.extract::<Queue>()?.id()),
        "interpreter" => Value::Int(value.extract::<InterpreterId>()?.0),
        "item" => {
            let index = index()?;
            let items = value.as_slice().ok_or_else(|| wrong_kind("a tuple or list", &value))?;
            items.get(index).cloned().ok_or_else(|| missing(index, items.len()))?
        }
        "entry" => {
            let index = index()?;
            let entries = value.as_dict().ok_or_else(|| wrong_kind("a dict", &value))?;
            let (key, item) = entries.get(index).ok_or_else(|| missing(index, entries.len()))?;
            Value::Tuple(vec![key.clone(), item.clone()])
        }
        _ => return Err(Problem::unsupported(format!("unknown \"as\" {as_}"))),
    };
    if let Some(want) = expect.get("value") {
        check(case, want, &read, "value")?;
    }
    Ok(None)
}

// ---- queues ---------------------------------------------------------------

enum Wait {
    Forever,
    No,
    For(Duration),
}

/// `timeout`: seconds; 0 no wait, negative (or absent) forever.
fn wait_of(step: &Step) -> Result<Wait, Problem> {
    match step.get("timeout") {
        None => Ok(Wait::Forever),
        Some(timeout) => {
            let seconds = timeout.as_f64().ok_or_else(|| Problem::unsupported("timeout must be a number"))?;
            Ok(if seconds < 0.0 {
                Wait::Forever
            } else if seconds == 0.0 {
                Wait::No
            } else {
                Wait::For(Duration::from_secs_f64(seconds))
            })
        }
    }
}

/// `expect.elapsed_at_least`, checked whatever the outcome.
fn check_elapsed(expect: &Expect, start: Instant) -> Result<(), Problem> {
    let elapsed = start.elapsed().as_secs_f64();
    match expect.get("elapsed_at_least") {
        None => Ok(()),
        Some(want) => match want.as_f64() {
            Some(want) if elapsed >= want => Ok(()),
            Some(want) => Err(Problem::failed(format!("returned after {elapsed:.3}s, before {want}s"))),
            None => Err(Problem::unsupported("expect.elapsed_at_least must be a number")),
        },
    }
}

fn unbound_name(unbound: Unbound) -> &'static str {
    match unbound {
        Unbound::Replace => "replace",
        Unbound::Error => "error",
        Unbound::Remove => "remove",
    }
}

fn op_queue_create(case: &mut Case, step: &Step, _: &Expect) -> Outcome {
    let maxsize = match step.get("maxsize") {
        None => 0,
        Some(n) => n.as_u64().and_then(|n| usize::try_from(n).ok()).ok_or_else(|| Problem::unsupported("bad maxsize"))?,
    };
    let unbound = match step.get("unbound") {
        None => Unbound::default(),
        Some(policy) => match policy.as_str() {
            Some("default") => Unbound::default(),
            Some("replace") => Unbound::Replace,
            Some("error") => Unbound::Error,
            Some("remove") => Unbound::Remove,
            _ => return Err(Problem::unsupported(format!("unbound policy {policy} (Unbound is a Rust enum; needs c-structs)"))),
        },
    };
    let queue = Queue::with_options(maxsize, unbound)?;
    let id = queue.id();
    take_hold(id)?; // the case's hold; `queue`, a hold of its own, goes at the end of the step
    *case.holds.entry(id).or_default() += 1;
    Ok(Some(Bound::Id(id)))
}

fn op_queue_put(case: &mut Case, step: &Step, expect: &Expect) -> Outcome {
    let start = Instant::now();
    let put = || -> Result<(), Problem> {
        let queue = queue(case, step)?;
        let item = build(case, arg(step, "value")?)?;
        match wait_of(step)? {
            Wait::Forever => queue.put(item)?,
            Wait::No => queue.try_put(item)?,
            Wait::For(timeout) => queue.put_timeout(item, timeout)?,
        }
        Ok(())
    };
    let outcome = put();
    check_elapsed(expect, start)?;
    outcome.map(|()| None)
}

fn op_queue_get(case: &mut Case, step: &Step, expect: &Expect) -> Outcome {
    let start = Instant::now();
    let get = || -> Result<Option<Value>, Problem> {
        let queue = queue(case, step)?;
        Ok(match wait_of(step)? {
            Wait::Forever => queue.get()?,
            Wait::No => queue.try_get()?,
            Wait::For(timeout) => queue.get_timeout(timeout)?,
        })
    };
    let outcome = get();
    check_elapsed(expect, start)?;
    let want_unbound = match expect.get("unbound") {
        None => false,
        Some(Json::Bool(true)) => true,
        Some(_) => return Err(Problem::unsupported("expect.unbound must be true (leave it out otherwise)")),
    };
    match outcome? {
        // Ok(None) is the UNBOUND marker.
        None if want_unbound => Ok(Some(Bound::Value(Value::None))),
        None => Err(Problem::failed("got the UNBOUND marker (Ok(None)), expected a value")),
        Some(item) if want_unbound => Err(Problem::failed(format!("expected the UNBOUND marker, got {}", render(&item)))),
        Some(item) => {
            if let Some(want) = expect.get("value") {
                check(case, want, &item, "value")?;
            }
            Ok(Some(Bound::Value(item)))
        }
    }
}

fn op_queue_size(case: &mut Case, step: &Step, expect: &Expect) -> Outcome {
    let size = queue(case, step)?.len()?;
    check_int(expect, "size", size as i64)?;
    Ok(None)
}

fn op_queue_info(case: &mut Case, step: &Step, expect: &Expect) -> Outcome {
    let id = case.resolve(arg(step, "queue")?)?;
    let info = Queue::from_id(id)?.info()?;
    if info.id != id {
        return Err(Problem::failed(format!("info.id is {}, expected {id}", info.id)));
    }
    let Some(want) = expect.get("info") else { return Ok(None) };
    let want = want.as_object().ok_or_else(|| Problem::unsupported("expect.info must be an object"))?;
    for (field, value) in want {
        let (same, got) = match field.as_str() {
            "maxsize" => (value.as_u64() == Some(info.maxsize as u64), info.maxsize.to_string()),
            "size" => (value.as_u64() == Some(info.size as u64), info.size.to_string()),
            "closed" => (value.as_bool() == Some(info.closed), info.closed.to_string()),
            "unbound" => (value.as_str() == Some(unbound_name(info.unbound)), unbound_name(info.unbound).to_owned()),
            _ => return Err(Problem::unsupported(format!("unknown info field {field}"))),
        };
        if !same {
            return Err(Problem::failed(format!("info.{field}: expected {value}, got {got}")));
        }
    }
    Ok(None)
}

fn op_queue_list(case: &mut Case, _: &Step, expect: &Expect) -> Outcome {
    check_ids(case, expect, &Queue::list()?)?;
    Ok(None)
}

fn op_queue_close(case: &mut Case, step: &Step, _: &Expect) -> Outcome {
    queue(case, step)?.close()?;
    Ok(None)
}

fn op_queue_retain(case: &mut Case, step: &Step, _: &Expect) -> Outcome {
    let id = case.resolve(arg(step, "queue")?)?;
    take_hold(id)?;
    *case.holds.entry(id).or_default() += 1;
    Ok(None)
}

fn op_queue_release(case: &mut Case, step: &Step, _: &Expect) -> Outcome {
    let id = case.resolve(arg(step, "queue")?)?;
    release_hold(id)?;
    if let Some(count) = case.holds.get_mut(&id) {
        // A hold the case did not take is not counted.
        *count = count.saturating_sub(1);
    }
    Ok(None)
}

fn op_queue_destroy(case: &mut Case, step: &Step, _: &Expect) -> Outcome {
    let queue = queue(case, step)?;
    queue.destroy()?;
    case.holds.remove(&queue.id()); // destroyed: no hold left to drop
    Ok(None)
}

fn op_status_name(_: &mut Case, step: &Step, expect: &Expect) -> Outcome {
    let code = arg(step, "code")?
        .as_i64()
        .and_then(|code| i32::try_from(code).ok())
        .ok_or_else(|| Problem::unsupported("code must be an int32"))?;
    // The C status is an int32_t; the binding's newtype reads its bits.
    let name = status_name(sys::subinterp_status_code(code as u32));
    if let Some(want) = expect_str(expect, "name")? {
        if name != want {
            return Err(Problem::failed(format!("name {name:?}, expected {want:?}")));
        }
    }
    Ok(None)
}

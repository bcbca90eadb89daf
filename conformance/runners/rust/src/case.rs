//! One running case: its bound names, the interpreters and queue holds it
//! took (dropped when it ends), and the step loop that checks each step's
//! outcome against its expectation.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde_json::{Map, Value as Json};
use subinterp::{Interpreter, InterpreterId, Output, Pool, PythonException, Task, Value};

use crate::ops;

/// Why a step did not simply succeed.
pub enum Problem {
    /// The binding refused (an `Err` of the safe crate): the step's outcome,
    /// checked against `expect.error`.
    Library(subinterp::Error),
    /// A refusal with a status name but no `subinterp::Error`: a raw
    /// subinterp-sys call, or a Rust idiom's refusal named by the status the
    /// C ABI gives for it (see ops::data_get). Also the step's outcome.
    Status { status: String, message: String },
    /// An expectation was not met: the case fails.
    Failed(String),
    /// The case asks for something this runner cannot express, or is
    /// malformed: the case is an error.
    Unsupported(String),
}

impl Problem {
    pub fn failed(detail: impl Into<String>) -> Problem {
        Problem::Failed(detail.into())
    }

    pub fn unsupported(detail: impl Into<String>) -> Problem {
        Problem::Unsupported(detail.into())
    }

    pub fn status(status: &str, message: impl Into<String>) -> Problem {
        Problem::Status { status: status.to_owned(), message: message.into() }
    }
}

impl From<subinterp::Error> for Problem {
    fn from(error: subinterp::Error) -> Problem {
        Problem::Library(error)
    }
}

/// A failed step's outcome, whichever way it was reported.
struct Refusal<'a> {
    status: &'a str,
    message: &'a str,
    exception: Option<&'a PythonException>,
    output: Option<&'a Output>,
}

impl fmt::Display for Refusal<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.exception {
            Some(exception) => write!(f, "{} ({}: {})", self.status, exception.type_name(), self.message),
            None => write!(f, "{}: {}", self.status, self.message),
        }
    }
}

/// The status name of an error, without the `SUBINTERP_ERR_` prefix.
fn status_of(error: &subinterp::Error) -> &'static str {
    let name = error.code_name();
    name.strip_prefix("SUBINTERP_ERR_").unwrap_or(name)
}

/// What a step's `bind` stores: an id, a result value, a pool or a task.
pub enum Bound {
    Id(i64),
    Value(Value),
    Pool(Pool),
    Task(Task),
}

/// Expectation keys every op understands (the error ones).
const ERROR_KEYS: &[&str] = &["error", "message_contains", "exc_type", "traceback_contains"];

pub struct Case {
    names: HashMap<String, Bound>,
    /// Interpreters the case created: dropping one destroys it.
    pub interpreters: Vec<Interpreter>,
    /// Interpreters whose close() failed: destroyed again when the case ends.
    pub strays: Vec<InterpreterId>,
    /// Queue holds the case took by id (create and retain, less release).
    pub holds: BTreeMap<i64, usize>,
}

impl Case {
    pub fn new() -> Case {
        Case { names: HashMap::new(), interpreters: Vec::new(), strays: Vec::new(), holds: BTreeMap::new() }
    }

    /// An id: a literal integer, or `"$name"` bound to an id (or to a value
    /// that carries one).
    pub fn resolve(&self, reference: &Json) -> Result<i64, Problem> {
        if let Some(id) = reference.as_i64() {
            return Ok(id);
        }
        let name = reference
            .as_str()
            .and_then(|text| text.strip_prefix('$'))
            .ok_or_else(|| Problem::unsupported(format!("not an id or \"$name\": {reference}")))?;
        match self.names.get(name) {
            Some(Bound::Id(id)) => Ok(*id),
            Some(Bound::Value(Value::Int(id))) => Ok(*id),
            Some(Bound::Value(Value::Queue(queue))) => Ok(queue.id()),
            Some(Bound::Value(Value::Interpreter(id))) => Ok(id.0),
            Some(Bound::Value(other)) => Err(Problem::unsupported(format!("${name} is a {}, not an id", other.kind_name()))),
            Some(Bound::Pool(_) | Bound::Task(_)) => Err(Problem::unsupported(format!("${name} is a pool or task, not an id"))),
            None => Err(Problem::unsupported(format!("unbound name ${name}"))),
        }
    }

    /// The name a `"$name"` reference names.
    fn name_of(reference: &Json) -> Result<&str, Problem> {
        reference
            .as_str()
            .and_then(|text| text.strip_prefix('$'))
            .ok_or_else(|| Problem::unsupported(format!("not a \"$name\": {reference}")))
    }

    /// The pool bound to `"$name"`.
    pub fn pool(&self, reference: &Json) -> Result<&Pool, Problem> {
        match self.names.get(Case::name_of(reference)?) {
            Some(Bound::Pool(pool)) => Ok(pool),
            _ => Err(Problem::unsupported(format!("{reference} is not a pool"))),
        }
    }

    /// Takes the pool bound to `"$name"` out of the case (to free it).
    pub fn take_pool(&mut self, reference: &Json) -> Result<Pool, Problem> {
        let name = Case::name_of(reference)?;
        match self.names.remove(name) {
            Some(Bound::Pool(pool)) => Ok(pool),
            Some(other) => {
                self.names.insert(name.to_owned(), other);
                Err(Problem::unsupported(format!("{reference} is not a pool")))
            }
            None => Err(Problem::unsupported(format!("{reference} is not a pool (freed already?)"))),
        }
    }

    /// The task bound to `"$name"`.
    pub fn task(&self, reference: &Json) -> Result<&Task, Problem> {
        match self.names.get(Case::name_of(reference)?) {
            Some(Bound::Task(task)) => Ok(task),
            _ => Err(Problem::unsupported(format!("{reference} is not a future"))),
        }
    }

    /// Runs the steps in order; the first that does not pass ends the case.
    pub fn run(&mut self, steps: &[Json]) -> Result<(), Problem> {
        for (index, step) in steps.iter().enumerate() {
            let op = step.get("op").and_then(Json::as_str).unwrap_or("?");
            self.run_step(step).map_err(|problem| match problem {
                Problem::Failed(detail) => Problem::Failed(format!("step {index} ({op}): {detail}")),
                Problem::Unsupported(detail) => Problem::Unsupported(format!("step {index} ({op}): {detail}")),
                other => other,
            })?;
        }
        Ok(())
    }

    fn run_step(&mut self, step: &Json) -> Result<(), Problem> {
        let step = step.as_object().ok_or_else(|| Problem::unsupported("a step must be an object"))?;
        let op = step.get("op").and_then(Json::as_str).ok_or_else(|| Problem::unsupported("a step needs an op"))?;
        let (handler, keys) = ops::find(op).ok_or_else(|| Problem::unsupported("op not supported by the Rust runner"))?;
        let empty = Map::new();
        let expect = match step.get("expect") {
            None => &empty,
            Some(Json::Object(expect)) => expect,
            Some(other) => return Err(Problem::unsupported(format!("expect must be an object, got {other}"))),
        };
        // An expectation this runner would not check must not pass silently.
        if let Some(key) = expect.keys().find(|key| !ERROR_KEYS.contains(&key.as_str()) && !keys.contains(&key.as_str())) {
            return Err(Problem::unsupported(format!("expect.{key} is not an expectation of {op}")));
        }
        match handler(self, step, expect) {
            Ok(bound) => {
                if let Some(status) = expect.get("error") {
                    return Err(Problem::failed(format!("expected error {status}, but the step succeeded")));
                }
                if let Some(name) = step.get("bind") {
                    let name = name.as_str().ok_or_else(|| Problem::unsupported("bind must be a name"))?;
                    let bound = bound.ok_or_else(|| Problem::unsupported(format!("{op} has nothing to bind")))?;
                    self.names.insert(name.to_owned(), bound);
                }
                Ok(())
            }
            Err(Problem::Library(error)) => {
                // The crate's ErrorKind must stand for the status code it carries.
                if error.kind().code() != Some(error.code()) {
                    return Err(Problem::failed(format!(
                        "ErrorKind::{:?} disagrees with the status code {} ({})",
                        error.kind(),
                        error.code(),
                        error.code_name()
                    )));
                }
                let refusal = Refusal {
                    status: status_of(&error),
                    message: error.message(),
                    exception: error.exception(),
                    output: error.output(),
                };
                check_refusal(expect, &refusal)
            }
            Err(Problem::Status { status, message }) => {
                check_refusal(expect, &Refusal { status: &status, message: &message, exception: None, output: None })
            }
            Err(other) => Err(other),
        }
    }

    /// Drops what the case took, ignoring errors: its names (values hold
    /// queues and buffers), its interpreters (last first), its queue holds.
    pub fn cleanup(&mut self) {
        // Pools first: cancel what is queued, stop what still runs (a case
        // may leave an endless task behind), then free them, which waits.
        let pools: Vec<String> =
            self.names.iter().filter(|(_, bound)| matches!(bound, Bound::Pool(_))).map(|(name, _)| name.clone()).collect();
        for name in pools {
            if let Some(Bound::Pool(pool)) = self.names.remove(&name) {
                crate::pools::stop(pool);
            }
        }
        self.names.clear();
        while let Some(interp) = self.interpreters.pop() {
            let _ = interp.close();
        }
        for id in self.strays.drain(..) {
            let _ = Interpreter::from_id(id).close();
        }
        for (id, count) in std::mem::take(&mut self.holds) {
            for _ in 0..count {
                let _ = ops::release_hold(id);
            }
        }
    }
}

/// Checks a refusal against the step's expectation.
fn check_refusal(expect: &Map<String, Json>, got: &Refusal) -> Result<(), Problem> {
    let Some(want) = expect.get("error") else {
        return Err(Problem::failed(format!("unexpected error {got}")));
    };
    if want.as_str() != Some(got.status) {
        return Err(Problem::failed(format!("expected error {want}, got {got}")));
    }
    if let Some(part) = expect_str(expect, "message_contains")? {
        if !got.message.contains(part) {
            return Err(Problem::failed(format!("error message {:?} lacks {part:?}", got.message)));
        }
    }
    if let Some(want) = expect_str(expect, "exc_type")? {
        let name = got.exception.map(PythonException::type_name);
        if name.as_deref() != Some(want) {
            return Err(Problem::failed(format!("expected exception type {want}, got {name:?}")));
        }
    }
    if let Some(part) = expect_str(expect, "traceback_contains")? {
        let traceback = got.exception.map_or("", PythonException::traceback);
        if !traceback.contains(part) {
            return Err(Problem::failed(format!("traceback {traceback:?} lacks {part:?}")));
        }
    }
    let empty = Output::default();
    check_output(expect, got.output.unwrap_or(&empty))
}

/// `expect.stdout` / `expect.stderr`: the exact captured text ("" when not captured).
pub fn check_output(expect: &Map<String, Json>, output: &Output) -> Result<(), Problem> {
    for (name, got) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        if let Some(want) = expect_str(expect, name)? {
            if want != got {
                return Err(Problem::failed(format!("{name}: expected {want:?}, got {got:?}")));
            }
        }
    }
    Ok(())
}

/// An optional string expectation.
pub fn expect_str<'a>(expect: &'a Map<String, Json>, key: &str) -> Result<Option<&'a str>, Problem> {
    match expect.get(key) {
        None => Ok(None),
        Some(Json::String(text)) => Ok(Some(text)),
        Some(other) => Err(Problem::unsupported(format!("expect.{key} must be a string, got {other}"))),
    }
}

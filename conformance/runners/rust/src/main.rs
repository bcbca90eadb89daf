//! The Rust runner of the conformance suite (docs/conformance.md).
//!
//! Runs the cases through the safe `subinterp` crate as a Rust program would
//! use it: `Interpreter`, `Queue`, `Value`, `Config`, `runtime`. Tagged JSON
//! values become `subinterp::Value`s; errors are `subinterp::Error`s, mapped
//! back to status names with `Error::code_name`. subinterp-sys is used only
//! where the safe API deliberately has no equivalent (see ops.rs, "raw:").
//!
//! ```text
//! subinterp-conformance-rust [--case NAME]... FILE...
//! ```

mod case;
mod ops;
mod pools;
mod values;

use std::ffi::c_int;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;

use serde_json::{json, Value as Json};
use subinterp::runtime;

use case::{Case, Problem};

const LANG: &str = "rust";

/// What the Rust binding can express (docs/conformance.md, "Capabilities"):
/// a native host that embeds CPython; `Value` builds and reads portable data
/// directly; queue holds by id (through subinterp-sys, see ops::take_hold).
/// Not c-pointers (references are never NULL), c-structs (Config, Options
/// and Unbound are typed), raw-utf8 (a String is always UTF-8), host-python,
/// untyped-args (call arguments and prepare_main names are typed).
const CAPABILITIES: &[&str] = &["host-native", "data-api", "queue-holds"];

extern "C" {
    // POSIX, in the C library every Rust program on Unix links; std has no
    // dup2. (The libc crate would add a dependency for this one function.)
    fn dup2(old: c_int, new: c_int) -> c_int;
}

/// The result lines go to a copy of file descriptor 1, and fd 1 becomes
/// stderr: whatever Python code prints without capture cannot corrupt them.
struct Protocol(File);

impl Protocol {
    fn open() -> io::Result<Protocol> {
        io::stdout().flush()?;
        // try_clone_to_owned duplicates the descriptor (F_DUPFD_CLOEXEC).
        let copy = io::stdout().as_fd().try_clone_to_owned()?;
        // SAFETY: dup2 on two descriptors this process has open.
        if unsafe { dup2(2, 1) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Protocol(File::from(copy)))
    }

    fn emit(&mut self, record: &Json) -> io::Result<()> {
        writeln!(self.0, "{record}")?;
        self.0.flush()
    }
}

struct Options {
    cases: Vec<String>,
    files: Vec<String>,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options { cases: Vec::new(), files: Vec::new() };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--case" => options.cases.push(args.next().ok_or("--case needs a case name")?),
            option if option.starts_with("--") => return Err(format!("unknown option {option}")),
            _ => options.files.push(arg),
        }
    }
    if options.files.is_empty() {
        return Err("no case files".into());
    }
    Ok(options)
}

/// Runs one case: its status and detail.
fn run_case(spec: &Json) -> (&'static str, String) {
    let requires: Vec<&str> = spec.get("requires").and_then(Json::as_array).into_iter().flatten().filter_map(Json::as_str).collect();
    let missing: Vec<&str> = requires.into_iter().filter(|need| !CAPABILITIES.contains(need)).collect();
    if !missing.is_empty() {
        return ("skip", format!("requires {}", missing.join(", ")));
    }
    let Some(steps) = spec.get("steps").and_then(Json::as_array) else {
        return ("error", "the case has no steps".into());
    };
    let mut case = Case::new();
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| case.run(steps)));
    let result = match outcome {
        Ok(Ok(())) => ("pass", String::new()),
        Ok(Err(Problem::Failed(detail))) => ("fail", detail),
        Ok(Err(Problem::Unsupported(detail))) => ("error", detail),
        Ok(Err(_)) => ("error", "runner error: a refusal escaped its step".into()),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            ("error", format!("runner error: panic: {message}"))
        }
    };
    case.cleanup();
    result
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(options) => options,
        Err(problem) => {
            eprintln!("subinterp-conformance-rust: {problem}\nusage: subinterp-conformance-rust [--case NAME]... FILE...");
            return ExitCode::from(2);
        }
    };
    let mut protocol = match Protocol::open() {
        Ok(protocol) => protocol,
        Err(error) => {
            eprintln!("subinterp-conformance-rust: cannot set up the protocol stream: {error}");
            return ExitCode::from(2);
        }
    };
    let hello = json!({"runner": "rust", "lang": LANG, "capabilities": CAPABILITIES,
                       "library": runtime::version(), "python": runtime::python_version()});
    let mut emit = |record: Json| {
        if let Err(error) = protocol.emit(&record) {
            eprintln!("subinterp-conformance-rust: cannot write a result: {error}");
            std::process::exit(2);
        }
    };
    emit(hello);
    for path in &options.files {
        let document: Json = match std::fs::read_to_string(path).map_err(|e| e.to_string()).and_then(|text| {
            serde_json::from_str(&text).map_err(|e| e.to_string())
        }) {
            Ok(document) => document,
            Err(error) => {
                eprintln!("subinterp-conformance-rust: {path}: {error}");
                return ExitCode::from(2);
            }
        };
        let cases = document.get("cases").and_then(Json::as_array).map_or(&[][..], Vec::as_slice);
        for spec in cases {
            let name = spec.get("name").and_then(Json::as_str).unwrap_or("?");
            if !options.cases.is_empty() && !options.cases.iter().any(|wanted| wanted == name) {
                continue;
            }
            let (status, detail) = run_case(spec);
            emit(json!({"case": name, "lang": LANG, "status": status, "detail": detail}));
        }
    }
    ExitCode::SUCCESS
}

//! [`check_imports`]: which modules import under a config, and why not.

use std::ffi::{c_char, CString};
use std::ptr;

use subinterp_sys as sys;

use crate::config::{Config, Gil};
use crate::data::{from_data, Data};
use crate::error::{check, Error, ErrorKind, Result};
use crate::interpreter::c_string;
use crate::value::Value;

/// Why a module does or does not import ([`ImportCheck::reason`]).
///
/// New reasons may come with newer libraries: [`ImportReason::Other`] keeps
/// the library's text of one this crate does not know.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ImportReason {
    /// It imports.
    Ok,
    /// A multi-phase extension that does not declare
    /// `Py_MOD_PER_INTERPRETER_GIL_SUPPORTED`: it needs a shared GIL.
    NoPerInterpreterGil,
    /// A single-phase extension, or one that declares no support for several
    /// interpreters: it needs the legacy preset.
    SinglePhase,
    /// CPython 3.12 only: refuses isolated interpreters, as a single-phase
    /// module or one without per-interpreter GIL support. 3.12 runs a
    /// single-phase module's init before refusing it, and importing some of
    /// those again crashes, so the check does not retry to tell which:
    /// [`ImportCheck::needs`] is the legacy preset, which accepts both.
    NotIsolated,
    /// Fails for another reason (a daemon thread or a fork at import...) but
    /// imports with a shared GIL.
    NeedsSharedGil,
    /// Fails for another reason but imports under the legacy preset.
    NeedsLegacy,
    /// No such module (`ModuleNotFoundError`).
    NotFound,
    /// Fails under every config.
    Error,
    /// A reason this version of the crate does not know, as the library
    /// names it.
    Other(String),
}

impl ImportReason {
    fn parse(text: &str) -> ImportReason {
        match text {
            "ok" => ImportReason::Ok,
            "no-per-interpreter-gil" => ImportReason::NoPerInterpreterGil,
            "single-phase" => ImportReason::SinglePhase,
            "not-isolated" => ImportReason::NotIsolated,
            "needs-shared-gil" => ImportReason::NeedsSharedGil,
            "needs-legacy" => ImportReason::NeedsLegacy,
            "not-found" => ImportReason::NotFound,
            "error" => ImportReason::Error,
            other => ImportReason::Other(other.to_owned()),
        }
    }

    /// The library's name of the reason, e.g. `"single-phase"`.
    pub fn as_str(&self) -> &str {
        match self {
            ImportReason::Ok => "ok",
            ImportReason::NoPerInterpreterGil => "no-per-interpreter-gil",
            ImportReason::SinglePhase => "single-phase",
            ImportReason::NotIsolated => "not-isolated",
            ImportReason::NeedsSharedGil => "needs-shared-gil",
            ImportReason::NeedsLegacy => "needs-legacy",
            ImportReason::NotFound => "not-found",
            ImportReason::Error => "error",
            ImportReason::Other(text) => text,
        }
    }
}

/// The config a module needs when the one checked refuses it
/// ([`ImportCheck::needs`]).
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ImportNeeds {
    /// A shared GIL (own allocator, multi-phase modules only):
    /// `Config::isolated().gil(Gil::Shared)`.
    SharedGil,
    /// The legacy preset ([`Config::legacy`]).
    Legacy,
    /// A config this version of the crate does not know, as the library
    /// names it.
    Other(String),
}

impl ImportNeeds {
    fn parse(text: &str) -> ImportNeeds {
        match text {
            "shared-gil" => ImportNeeds::SharedGil,
            "legacy" => ImportNeeds::Legacy,
            other => ImportNeeds::Other(other.to_owned()),
        }
    }

    /// The library's name, e.g. `"shared-gil"`.
    pub fn as_str(&self) -> &str {
        match self {
            ImportNeeds::SharedGil => "shared-gil",
            ImportNeeds::Legacy => "legacy",
            ImportNeeds::Other(text) => text,
        }
    }

    /// A config under which the module imports (`None` for
    /// [`ImportNeeds::Other`]).
    pub fn config(&self) -> Option<Config> {
        match self {
            ImportNeeds::SharedGil => Some(Config::isolated().gil(Gil::Shared)),
            ImportNeeds::Legacy => Some(Config::legacy()),
            ImportNeeds::Other(_) => None,
        }
    }
}

/// What [`check_imports`] found for one module.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportCheck {
    /// The module name given.
    pub module: String,
    /// Whether it imports under the config checked.
    pub ok: bool,
    /// Why (or why not).
    pub reason: ImportReason,
    /// Another config that imports it, when the one checked does not.
    pub needs: Option<ImportNeeds>,
    /// The exception under the config checked, as `"Type: message"`.
    pub error: Option<String>,
}

/// Which of `modules` import in an interpreter made with `config`, and why
/// the others do not: learn before production which config your
/// dependencies need.
///
/// Each module is imported in a fresh interpreter of that config; one that
/// fails is tried again with a shared GIL and then under the legacy preset,
/// to tell the reasons apart. Importing runs module code: check only modules
/// you would import anyway. (Known CPython 3.12 bugs: importing `_asyncio`
/// or `ssl` in an isolated interpreter crashes the process at exit; a
/// refused single-phase module with static state (`_testsinglephase`,
/// `_datetime`, `_decimal`) crashes it when imported again in any
/// interpreter. Do not check those on 3.12.)
///
/// ```
/// # fn main() -> subinterp::Result<()> {
/// use subinterp::{check_imports, Config, ImportNeeds, ImportReason};
/// let report = check_imports(&Config::isolated(), &["math", "no_such_module"])?;
/// assert!(report[0].ok);
/// assert_eq!(report[1].reason, ImportReason::NotFound);
/// assert!(report[1].error.as_deref().unwrap().starts_with("ModuleNotFoundError"));
/// # Ok(()) }
/// ```
///
/// Errors: [`ErrorKind::InvalidArgument`] for an empty name or one with a
/// NUL byte, [`ErrorKind::Config`] for a config the library refuses.
pub fn check_imports(config: &Config, modules: &[&str]) -> Result<Vec<ImportCheck>> {
    let raw = config.to_raw();
    let names: Vec<CString> = modules.iter().map(|name| c_string(name, "module name")).collect::<Result<_>>()?;
    let pointers: Vec<*const c_char> = names.iter().map(|name| name.as_ptr()).collect();
    let mut report = ptr::null_mut();
    check(|err| unsafe { sys::subinterp_check_imports(&raw, pointers.as_ptr(), pointers.len(), &mut report, err) })?;
    let report = unsafe { Data::from_owned(report) }
        .ok_or_else(|| Error::new(ErrorKind::Internal, "check_imports returned OK without a report"))?;
    match from_data(&report)? {
        Value::List(items) => items.into_iter().map(entry).collect(),
        other => Err(malformed(format!("a {} instead of a list", other.kind_name()))),
    }
}

fn malformed(what: String) -> Error {
    Error::new(ErrorKind::Internal, format!("malformed import report: {what}"))
}

fn entry(item: Value) -> Result<ImportCheck> {
    let Value::Dict(entries) = item else {
        return Err(malformed(format!("an entry is a {}", item.kind_name())));
    };
    let field = |name: &str| entries.iter().find(|(key, _)| key.as_str() == Some(name)).map(|(_, value)| value);
    let text = |name: &str| -> Result<Option<String>> {
        match field(name) {
            None | Some(Value::None) => Ok(None),
            Some(Value::Str(text)) => Ok(Some(text.clone())),
            Some(other) => Err(malformed(format!("{name} is a {}", other.kind_name()))),
        }
    };
    let required = |name: &str| text(name)?.ok_or_else(|| malformed(format!("no {name}")));
    Ok(ImportCheck {
        module: required("module")?,
        ok: match field("ok") {
            Some(Value::Bool(ok)) => *ok,
            _ => return Err(malformed("ok is not a bool".into())),
        },
        reason: ImportReason::parse(&required("reason")?),
        needs: text("needs")?.map(|needs| ImportNeeds::parse(&needs)),
        error: text("error")?,
    })
}

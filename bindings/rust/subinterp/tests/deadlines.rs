//! Run deadlines (RunOptions::timeout), Interpreter::interrupt and
//! check_imports.

use std::thread;
use std::time::{Duration, Instant};

use subinterp::{check_imports, Config, ErrorKind, ImportNeeds, ImportReason, Interpreter, Queue, RunOptions};

fn deadline(ms: u64) -> RunOptions {
    RunOptions::new().timeout(Duration::from_millis(ms))
}

/// Waits until the interpreter runs something (at most 5 s).
fn wait_running(interp: &Interpreter) {
    let start = Instant::now();
    while !interp.is_running().unwrap() {
        assert!(start.elapsed() < Duration::from_secs(5), "the run never started");
        thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn an_infinite_loop_times_out_and_the_interpreter_runs_on() {
    let interp = Interpreter::new().unwrap();
    interp.exec("def spin():\n    while True: pass").unwrap();
    let start = Instant::now();
    let err = interp.exec_with("while True: pass", &deadline(100)).unwrap_err();
    let elapsed = start.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(elapsed >= Duration::from_millis(100), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
    // A call times out the same way, with the traceback of where it was.
    let err = interp.call_with("spin", (), &[], &deadline(100)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.exception().is_some_and(|e| e.traceback().contains("spin")), "{err:?}");
    // The same interpreter runs the next call.
    assert_eq!(interp.call("pow", (2, 8)).unwrap().extract::<i64>().unwrap(), 256);
}

#[test]
fn except_exception_does_not_swallow_the_interruption() {
    let interp = Interpreter::new().unwrap();
    let source = "while True:\n    try:\n        while True: pass\n    except Exception:\n        pass";
    let err = interp.exec_with(source, &deadline(50)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
}

#[test]
fn a_run_that_ends_first_keeps_its_result_and_zero_means_no_deadline() {
    let interp = Interpreter::new().unwrap();
    let value = interp.call_with("pow", (3, 3), &[], &deadline(1000)).unwrap().0;
    assert_eq!(value.extract::<i64>().unwrap(), 27);
    let options = RunOptions::new().timeout(Duration::ZERO);
    assert_eq!(options.get_timeout(), None);
    interp.exec_with("import time; time.sleep(0.05)", &options).unwrap();
    assert_eq!(deadline(5).get_timeout(), Some(Duration::from_millis(5)));
}

#[test]
fn a_sleep_is_interrupted_when_it_returns() {
    let interp = Interpreter::new().unwrap();
    let start = Instant::now();
    let err = interp.exec_with("import time\ntime.sleep(0.3)\nx = 1", &deadline(50)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(start.elapsed() >= Duration::from_millis(250));
    // It never got to the next line.
    assert!(!interp.call("eval", ("'x' in globals()",)).unwrap().extract::<bool>().unwrap());
}

#[test]
fn a_queue_get_is_interrupted_quickly() {
    let interp = Interpreter::new().unwrap();
    let queue = Queue::new().unwrap();
    interp.prepare_main([("q", &queue)]).unwrap();
    let start = Instant::now();
    let err = interp.exec_with("q.get()", &deadline(100)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(start.elapsed() < Duration::from_millis(600), "{:?}", start.elapsed());
}

#[test]
fn interrupt_from_another_thread_cancels_the_run() {
    let interp = Interpreter::new().unwrap();
    assert_eq!(interp.interrupt().unwrap(), 0, "nothing runs");
    thread::scope(|s| {
        let run = s.spawn(|| interp.exec("while True: pass"));
        wait_running(&interp);
        let start = Instant::now();
        assert_eq!(interp.interrupt().unwrap(), 1);
        let err = run.join().unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
        assert!(start.elapsed() < Duration::from_millis(500));
    });
    assert_eq!(interp.call("len", ("abc",)).unwrap().extract::<i64>().unwrap(), 3);
}

#[test]
fn interrupt_reaches_every_run_of_the_interpreter() {
    let interp = Interpreter::new().unwrap();
    interp.exec("import time\ndef nap():\n    while True: time.sleep(0.005)").unwrap();
    thread::scope(|s| {
        let runs: Vec<_> = (0..2).map(|_| s.spawn(|| interp.call("nap", ()))).collect();
        let start = Instant::now();
        let mut interrupted = 0;
        // Both threads must be inside the call before one interrupt counts 2.
        while interrupted < 2 {
            assert!(start.elapsed() < Duration::from_secs(5));
            thread::sleep(Duration::from_millis(20));
            interrupted += interp.interrupt().unwrap();
        }
        for run in runs {
            assert_eq!(run.join().unwrap().unwrap_err().kind(), ErrorKind::Cancelled);
        }
    });
}

#[test]
fn interrupting_a_stale_id_is_not_found() {
    let interp = Interpreter::new().unwrap();
    let id = interp.id();
    interp.close().unwrap();
    assert_eq!(Interpreter::from_id(id).interrupt().unwrap_err().kind(), ErrorKind::NotFound);
}

/// A single-phase extension module to check. On 3.12 a refused single-phase
/// module with static state (`_testsinglephase`, `_datetime`, `_decimal`)
/// crashes the process when imported again in any interpreter (a CPython
/// 3.12 bug, see subinterp.h); `readline` is safe to check there.
fn single_phase_module() -> &'static str {
    if subinterp::runtime::python_version_hex() >= 0x030D_0000 {
        "_testsinglephase"
    } else {
        "readline"
    }
}

#[test]
fn check_imports_tells_why() {
    let single_phase = single_phase_module();
    let report = check_imports(&Config::isolated(), &["math", "no_such_module_xyz", single_phase]).unwrap();
    assert_eq!(report.len(), 3);
    let [math, missing, single] = &report[..] else { unreachable!() };
    assert_eq!((math.module.as_str(), math.ok, &math.reason), ("math", true, &ImportReason::Ok));
    assert_eq!((math.needs.as_ref(), math.error.as_ref()), (None, None));

    assert!(!missing.ok);
    assert_eq!(missing.reason, ImportReason::NotFound);
    assert_eq!(missing.needs, None);
    assert!(missing.error.as_deref().unwrap().starts_with("ModuleNotFoundError"), "{missing:?}");

    assert!(!single.ok);
    if subinterp::runtime::python_version_hex() >= 0x030D_0000 {
        assert_eq!(single.reason, ImportReason::SinglePhase, "{single:?}");
        assert_eq!(single.reason.as_str(), "single-phase");
    } else {
        // 3.12 does not retry a refused module (older libraries did).
        assert!(matches!(single.reason, ImportReason::NotIsolated | ImportReason::SinglePhase), "{single:?}");
    }
    assert_eq!(single.needs, Some(ImportNeeds::Legacy));
    assert_eq!(single.needs.as_ref().unwrap().config(), Some(Config::legacy()));
    assert!(single.error.is_some());

    // Under the legacy preset it imports.
    let legacy = check_imports(&Config::legacy(), &[single_phase]).unwrap();
    assert!(legacy[0].ok, "{legacy:?}");
    assert!(check_imports(&Config::isolated(), &[]).unwrap().is_empty());
}

#[test]
fn check_imports_refuses_bad_names_and_configs() {
    assert_eq!(check_imports(&Config::isolated(), &[""]).unwrap_err().kind(), ErrorKind::InvalidArgument);
    assert_eq!(check_imports(&Config::isolated(), &["a\0b"]).unwrap_err().kind(), ErrorKind::InvalidArgument);
    let bad = Config::isolated().use_main_obmalloc(true);
    assert_eq!(check_imports(&bad, &["math"]).unwrap_err().kind(), ErrorKind::Config);
}

//! Finalizing the runtime (its own test binary: it ends Python for the
//! process).

use subinterp::runtime::{self, Mode};
use subinterp::{ErrorKind, Interpreter, Queue, Value};

#[test]
fn finalize_destroys_everything_and_later_calls_fail_cleanly() {
    assert_eq!(runtime::mode(), Mode::NotStarted);
    runtime::init(&runtime::Options::default()).unwrap();
    assert_eq!(runtime::mode(), Mode::Embedded);
    // Options can no longer apply once started; ensure_started is fine.
    assert_eq!(runtime::init(&runtime::Options::default()).unwrap_err().kind(), ErrorKind::Runtime);
    runtime::ensure_started().unwrap();
    assert!(runtime::python_version().starts_with("3.1"));
    assert_eq!(runtime::version(), env!("CARGO_PKG_VERSION"));
    assert_eq!(runtime::python_version_hex() >> 24, 3);

    let interp = Interpreter::new().unwrap();
    let queue = Queue::new().unwrap();
    interp.prepare_main([("q", &queue)]).unwrap();
    // SAFETY: this test is the only thread using the library.
    unsafe { runtime::finalize() }.unwrap();
    assert_eq!(runtime::mode(), Mode::Finalized);

    assert_eq!(interp.exec("pass").unwrap_err().kind(), ErrorKind::Runtime);
    assert_eq!(Interpreter::new().unwrap_err().kind(), ErrorKind::Runtime);
    // Queues need no Python: they still work.
    queue.put(1).unwrap();
    assert_eq!(queue.get().unwrap(), Some(Value::Int(1)));
    // Dropping a handle of a destroyed interpreter after finalize is harmless.
    drop(interp);
    // SAFETY: as above.
    unsafe { runtime::finalize() }.unwrap();
}

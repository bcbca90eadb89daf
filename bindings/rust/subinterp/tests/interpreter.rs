//! Interpreters: creation with every config, exec, call, prepare_main,
//! output capture, and every error a host can meet.

use std::sync::Barrier;
use std::thread;
use std::time::Duration;

use subinterp::{Config, ErrorKind, Gil, Interpreter, InterpreterId, Output, RunOptions, Value};

#[test]
fn exec_defines_names_for_later_calls() {
    let interp = Interpreter::new().unwrap();
    interp.exec("def greet(name, punctuation='!'): return f'hello {name}{punctuation}'").unwrap();
    assert_eq!(interp.call("greet", ("rust",)).unwrap(), Value::from("hello rust!"));
    let (value, output) = interp
        .call_with("greet", ("go",), &[("punctuation", Value::from("?"))], &RunOptions::new())
        .unwrap();
    assert_eq!(value.as_str(), Some("hello go?"));
    assert_eq!(output, Output::default());
}

#[test]
fn call_resolves_modules_main_and_builtins() {
    let interp = Interpreter::new().unwrap();
    assert_eq!(interp.call("math:sqrt", (16.0,)).unwrap(), Value::Float(4.0));
    assert_eq!(interp.call("os.path:join", ("a", "b")).unwrap(), Value::from("a/b"));
    assert_eq!(interp.call("len", ("four",)).unwrap(), Value::Int(4));
    assert_eq!(interp.call("json:JSONDecoder.decode", (Value::Pickled(Vec::new()),)).unwrap_err().kind(), ErrorKind::Python);
    interp.exec("class Box:\n    @staticmethod\n    def make(n): return [n] * n").unwrap();
    assert_eq!(interp.call("Box.make", (2,)).unwrap(), Value::List(vec![Value::Int(2), Value::Int(2)]));
}

#[test]
fn frame_builtins_see_main() {
    let interp = Interpreter::new().unwrap();
    interp.exec("x = 20").unwrap();
    interp.call("exec", ("y = x + 22",)).unwrap();
    assert_eq!(interp.call("eval", ("y",)).unwrap().extract::<i64>().unwrap(), 42);
    let names: Vec<String> = interp.call("dir", ()).unwrap().extract().unwrap();
    assert!(names.contains(&"x".to_string()) && names.contains(&"y".to_string()));
}

#[test]
fn names_in_one_interpreter_are_invisible_in_another() {
    let a = Interpreter::new().unwrap();
    let b = Interpreter::new().unwrap();
    a.exec("secret = 1").unwrap();
    let err = b.exec("secret").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Python);
    assert_eq!(err.exception().unwrap().qualname(), "NameError");
}

#[test]
fn python_exceptions_carry_type_message_and_traceback() {
    let interp = Interpreter::new().unwrap();
    interp.exec("def fail(x):\n    raise ValueError(f'bad {x}')").unwrap();
    let err = interp.call("fail", (7,)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Python);
    assert_eq!(err.code_name(), "SUBINTERP_ERR_PYTHON");
    assert_eq!(err.message(), "bad 7");
    let exception = err.exception().unwrap();
    assert_eq!((exception.module(), exception.qualname()), ("builtins", "ValueError"));
    assert_eq!(exception.type_name(), "builtins.ValueError");
    assert!(exception.traceback().contains("in fail"), "{}", exception.traceback());
    assert!(exception.traceback().ends_with("ValueError: bad 7\n"));
    assert_eq!(err.to_string(), "builtins.ValueError: bad 7");
    // The interpreter stays usable.
    assert_eq!(interp.call("abs", (-3,)).unwrap(), Value::Int(3));

    let err = interp.exec("def broken(:").unwrap_err();
    assert_eq!(err.exception().unwrap().qualname(), "SyntaxError");
    let err = interp.exec("raise SystemExit(3)").unwrap_err();
    assert_eq!(err.exception().unwrap().qualname(), "SystemExit");
    let err = interp.call("json:loads", ("{",)).unwrap_err();
    assert_eq!(err.exception().unwrap().type_name(), "json.decoder.JSONDecodeError");
}

#[test]
fn output_is_captured_also_when_the_run_fails() {
    let interp = Interpreter::new().unwrap();
    let both = RunOptions::new().capture_stdout(true).capture_stderr(true);
    let output = interp.exec_with("import sys\nprint('out')\nprint('err', file=sys.stderr)", &both).unwrap();
    assert_eq!(output, Output { stdout: "out\n".into(), stderr: "err\n".into() });

    let only_stdout = RunOptions::new().capture_stdout(true);
    let output = interp.exec_with("import sys\nprint('x')\nprint('y', file=sys.stderr)", &only_stdout).unwrap();
    assert_eq!((output.stdout.as_str(), output.stderr.as_str()), ("x\n", ""));

    let err = interp.exec_with("print('before')\n1/0", &both).unwrap_err();
    assert_eq!(err.exception().unwrap().qualname(), "ZeroDivisionError");
    assert_eq!(err.output().unwrap().stdout, "before\n");
    // Without capture, no output is attached.
    assert!(interp.exec("1/0").unwrap_err().output().is_none());

    let (value, output) = interp.call_with("print", ("a", 1), &[], &only_stdout).unwrap();
    assert!(value.is_none());
    assert_eq!(output.stdout, "a 1\n");
}

#[test]
fn strict_runs_refuse_results_outside_the_data_model() {
    let interp = Interpreter::new().unwrap();
    // (Not fractions.Fraction: _decimal corrupts memory with several isolated
    // interpreters on CPython 3.12.1; docs/architecture.md.)
    let pickled = interp.call("collections:Counter", ("abca",)).unwrap();
    assert!(matches!(pickled, Value::Pickled(ref bytes) if !bytes.is_empty()));
    // A pickled value goes back in as the object it was.
    interp.exec("def describe(x): return type(x).__name__, x['a']").unwrap();
    let described: (String, i64) = interp.call("describe", (pickled,)).unwrap().extract().unwrap();
    assert_eq!(described, ("Counter".to_string(), 2));

    let err = interp
        .call_with("collections:Counter", ("abca",), &[], &RunOptions::new().strict(true))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotShareable);
    assert!(err.message().contains("Counter"), "{}", err.message());
}

#[test]
fn prepare_main_binds_all_or_nothing() {
    let interp = Interpreter::new().unwrap();
    interp.prepare_main([("a", Value::from(1)), ("b", Value::from("two"))]).unwrap();
    assert_eq!(interp.call("eval", ("(a, b)",)).unwrap(), Value::from((1, "two")));
    let err = interp.prepare_main([("ok", Value::from(1)), ("not an identifier", Value::from(2))]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert_eq!(interp.exec("ok").unwrap_err().exception().unwrap().qualname(), "NameError");
}

#[test]
fn nul_bytes_in_names_and_source_are_refused_before_the_c_call() {
    let interp = Interpreter::new().unwrap();
    let err = interp.exec("x = 1\0").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.message().contains("NUL"), "{}", err.message());
    assert_eq!(interp.call("le\0n", ("x",)).unwrap_err().kind(), ErrorKind::InvalidArgument);
}

#[test]
fn a_nul_in_the_python_home_is_refused_before_the_c_call() {
    let options = subinterp::runtime::Options {
        python_home: Some("/usr\0/lib".into()),
        ..Default::default()
    };
    let err = subinterp::runtime::init(&options).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert_eq!(err.message(), "python_home contains a NUL byte at 4");
}

#[test]
fn malformed_callables_and_arguments() {
    let interp = Interpreter::new().unwrap();
    for name in ["", ":f", "math:", "a..b", "math:sqrt:x"] {
        assert_eq!(interp.call(name, ()).unwrap_err().kind(), ErrorKind::InvalidArgument, "{name:?}");
    }
    let err = interp.call("no_such_function", ()).unwrap_err();
    assert_eq!(err.exception().unwrap().qualname(), "NameError");
    let err = interp.call("no_such_module:f", ()).unwrap_err();
    assert_eq!(err.exception().unwrap().qualname(), "ModuleNotFoundError");
    let err = interp.call("len", (1, 2)).unwrap_err();
    assert_eq!(err.exception().unwrap().qualname(), "TypeError");
}

#[test]
fn stale_ids_are_not_found() {
    let interp = Interpreter::new().unwrap();
    let id = interp.id();
    interp.close().unwrap();
    let stale = Interpreter::from_id(id);
    assert_eq!(stale.exec("pass").unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(stale.call("len", ("",)).unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(stale.prepare_main([("x", 1)]).unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(stale.is_running().unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(stale.config().unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(stale.close().unwrap_err().kind(), ErrorKind::NotFound);
    assert!(!InterpreterId::list().unwrap().contains(&id));
    let never = Interpreter::from_id(InterpreterId(i64::MAX));
    assert_eq!(never.exec("pass").unwrap_err().kind(), ErrorKind::NotFound);
}

#[test]
fn the_main_interpreter_runs_code_but_cannot_be_closed() {
    let main = Interpreter::main().unwrap();
    assert_eq!(main.id(), InterpreterId(0));
    assert_eq!(InterpreterId::list().unwrap()[0], InterpreterId(0));
    assert_eq!(main.call("abs", (-1,)).unwrap(), Value::Int(1));
    let config = main.config().unwrap();
    assert!(config.use_main_obmalloc && !config.check_multi_interp_extensions);
    assert_eq!(Interpreter::main().unwrap().close().unwrap_err().kind(), ErrorKind::InvalidArgument);
    // The handle does not destroy main on drop.
    drop(main);
    assert_eq!(Interpreter::main().unwrap().call("abs", (-2,)).unwrap(), Value::Int(2));
}

#[test]
fn current_id_outside_python_is_not_found() {
    assert_eq!(InterpreterId::current().unwrap_err().kind(), ErrorKind::NotFound);
}

#[test]
fn closing_a_running_interpreter_is_busy() {
    let interp = Interpreter::new().unwrap();
    interp.exec("import time").unwrap();
    let started = Barrier::new(2);
    thread::scope(|s| {
        let runner = s.spawn(|| {
            started.wait();
            interp.exec("time.sleep(0.5)")
        });
        started.wait();
        // Wait until the other thread is inside Python.
        while !interp.is_running().unwrap() {
            thread::sleep(Duration::from_millis(5));
        }
        let again = Interpreter::from_id(interp.id());
        assert_eq!(again.close().unwrap_err().kind(), ErrorKind::Busy);
        runner.join().unwrap().unwrap();
    });
    assert!(!interp.is_running().unwrap());
    interp.close().unwrap();
}

#[test]
fn dropping_an_interpreter_destroys_it() {
    let id = {
        let interp = Interpreter::new().unwrap();
        assert!(InterpreterId::list().unwrap().contains(&interp.id()));
        interp.id()
    };
    assert!(!InterpreterId::list().unwrap().contains(&id));
}

#[test]
fn configs_every_field_and_preset() {
    let isolated = Config::isolated();
    assert_eq!(Config::default(), isolated);
    assert_eq!(
        (isolated.use_main_obmalloc, isolated.allow_fork, isolated.allow_exec, isolated.allow_threads),
        (false, false, false, true)
    );
    assert_eq!((isolated.allow_daemon_threads, isolated.check_multi_interp_extensions, isolated.gil), (false, true, Gil::Own));
    let legacy = Config::legacy();
    assert_eq!(
        legacy,
        Config::isolated()
            .use_main_obmalloc(true)
            .allow_fork(true)
            .allow_exec(true)
            .allow_daemon_threads(true)
            .check_multi_interp_extensions(false)
            .gil(Gil::Shared)
    );
    for config in [
        isolated,
        legacy,
        isolated.allow_threads(false),
        isolated.check_multi_interp_extensions(true).gil(Gil::Own),
        legacy.gil(Gil::Default),
    ] {
        config.validate().unwrap();
        let interp = Interpreter::with_config(&config).unwrap();
        assert_eq!(interp.config().unwrap(), config);
        assert_eq!(interp.call("abs", (-5,)).unwrap(), Value::Int(5));
    }
}

#[test]
fn configs_are_enforced_inside_python() {
    let no_threads = Interpreter::with_config(&Config::isolated().allow_threads(false)).unwrap();
    let err = no_threads.exec("import threading\nthreading.Thread(target=print).start()").unwrap_err();
    assert_eq!(err.exception().unwrap().qualname(), "RuntimeError");
    let isolated = Interpreter::new().unwrap();
    let err = isolated.exec("import os\nos.fork()").unwrap_err();
    assert_eq!(err.exception().unwrap().qualname(), "RuntimeError");
}

#[test]
fn invalid_configs_are_refused_naming_the_field() {
    for (config, field) in [
        (Config::isolated().use_main_obmalloc(true), "use_main_obmalloc"),
        (Config::isolated().check_multi_interp_extensions(false), "check_multi_interp_extensions"),
        (Config::isolated().allow_threads(false).allow_daemon_threads(true), "allow_daemon_threads"),
    ] {
        let err = config.validate().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.message().contains(field), "{}", err.message());
        assert_eq!(Interpreter::with_config(&config).unwrap_err().kind(), ErrorKind::Config);
    }
}

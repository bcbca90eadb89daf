//! Pools of warm interpreters and their tasks.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use subinterp::{
    Backpressure, Config, ErrorKind, Interpreter, Pool, PoolOptions, Queue, RunOptions, Task, TaskState, Value,
};

const FIVE_SECONDS: Duration = Duration::from_secs(5);

/// A pool whose workers define `square`, `spin`, `signal_then_spin` and `note`.
fn pool(workers: usize) -> Pool {
    PoolOptions::new()
        .workers(workers)
        .init_source(
            "import time\n\
             def square(n): return n * n\n\
             def spin():\n    while True: pass\n\
             def signal_then_spin(q):\n    q.put('started')\n    while True: pass\n\
             def signal_then_sleep(q, s):\n    q.put('started')\n    time.sleep(s)\n    return 'slept'\n\
             def note(q, x):\n    q.put(x)\n    return x\n",
        )
        .build()
        .unwrap()
}

/// Waits until a task has signalled through `queue` that it started.
fn started(queue: &Queue) {
    let signal = queue.get_timeout(FIVE_SECONDS).unwrap().unwrap();
    assert_eq!(signal.as_str(), Some("started"));
}

#[test]
fn call_submit_and_results() {
    let pool = pool(2);
    assert_eq!(pool.call("square", (12,)).unwrap().extract::<i64>().unwrap(), 144);
    let task = pool.submit("square", (5,)).unwrap();
    assert!(task.wait(Some(FIVE_SECONDS)));
    assert_eq!(task.state().unwrap(), TaskState::Finished);
    assert_eq!(task.extract::<i64>().unwrap(), 25);
    assert_eq!(task.result().unwrap(), Value::Int(25), "the result may be read again");
    // Keyword arguments, capture, module callables.
    let (value, output) = pool
        .call_with("print", ("a", "b"), &[("sep", Value::from("+"))], &RunOptions::new().capture_stdout(true))
        .unwrap();
    assert!(value.is_none());
    assert_eq!(output.stdout, "a+b\n");
    let task = pool
        .submit_with("print", ("x",), &[], &RunOptions::new().capture_stdout(true), Backpressure::Block)
        .unwrap();
    assert_eq!(task.result_with_output().unwrap().1.stdout, "x\n");
    assert_eq!(pool.call("math:factorial", (10,)).unwrap().extract::<i64>().unwrap(), 3_628_800);
    // A Python error is the task's, with its exception.
    let err = pool.submit("square", ("a",)).unwrap().result().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Python);
    assert_eq!(err.exception().unwrap().type_name(), "builtins.TypeError");
    let err = pool.call("no_such_function", ()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Python);
    for name in ["", "a..b", "math:", "le\0n"] {
        assert_eq!(pool.submit(name, ()).unwrap_err().kind(), ErrorKind::InvalidArgument, "{name:?}");
    }
    let stats = pool.stats().unwrap();
    assert_eq!((stats.workers, stats.live_workers), (2, 2));
    assert_eq!(stats.submitted, 7);
    assert_eq!((stats.succeeded, stats.failed), (5, 2));
    pool.check().unwrap();
}

#[test]
fn map_keeps_the_order() {
    let pool = pool(2);
    let results = pool.map("square", (0..50i64).map(|n| (n,))).unwrap();
    let squares: Vec<i64> = results.into_iter().map(|v| v.extract().unwrap()).collect();
    assert_eq!(squares, (0..50).map(|n| n * n).collect::<Vec<_>>());
    assert!(pool.map("square", Vec::<(i64,)>::new()).unwrap().is_empty());
    let err = pool.map("square", [(Value::from(1),), (Value::from("x"),)]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Python);
    assert!(err.message().starts_with("item 1: "), "{}", err.message());
}

#[test]
fn cancel_before_start_never_runs() {
    let pool = pool(1);
    let signals = Queue::new().unwrap();
    let notes = Queue::new().unwrap();
    let blocker = pool.submit("signal_then_spin", (&signals,)).unwrap();
    started(&signals);
    let queued = pool.submit("note", (&notes, "ran")).unwrap();
    assert_eq!(queued.state().unwrap(), TaskState::Pending);
    assert!(queued.cancel().unwrap());
    assert_eq!(queued.state().unwrap(), TaskState::Cancelled);
    assert_eq!(queued.result().unwrap_err().kind(), ErrorKind::Cancelled);
    // Stop the blocker, then give the worker a task to prove the order.
    assert!(blocker.cancel().unwrap());
    assert_eq!(blocker.result().unwrap_err().kind(), ErrorKind::Cancelled);
    assert_eq!(pool.call("note", (&notes, "after")).unwrap().as_str(), Some("after"));
    assert_eq!(notes.try_get().unwrap().unwrap().as_str(), Some("after"), "the cancelled task ran");
    assert!(notes.is_empty().unwrap());
    assert!(!blocker.cancel().unwrap(), "already finished");
    assert_eq!(pool.stats().unwrap().cancelled, 2);
}

#[test]
fn cancel_while_running_interrupts() {
    let pool = pool(1);
    let signals = Queue::new().unwrap();
    let task = pool.submit("signal_then_spin", (&signals,)).unwrap();
    started(&signals);
    assert_eq!(task.state().unwrap(), TaskState::Running);
    let start = Instant::now();
    assert!(task.cancel().unwrap());
    assert!(task.wait(Some(FIVE_SECONDS)));
    assert!(start.elapsed() < Duration::from_millis(500));
    assert_eq!(task.state().unwrap(), TaskState::Finished, "it ran: finished, with Cancelled");
    assert_eq!(task.result().unwrap_err().kind(), ErrorKind::Cancelled);
    assert_eq!(pool.call("square", (3,)).unwrap().extract::<i64>().unwrap(), 9);
}

#[test]
fn interrupting_a_worker_interpreter() {
    let pool = pool(1);
    let signals = Queue::new().unwrap();
    let task = pool.submit("signal_then_spin", (&signals,)).unwrap();
    started(&signals);
    let worker = pool.worker(0).unwrap();
    assert!(worker.alive && worker.busy);
    let interp = Interpreter::from_id(worker.interpreter.unwrap());
    assert_eq!(interp.interrupt().unwrap(), 1);
    assert_eq!(task.result().unwrap_err().kind(), ErrorKind::Cancelled);
    // The interpreter belongs to the pool.
    assert_eq!(interp.close().unwrap_err().kind(), ErrorKind::Busy);
    assert_eq!(pool.worker(1).unwrap_err().kind(), ErrorKind::Index);
}

#[test]
fn a_task_deadline_then_the_worker_is_reused() {
    let pool = pool(1);
    let before = pool.worker(0).unwrap().interpreter;
    let deadline = RunOptions::new().timeout(Duration::from_millis(100));
    let start = Instant::now();
    let task = pool.submit_with("spin", (), &[], &deadline, Backpressure::Block).unwrap();
    assert_eq!(task.result().unwrap_err().kind(), ErrorKind::Timeout);
    // Well under a second when idle (tests/deadlines.rs holds that bound); a
    // loaded 2-core machine running other tests of this file may take longer.
    assert!(start.elapsed() < Duration::from_secs(3), "{:?}", start.elapsed());
    assert_eq!(pool.call("square", (4,)).unwrap().extract::<i64>().unwrap(), 16);
    let worker = pool.worker(0).unwrap();
    assert_eq!(worker.interpreter, before, "the warm interpreter was kept");
    assert_eq!((worker.tasks, worker.failed, worker.replaced), (2, 1, 0));
    let stats = pool.stats().unwrap();
    assert_eq!((stats.timed_out, stats.failed, stats.succeeded), (1, 1, 1));
    // map with a deadline applies it to each call.
    let err = pool.map_with("spin", [(); 2].map(|()| ()), &deadline).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
}

#[test]
fn back_pressure_blocks_fails_fast_or_waits() {
    let pool = PoolOptions::new()
        .workers(1)
        .max_queued(1)
        .init_source("def wait_for(gate, signals):\n    signals.put('started')\n    return gate.get()")
        .build()
        .unwrap();
    let signals = Queue::new().unwrap();
    let gate = Queue::new().unwrap();
    let running = pool.submit("wait_for", (&gate, &signals)).unwrap();
    started(&signals);
    let queued = pool.submit("len", ("ab",)).unwrap(); // fills the queue
    let err = pool.submit_with("len", ("a",), &[], &RunOptions::new(), Backpressure::FailFast).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::QueueFull);
    let start = Instant::now();
    let wait = Backpressure::Wait(Duration::from_millis(100));
    let err = pool.submit_with("len", ("a",), &[], &RunOptions::new(), wait).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::QueueFull);
    assert!(start.elapsed() >= Duration::from_millis(90), "{:?}", start.elapsed());
    // A blocked submit goes through once there is room.
    thread::scope(|s| {
        let blocked = s.spawn(|| pool.submit("len", ("abc",)).unwrap());
        thread::sleep(Duration::from_millis(50));
        assert!(!blocked.is_finished(), "the submit did not block");
        gate.put("go").unwrap();
        let task = blocked.join().unwrap();
        assert_eq!(task.extract::<i64>().unwrap(), 3);
    });
    assert_eq!(running.result().unwrap().as_str(), Some("go"));
    assert_eq!(queued.extract::<i64>().unwrap(), 2);
}

#[test]
fn workers_are_replaced_after_max_tasks() {
    let pool = PoolOptions::new().workers(1).max_tasks_per_worker(1).build().unwrap();
    let mut ids = HashSet::new();
    for _ in 0..3 {
        pool.call("len", ("x",)).unwrap();
        // The worker is replaced after each task: wait until it has its new interpreter.
        let start = Instant::now();
        let worker = loop {
            let worker = pool.worker(0).unwrap();
            if worker.alive && worker.interpreter.is_some() && !ids.contains(&worker.interpreter.unwrap()) {
                break worker;
            }
            assert!(start.elapsed() < FIVE_SECONDS, "no replacement: {worker:?}");
            thread::sleep(Duration::from_millis(5));
        };
        ids.insert(worker.interpreter.unwrap());
    }
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert!(pool.stats().unwrap().replaced >= 2);
    assert!(pool.worker(0).unwrap().replaced >= 2);
}

#[test]
fn init_callable_and_init_failures() {
    let pool = PoolOptions::new()
        .workers(2)
        .init_source("state = {}\ndef setup(k, v): state[k] = v\ndef get(k): return state[k]")
        .init_callable("setup", ("answer", 42))
        .build()
        .unwrap();
    assert_eq!(pool.call("get", ("answer",)).unwrap().extract::<i64>().unwrap(), 42);
    let err = PoolOptions::new().workers(1).init_source("1/0").build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Python);
    assert!(err.message().starts_with("pool worker 0: "), "{}", err.message());
    let err = PoolOptions::new().workers(1).config(Config::isolated().use_main_obmalloc(true)).build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
}

#[test]
fn shutdown_with_pending_work() {
    // Workers finish what is queued.
    let pool = pool(1);
    let tasks: Vec<Task> = (0..5).map(|n| pool.submit("square", (n,)).unwrap()).collect();
    pool.shutdown(true, false).unwrap();
    for (n, task) in tasks.iter().enumerate() {
        assert_eq!(task.extract::<i64>().unwrap(), (n * n) as i64);
    }
    assert_eq!(pool.submit("square", (1,)).unwrap_err().kind(), ErrorKind::Closed);
    assert_eq!(pool.check().unwrap_err().kind(), ErrorKind::Runtime);
    pool.shutdown(true, false).unwrap(); // again: fine

    // Pending tasks cancelled; the running one finishes.
    let pool = self::pool(1);
    let signals = Queue::new().unwrap();
    let running = pool.submit("signal_then_sleep", (&signals, 0.2)).unwrap();
    started(&signals);
    let pending: Vec<Task> = (0..3).map(|n| pool.submit("square", (n,)).unwrap()).collect();
    pool.shutdown(true, true).unwrap();
    assert_eq!(running.result().unwrap().as_str(), Some("slept"));
    for task in &pending {
        assert_eq!(task.state().unwrap(), TaskState::Cancelled);
        assert_eq!(task.result().unwrap_err().kind(), ErrorKind::Cancelled);
    }
}

#[test]
fn dropping_the_pool_cancels_pending_and_tasks_stay_valid() {
    let signals = Queue::new().unwrap();
    let (running, pending) = {
        let pool = pool(1);
        let running = pool.submit("signal_then_sleep", (&signals, 0.1)).unwrap();
        started(&signals);
        let pending = pool.submit("square", (2,)).unwrap();
        (running, pending)
    };
    assert_eq!(running.result().unwrap().as_str(), Some("slept"));
    assert_eq!(pending.result().unwrap_err().kind(), ErrorKind::Cancelled);
}

#[test]
fn on_done_runs_once_with_the_result() {
    let pool = pool(2);
    let (send, receive) = mpsc::channel();
    let count = Arc::new(AtomicUsize::new(0));
    for n in 0..20i64 {
        let task = pool.submit("square", (n,)).unwrap();
        let (send, count) = (send.clone(), count.clone());
        task.on_done(move |done| {
            count.fetch_add(1, Ordering::SeqCst);
            send.send((n, done.extract::<i64>().unwrap())).unwrap();
        })
        .unwrap();
        // The handle may go: the callback still comes.
    }
    let mut got: Vec<(i64, i64)> = (0..20).map(|_| receive.recv_timeout(FIVE_SECONDS).unwrap()).collect();
    got.sort();
    assert_eq!(got, (0..20).map(|n| (n, n * n)).collect::<Vec<_>>());
    // A done task calls back at once, on this thread.
    let task = pool.submit("square", (3,)).unwrap();
    task.wait(None);
    let here = thread::current().id();
    let (send, receive) = mpsc::channel();
    task.on_done(move |_| send.send(thread::current().id()).unwrap()).unwrap();
    assert_eq!(receive.try_recv().unwrap(), here);
    drop(pool);
    assert_eq!(count.load(Ordering::SeqCst), 20);
}

#[test]
fn many_small_tasks_lose_nothing() {
    const TASKS: i64 = 100_000;
    let pool = pool(2);
    let start = Instant::now();
    // Two submitting threads, results checked in order per thread.
    let total: i64 = thread::scope(|s| {
        let producers: Vec<_> = (0..2i64)
            .map(|t| {
                let pool = &pool;
                s.spawn(move || {
                    let tasks: Vec<(i64, Task)> = (0..TASKS / 2)
                        .map(|i| {
                            let n = t * TASKS / 2 + i;
                            (n, pool.submit("square", (n,)).unwrap())
                        })
                        .collect();
                    tasks
                        .into_iter()
                        .map(|(n, task)| {
                            let got: i64 = task.extract().unwrap();
                            assert_eq!(got, n * n);
                            1
                        })
                        .sum::<i64>()
                })
            })
            .collect();
        producers.into_iter().map(|p| p.join().unwrap()).sum()
    });
    assert_eq!(total, TASKS);
    let elapsed = start.elapsed();
    let stats = pool.stats().unwrap();
    assert_eq!((stats.submitted, stats.succeeded, stats.failed), (TASKS as u64, TASKS as u64, 0));
    let workers = pool.workers().unwrap();
    assert_eq!(workers.iter().map(|w| w.tasks).sum::<u64>(), TASKS as u64);
    assert!(workers.iter().all(|w| w.tasks > 0), "a worker ran nothing: {workers:?}");
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
    eprintln!("{TASKS} tasks in {elapsed:?}");
}

#[test]
fn pools_and_tasks_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Pool>();
    assert_send_sync::<Task>();
    // One pool shared by threads.
    let pool = Arc::new(pool(2));
    let handles: Vec<_> = (0..4i64)
        .map(|t| {
            let pool = pool.clone();
            thread::spawn(move || pool.call("square", (t,)).unwrap().extract::<i64>().unwrap())
        })
        .collect();
    let results: Vec<i64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(results, [0, 1, 4, 9]);
}

#[cfg(feature = "async")]
mod asynchronous {
    //! Tasks awaited in a minimal executor (std only): a thread parker.

    use std::future::Future;
    use std::pin::pin;
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake};
    use std::thread::{self, Thread};

    use super::*;

    struct Unpark(Thread);

    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }

    /// Runs a future to completion on this thread; counts the polls.
    fn block_on<F: Future>(future: F) -> (F::Output, usize) {
        let waker = Arc::new(Unpark(thread::current())).into();
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        let mut polls = 0;
        loop {
            polls += 1;
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return (output, polls);
            }
            thread::park();
        }
    }

    #[test]
    fn await_tasks() {
        let pool = pool(2);
        let (sum, _) = block_on(async {
            let a = pool.submit("square", (3,)).unwrap();
            let b = pool.submit("square", (4,)).unwrap();
            a.await.unwrap().extract::<i64>().unwrap() + b.await.unwrap().extract::<i64>().unwrap()
        });
        assert_eq!(sum, 25);
        // A task that takes a while is woken by the worker, not polled in a loop.
        let signals = Queue::new().unwrap();
        let task = pool.submit("signal_then_sleep", (&signals, 0.1)).unwrap();
        let (result, polls) = block_on(task);
        assert_eq!(result.unwrap().as_str(), Some("slept"));
        assert!(polls < 10, "{polls} polls");
        // Errors and cancellation come through the output.
        let deadline = RunOptions::new().timeout(Duration::from_millis(50));
        let task = pool.submit_with("spin", (), &[], &deadline, Backpressure::Block).unwrap();
        assert_eq!(block_on(task).0.unwrap_err().kind(), ErrorKind::Timeout);
    }

    #[test]
    fn await_many_tasks_from_threads() {
        let pool = pool(2);
        thread::scope(|s| {
            for t in 0..4i64 {
                let pool = &pool;
                s.spawn(move || {
                    for i in 0..200 {
                        let n = t * 1000 + i;
                        let task = pool.submit("square", (n,)).unwrap();
                        let (value, _) = block_on(task);
                        assert_eq!(value.unwrap().extract::<i64>().unwrap(), n * n);
                    }
                });
            }
        });
    }

    #[test]
    fn a_dropped_pending_future_is_cancelled_cleanly() {
        let signals = Queue::new().unwrap();
        let pool = pool(1);
        let blocker = pool.submit("signal_then_spin", (&signals,)).unwrap();
        started(&signals);
        // Poll a queued task once (registers its waker), then drop it.
        let mut queued = pool.submit("square", (1,)).unwrap();
        let waker = Arc::new(Unpark(thread::current())).into();
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut queued).poll(&mut cx).is_pending());
        drop(queued);
        blocker.cancel().unwrap();
        drop(pool); // the callback of the dropped task still runs, once
    }

    use std::pin::Pin;
}

//! Many Rust threads sharing interpreters and queues, and drop orders.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use subinterp::{Buffer, Interpreter, Queue, Value};

const THREADS: usize = 16;
const TASKS_PER_THREAD: usize = 200;

#[test]
fn threads_share_a_pool_of_interpreters_and_queues_losing_nothing() {
    let pool: Vec<Interpreter> = (0..4).map(|_| Interpreter::new().unwrap()).collect();
    for interp in &pool {
        interp.exec("def work(n): return n * n + 1").unwrap();
    }
    let results = Queue::new().unwrap();
    let calls = AtomicUsize::new(0);
    thread::scope(|s| {
        for t in 0..THREADS {
            let (pool, results, calls) = (&pool, &results, &calls);
            s.spawn(move || {
                for i in 0..TASKS_PER_THREAD {
                    let n = (t * TASKS_PER_THREAD + i) as i64;
                    // Every thread uses every interpreter, concurrently with others.
                    let interp = &pool[(t + i) % pool.len()];
                    let squared: i64 = interp.call("work", (n,)).unwrap().extract().unwrap();
                    assert_eq!(squared, n * n + 1);
                    results.put((n, squared)).unwrap();
                    calls.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    let total = THREADS * TASKS_PER_THREAD;
    assert_eq!(calls.load(Ordering::Relaxed), total);
    let mut seen = vec![false; total];
    for item in results.try_iter() {
        let (n, squared): (i64, i64) = item.unwrap().unwrap().extract().unwrap();
        assert_eq!(squared, n * n + 1);
        assert!(!std::mem::replace(&mut seen[n as usize], true), "item {n} twice");
    }
    assert!(seen.iter().all(|&s| s), "items lost");
}

#[test]
fn producers_and_consumers_in_interpreters_and_threads() {
    // Two Python producers, two Rust consumers; the count is checked at the end.
    let queue = Queue::with_options(64, subinterp::Unbound::Error).unwrap();
    let producers: Vec<Interpreter> = (0..2).map(|_| Interpreter::new().unwrap()).collect();
    for (i, interp) in producers.iter().enumerate() {
        interp.prepare_main([("q", Value::from(&queue)), ("base", Value::from(i * 1000))]).unwrap();
    }
    let consumed = AtomicUsize::new(0);
    let sum = AtomicUsize::new(0);
    thread::scope(|s| {
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    for item in &queue {
                        let n: i64 = item.unwrap().unwrap().extract().unwrap();
                        consumed.fetch_add(1, Ordering::Relaxed);
                        sum.fetch_add(n as usize, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        let running: Vec<_> = producers
            .iter()
            .map(|interp| s.spawn(move || interp.exec("for n in range(500): q.put(base + n)")))
            .collect();
        for producer in running {
            producer.join().unwrap().unwrap();
        }
        queue.close().unwrap();
        for consumer in consumers {
            consumer.join().unwrap();
        }
    });
    assert_eq!(consumed.load(Ordering::Relaxed), 1000);
    assert_eq!(sum.load(Ordering::Relaxed), (0..500).sum::<usize>() * 2 + 500 * 1000);
}

#[test]
fn handles_move_between_threads() {
    let interp = Arc::new(Interpreter::new().unwrap());
    interp.exec("counter = 0\ndef bump():\n    global counter\n    counter += 1\n    return counter").unwrap();
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let interp = Arc::clone(&interp);
            thread::spawn(move || {
                for _ in 0..50 {
                    interp.call("bump", ()).unwrap();
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    assert_eq!(interp.call("eval", ("counter",)).unwrap(), Value::Int(400));
    // The last Arc is dropped on another thread: destroys it there.
    let id = interp.id();
    thread::spawn(move || drop(interp)).join().unwrap();
    assert!(!subinterp::InterpreterId::list().unwrap().contains(&id));
}

#[test]
fn a_queue_outlives_the_interpreter_that_made_it() {
    let interp = Interpreter::new().unwrap();
    let queue: Queue = interp
        .call("eval", ("(lambda q: (q.put('inside'), q)[1])(__import__('_subinterp').create_queue())",))
        .unwrap()
        .extract()
        .unwrap();
    drop(interp);
    // The item was put by the destroyed interpreter: unbound (replaced).
    assert_eq!(queue.get().unwrap(), None);
    queue.put("still works").unwrap();
    assert_eq!(queue.get().unwrap(), Some(Value::from("still works")));
}

#[test]
fn values_outlive_interpreters_and_queues() {
    let interp = Interpreter::new().unwrap();
    let queue = Queue::new().unwrap();
    interp.prepare_main([("q", &queue)]).unwrap();
    interp.exec("q.put(memoryview(bytearray(b'kept')))\nq.put({'nested': [1, (2, 3)]})").unwrap();
    let buffer: Buffer = queue.get().unwrap().unwrap().extract().unwrap();
    let nested = queue.get().unwrap().unwrap();
    let as_value = Value::from(&queue);
    drop(interp);
    drop(queue);
    // SAFETY: no one else can reach the memory any more.
    assert_eq!(unsafe { buffer.as_slice_unchecked() }, b"kept");
    assert_eq!(nested.get("nested").unwrap().as_slice().unwrap().len(), 2);
    // The queue value kept the queue alive after its last handle went.
    let queue: Queue = as_value.extract().unwrap();
    assert!(queue.is_empty().unwrap());
}

#[test]
fn a_buffer_outlives_the_views_python_kept() {
    let interp = Interpreter::new().unwrap();
    interp.exec("kept = []\ndef keep(view): kept.append(view)").unwrap();
    let buffer = Buffer::from_vec(vec![9; 1024]);
    interp.call("keep", (buffer.clone(),)).unwrap();
    drop(buffer);
    // Python still reads the memory after Rust dropped its handle ...
    assert_eq!(interp.call("eval", ("sum(kept[0])",)).unwrap(), Value::Int(9 * 1024));
    // ... and destroying the interpreter releases the last view.
    drop(interp);
}

//! Queues: FIFO order, bounds, timeouts, close and destroy, iterators, queues
//! crossing into Python, and unbound items.

use std::thread;
use std::time::{Duration, Instant};

use subinterp::{ErrorKind, Interpreter, Queue, Unbound, Value};

const LONG: Duration = Duration::from_secs(10);

#[test]
fn fifo_order_and_sizes() {
    let queue = Queue::new().unwrap();
    assert!(queue.is_empty().unwrap());
    for n in 0..5 {
        queue.put(n).unwrap();
    }
    assert_eq!(queue.len().unwrap(), 5);
    let items: Vec<i64> = (0..5).map(|_| queue.get().unwrap().unwrap().extract().unwrap()).collect();
    assert_eq!(items, [0, 1, 2, 3, 4]);
    assert_eq!(queue.try_get().unwrap_err().kind(), ErrorKind::QueueEmpty);
}

#[test]
fn info_describes_the_queue() {
    let queue = Queue::with_options(3, Unbound::Error).unwrap();
    queue.put("x").unwrap();
    let info = queue.info().unwrap();
    assert_eq!((info.id, info.maxsize, info.unbound, info.size, info.closed), (queue.id(), 3, Unbound::Error, 1, false));
    let default = Queue::new().unwrap().info().unwrap();
    assert_eq!((default.maxsize, default.unbound), (0, Unbound::Replace));
    assert!(Queue::list().unwrap().contains(&queue.id()));
}

#[test]
fn bounded_queues_refuse_or_wait_when_full() {
    let queue = Queue::with_options(2, Unbound::Replace).unwrap();
    queue.try_put(1).unwrap();
    queue.try_put(2).unwrap();
    assert_eq!(queue.try_put(3).unwrap_err().kind(), ErrorKind::QueueFull);
    let start = Instant::now();
    let err = queue.put_timeout(3, Duration::from_millis(100)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::QueueFull);
    assert!(start.elapsed() >= Duration::from_millis(100));
    // A blocked put completes when a get makes room.
    thread::scope(|s| {
        let putter = s.spawn(|| queue.put(3));
        thread::sleep(Duration::from_millis(50));
        assert_eq!(queue.get().unwrap(), Some(Value::Int(1)));
        putter.join().unwrap().unwrap();
    });
    assert_eq!(queue.len().unwrap(), 2);
}

#[test]
fn get_timeouts_are_honoured() {
    let queue = Queue::new().unwrap();
    let start = Instant::now();
    let err = queue.get_timeout(Duration::from_millis(120)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::QueueEmpty);
    assert!(start.elapsed() >= Duration::from_millis(120));
    assert!(start.elapsed() < Duration::from_secs(5));
    // A blocked get wakes when an item arrives.
    thread::scope(|s| {
        let getter = s.spawn(|| queue.get_timeout(LONG));
        thread::sleep(Duration::from_millis(30));
        queue.put("wake").unwrap();
        assert_eq!(getter.join().unwrap().unwrap(), Some(Value::from("wake")));
    });
}

#[test]
fn closing_drains_then_refuses() {
    let queue = Queue::new().unwrap();
    queue.put(1).unwrap();
    queue.close().unwrap();
    queue.close().unwrap();
    assert!(queue.info().unwrap().closed);
    assert_eq!(queue.put(2).unwrap_err().kind(), ErrorKind::Closed);
    assert_eq!(queue.get().unwrap(), Some(Value::Int(1)));
    assert_eq!(queue.get().unwrap_err().kind(), ErrorKind::Closed);
    // Blocked getters wake on close.
    let queue = Queue::new().unwrap();
    thread::scope(|s| {
        let getter = s.spawn(|| queue.get());
        thread::sleep(Duration::from_millis(30));
        queue.close().unwrap();
        assert_eq!(getter.join().unwrap().unwrap_err().kind(), ErrorKind::Closed);
    });
}

#[test]
fn destroying_wakes_waiters_and_invalidates_every_handle() {
    let queue = Queue::new().unwrap();
    let other = queue.clone();
    thread::scope(|s| {
        let getter = s.spawn(|| other.get());
        thread::sleep(Duration::from_millis(30));
        queue.destroy().unwrap();
        assert_eq!(getter.join().unwrap().unwrap_err().kind(), ErrorKind::NotFound);
    });
    assert_eq!(queue.put(1).unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(other.len().unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(queue.destroy().unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(Queue::from_id(queue.id()).unwrap_err().kind(), ErrorKind::NotFound);
    assert!(!Queue::list().unwrap().contains(&queue.id()));
}

#[test]
fn the_last_handle_destroys_the_queue() {
    let queue = Queue::new().unwrap();
    let id = queue.id();
    let value = Value::from(&queue);
    drop(queue);
    assert!(Queue::list().unwrap().contains(&id), "the value still holds it");
    let again = Queue::from_id(id).unwrap();
    drop(value);
    again.put(1).unwrap();
    drop(again);
    assert!(!Queue::list().unwrap().contains(&id));
    assert_eq!(Queue::from_id(id).unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(Queue::from_id(-1).unwrap_err().kind(), ErrorKind::NotFound);
}

#[test]
fn iterators_block_or_drain() {
    let queue = Queue::new().unwrap();
    for n in 0..3 {
        queue.put(n).unwrap();
    }
    let available: Vec<Value> = queue.try_iter().map(|item| item.unwrap().unwrap()).collect();
    assert_eq!(available, [Value::Int(0), Value::Int(1), Value::Int(2)]);
    thread::scope(|s| {
        s.spawn(|| {
            for n in 0..100 {
                queue.put(n).unwrap();
            }
            queue.close().unwrap();
        });
        let mut sum = 0;
        for item in &queue {
            sum += item.unwrap().unwrap().extract::<i64>().unwrap();
        }
        assert_eq!(sum, 4950);
    });
}

#[test]
fn python_code_uses_the_same_queue() {
    let queue = Queue::new().unwrap();
    let interp = Interpreter::new().unwrap();
    interp.prepare_main([("q", &queue)]).unwrap();
    queue.put((1, "from rust")).unwrap();
    interp.exec("item = q.get(timeout=5)\nq.put(('echo',) + item)").unwrap();
    assert_eq!(queue.get_timeout(LONG).unwrap().unwrap(), Value::from(("echo", 1, "from rust")));
    // A queue made in Python reaches Rust as a value, usable from here.
    let made: Queue = interp.call("eval", ("__import__('_subinterp').create_queue(maxsize=4)",)).unwrap().extract().unwrap();
    assert_eq!(made.info().unwrap().maxsize, 4);
    made.put("hi").unwrap();
    assert_eq!(made.get().unwrap(), Some(Value::from("hi")));
}

#[test]
fn python_blocked_get_is_woken_by_rust() {
    let queue = Queue::new().unwrap();
    let interp = Interpreter::new().unwrap();
    interp.prepare_main([("q", &queue)]).unwrap();
    thread::scope(|s| {
        let consumer = s.spawn(|| interp.call("eval", ("q.get(timeout=10) * 2",)));
        thread::sleep(Duration::from_millis(50));
        queue.put(21).unwrap();
        assert_eq!(consumer.join().unwrap().unwrap(), Value::Int(42));
    });
}

/// Puts three items from a Python interpreter, then destroys it.
fn items_of_a_destroyed_interpreter(unbound: Unbound) -> Queue {
    let queue = Queue::with_options(0, unbound).unwrap();
    let interp = Interpreter::new().unwrap();
    interp.prepare_main([("q", &queue)]).unwrap();
    interp.exec("q.put('a')\nq.put('b')").unwrap();
    queue.put("from the host").unwrap();
    interp.close().unwrap();
    queue
}

#[test]
fn unbound_items_are_replaced_by_none() {
    let queue = items_of_a_destroyed_interpreter(Unbound::Replace);
    assert_eq!(queue.len().unwrap(), 3);
    assert_eq!(queue.get().unwrap(), None);
    assert_eq!(queue.get().unwrap(), None);
    assert_eq!(queue.get().unwrap(), Some(Value::from("from the host")), "host items are never unbound");
}

#[test]
fn unbound_items_fail_or_disappear() {
    let queue = items_of_a_destroyed_interpreter(Unbound::Error);
    for _ in 0..2 {
        let err = queue.get().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unbound);
        assert_eq!(err.code_name(), "SUBINTERP_ERR_UNBOUND");
    }
    assert_eq!(queue.get().unwrap(), Some(Value::from("from the host")));

    let queue = items_of_a_destroyed_interpreter(Unbound::Remove);
    assert_eq!(queue.len().unwrap(), 1);
    assert_eq!(queue.get().unwrap(), Some(Value::from("from the host")));
}

#[test]
fn queues_travel_through_queues() {
    let outer = Queue::new().unwrap();
    let inner = Queue::new().unwrap();
    outer.put(&inner).unwrap();
    let received: Queue = outer.get().unwrap().unwrap().extract().unwrap();
    assert_eq!(received, inner);
    received.put("through").unwrap();
    assert_eq!(inner.get().unwrap(), Some(Value::from("through")));
}

"""A script written for Python 3.14's concurrent.interpreters, unchanged but
for the import: it runs on 3.12 and 3.13 with subinterp, and on 3.14 itself.
Prints "pep734 script: ok" and exits 0 when every check holds."""
try:
    from concurrent import interpreters  # Python 3.14+
except ImportError:
    import subinterp.interpreters as interpreters  # 3.12, 3.13: the one swapped line

import threading


def square(x):
    return x * x


def fail():
    raise KeyError("missing")


def consume(tasks, results):
    while (item := tasks.get()) is not None:
        results.put(item * 10)


def main():
    interp = interpreters.create()
    assert interp in interpreters.list_all()
    assert interpreters.get_main().id == 0
    assert interpreters.get_current() == interpreters.get_main()

    # exec, with state kept in __main__
    interp.exec("import math\nvalue = math.factorial(5)")
    interp.exec("assert value == 120")

    # prepare_main
    interp.prepare_main(greeting="hello", numbers=(1, 2, 3))
    interp.exec("assert greeting == 'hello' and sum(numbers) == 6")

    # call
    assert interp.call(square, 12) == 144

    # ExecutionFailed
    try:
        interp.exec("1 / 0")
    except interpreters.ExecutionFailed as exc:
        assert exc.excinfo.type.__name__ == "ZeroDivisionError", exc.excinfo.type
        assert "division by zero" in exc.excinfo.msg
        assert "Traceback" in str(exc)
    else:
        raise AssertionError("exec did not raise")
    try:
        interp.call(fail)
    except interpreters.ExecutionFailed as exc:
        assert exc.excinfo.type.__name__ == "KeyError"
    else:
        raise AssertionError("call did not raise")

    # queues between interpreters, and call_in_thread
    tasks = interpreters.create_queue()
    results = interpreters.create_queue()
    worker = interp.call_in_thread(consume, tasks, results)
    for i in range(5):
        tasks.put(i)
    tasks.put(None)
    worker.join()
    assert [results.get(timeout=5) for _ in range(5)] == [0, 10, 20, 30, 40]
    try:
        results.get_nowait()
    except interpreters.QueueEmpty:
        pass
    else:
        raise AssertionError("queue should be empty")

    # is_running while a call runs in another thread
    started = interpreters.create_queue()
    release = interpreters.create_queue()
    interp.prepare_main(started=started, release=release)
    t = threading.Thread(target=interp.exec, args=("started.put(1); release.get()",))
    t.start()
    started.get(timeout=5)
    assert interp.is_running()
    release.put(None)
    t.join()
    assert not interp.is_running()

    assert interpreters.is_shareable(b"bytes") and not interpreters.is_shareable(object())
    interp.close()
    assert interp not in interpreters.list_all()
    print("pep734 script: ok")


if __name__ == "__main__":
    main()

"""The Python runner of the conformance suite (docs/conformance.md).

Runs the cases through the Python binding as a Python program would use it:
the control plane `subinterp.capi` (SWIG) for runtime, interpreters, exec,
call, prepare_main, interrupts, import checks, pools and futures, and the data
plane `_subinterp` for queues. Values are
plain Python objects; an object outside the portable data model is the
`pickled` kind. Errors are the binding's exceptions, mapped back to status
names (capi's carry `status_name`; the data plane's are classes).

    python runner.py [--case NAME]... FILE...
"""
import argparse
import json
import math
import os
import pickle
import sys
import time
import traceback

import subinterp  # noqa: F401  (loads the library and the data plane)
import _subinterp
from subinterp import capi

LANG = "python"
CAPABILITIES = ["host-python", "untyped-args"]
STATUS_PREFIX = "SUBINTERP_ERR_"
MODES = {capi.SUBINTERP_RUNTIME_NONE: "none", capi.SUBINTERP_RUNTIME_EMBED: "embed",
         capi.SUBINTERP_RUNTIME_ATTACH: "attach", capi.SUBINTERP_RUNTIME_FINALIZED: "finalized"}
FLAGS = {"capture_stdout": capi.SUBINTERP_RUN_CAPTURE_STDOUT, "capture_stderr": capi.SUBINTERP_RUN_CAPTURE_STDERR,
         "strict": capi.SUBINTERP_RUN_STRICT}
UNBOUND_BY_NAME = {"remove": _subinterp.UNBOUND_REMOVE, "error": _subinterp.UNBOUND_ERROR,
                   "replace": _subinterp.UNBOUND}
# The data plane's exceptions have no status: their class is the status.
STATUS_BY_CLASS = [
    (_subinterp.QueueEmpty, "QUEUE_EMPTY"),
    (_subinterp.QueueFull, "QUEUE_FULL"),
    (_subinterp.QueueClosedError, "CLOSED"),
    (_subinterp.QueueNotFoundError, "NOT_FOUND"),
    (_subinterp.ItemInterpreterDestroyed, "UNBOUND"),
    (_subinterp.NotShareableError, "NOT_SHAREABLE"),
]


class Failed(Exception):
    """An expectation was not met."""


class Unsupported(Exception):
    """The case asks for something this runner cannot express: an `error`."""


# ---- values ---------------------------------------------------------------

class Values:
    """Tagged JSON values <-> Python objects, with the case's bound names."""

    def __init__(self, case):
        self.case = case

    def build(self, tagged):
        """The Python object a tagged value stands for."""
        if tagged is None or isinstance(tagged, (bool, int, str)):
            return tagged
        if not isinstance(tagged, dict) or len(tagged) not in (1, 2):
            raise Unsupported(f"not a tagged value: {tagged!r}")
        kind, payload = next(iter(tagged.items()))
        if kind == "none":
            return None
        if kind in ("bool", "str"):
            return payload
        if kind == "int":
            return int(payload)
        if kind == "float":
            return float(payload)
        if kind == "bytes":
            return bytes.fromhex(payload)
        if kind in ("tuple", "list"):
            items = [self.build(item) for item in payload]
            return tuple(items) if kind == "tuple" else items
        if kind == "dict":
            return {self.build(key): self.build(value) for key, value in payload}
        if kind == "buffer":
            memory = memoryview(bytearray.fromhex(payload))
            return memory.toreadonly() if tagged.get("readonly") else memory
        if kind == "pickled":
            return pickle.loads(bytes.fromhex(payload))
        if kind == "queue":
            return self.case.queue(payload)
        if kind == "interpreter":
            return subinterp.InterpreterID(self.case.resolve(payload))
        if kind == "str_utf8":
            raise Unsupported("raw UTF-8 (str_utf8) cannot be a Python str")
        raise Unsupported(f"unknown value kind {kind!r}")

    def match(self, expected, actual, where="value"):
        """Raise Failed unless `actual` equals the tagged `expected`."""
        if not self.equal(expected, actual):
            raise Failed(f"{where}: expected {json.dumps(expected)}, got {render(actual)}")

    def equal(self, expected, actual):
        if isinstance(expected, dict) and "any" in expected:
            return kind_of(actual) == expected["any"]
        if isinstance(expected, dict) and "float" in expected:
            if kind_of(actual) != "float":
                return False
            want = self.build(expected)
            if math.isnan(want):
                return math.isnan(actual)
            return want == actual and math.copysign(1.0, want) == math.copysign(1.0, actual)
        want_kind = tagged_kind(expected)
        if want_kind != kind_of(actual):
            return False
        if want_kind in ("tuple", "list"):
            items = expected[want_kind]
            return len(items) == len(actual) and all(self.equal(e, a) for e, a in zip(items, actual))
        if want_kind == "dict":
            entries = expected["dict"]
            return len(entries) == len(actual) and all(
                self.equal(ek, ak) and self.equal(ev, av) for (ek, ev), (ak, av) in zip(entries, actual.items()))
        if want_kind == "buffer":
            if "readonly" in expected and expected["readonly"] != actual.readonly:
                return False
            return actual.tobytes() == bytes.fromhex(expected["buffer"])
        if want_kind == "queue":
            return actual.id == self.case.resolve(expected["queue"])
        if want_kind == "interpreter":
            return actual.id == self.case.resolve(expected["interpreter"])
        if want_kind == "pickled":
            return pickle.dumps(actual, protocol=5) == bytes.fromhex(expected["pickled"])
        return self.build(expected) == actual


def tagged_kind(tagged):
    if tagged is None:
        return "none"
    if isinstance(tagged, bool):
        return "bool"
    if isinstance(tagged, int):
        return "int"
    if isinstance(tagged, str):
        return "str"
    kind = next(iter(tagged))
    return "str" if kind == "str_utf8" else kind


# The types the library converts to a kind of their own (exact types: a
# subclass travels pickled).
KIND_OF_TYPE = {type(None): "none", bool: "bool", int: "int", float: "float", str: "str", bytes: "bytes",
                tuple: "tuple", list: "list", dict: "dict", memoryview: "buffer", _subinterp.Queue: "queue",
                subinterp.InterpreterID: "interpreter"}


def kind_of(obj):
    """The portable data kind a Python object travels as."""
    return KIND_OF_TYPE.get(type(obj), "pickled")


def render(obj):
    """A short tagged-JSON-like rendering of a Python object for details."""
    kind = kind_of(obj)
    if kind == "float":
        return json.dumps({"float": repr(obj) if not math.isfinite(obj) or obj == 0 else obj})
    if kind in ("none", "bool", "int", "str"):
        return json.dumps(obj) if kind != "int" or abs(obj) < 2**53 else json.dumps({"int": str(obj)})
    if kind == "bytes":
        return json.dumps({"bytes": obj.hex()})
    if kind in ("tuple", "list"):
        return "{%s: [%s]}" % (json.dumps(kind), ", ".join(render(item) for item in obj))
    if kind == "dict":
        return '{"dict": [%s]}' % ", ".join(f"[{render(k)}, {render(v)}]" for k, v in obj.items())
    if kind == "buffer":
        return json.dumps({"buffer": obj.tobytes().hex(), "readonly": obj.readonly})
    if kind in ("queue", "interpreter"):
        return json.dumps({kind: obj.id})
    return json.dumps({"pickled": repr(obj)})


# ---- errors ---------------------------------------------------------------

def status_of(exc):
    """The status name a binding exception stands for, or None."""
    name = getattr(exc, "status_name", None)
    if name:
        return name[len(STATUS_PREFIX):] if name.startswith(STATUS_PREFIX) else name
    for cls, status in STATUS_BY_CLASS:
        if isinstance(exc, cls):
            return status
    return None


def check_error(expect, exc):
    """Check a raised binding exception against the step's expectation."""
    status = status_of(exc)
    if status is None:
        raise Failed(f"raised {type(exc).__name__}: {exc} (not an error of the library)")
    if "error" not in expect:
        raise Failed(f"unexpected error {status}: {exc}")
    if status != expect["error"]:
        raise Failed(f"expected error {expect['error']}, got {status}: {exc}")
    message = error_message(exc)
    if "message_contains" in expect and expect["message_contains"] not in message:
        raise Failed(f"error message {message!r} lacks {expect['message_contains']!r}")
    excinfo = getattr(exc, "excinfo", None)
    if "exc_type" in expect:
        got = f"{excinfo.type.__module__}.{excinfo.type.__qualname__}" if excinfo else None
        if got != expect["exc_type"]:
            raise Failed(f"expected exception type {expect['exc_type']}, got {got}")
    if "traceback_contains" in expect:
        shown = excinfo.errdisplay if excinfo else ""
        if expect["traceback_contains"] not in shown:
            raise Failed(f"traceback {shown!r} lacks {expect['traceback_contains']!r}")
    check_output(expect, getattr(exc, "stdout", None), getattr(exc, "stderr", None))


def error_message(exc):
    """The library's message: for a Python exception, the exception's own
    (what subinterp_error_message gives: "Type: message")."""
    excinfo = getattr(exc, "excinfo", None)
    return excinfo.formatted if excinfo else str(exc)


def check_output(expect, stdout, stderr):
    for name, got in (("stdout", stdout), ("stderr", stderr)):
        if name in expect and expect[name] != (got or ""):
            raise Failed(f"{name}: expected {expect[name]!r}, got {got!r}")


# ---- one case -------------------------------------------------------------

class Case:
    """The state of one running case: bound names, interpreters and queues it made."""

    def __init__(self, spec):
        self.spec = spec
        self.names = {}
        self.interpreters = []
        self.queues = {}  # id -> Queue object: the case's hold
        self.pools = []    # pool handles the case made (freed at the end)
        self.futures = []  # future handles the case made
        self.values = Values(self)

    def resolve(self, ref):
        if isinstance(ref, int):
            return ref
        name = ref[1:]
        if name not in self.names:
            raise Unsupported(f"unbound name {ref}")
        return self.names[name]

    def queue(self, ref):
        return _subinterp.Queue(self.resolve(ref))  # one object per queue: the one in self.queues if held

    def handle(self, ref, kind):
        if not isinstance(ref, str) or not ref.startswith("$"):
            raise Unsupported(f"{kind} must be a bound name, got {ref!r}")
        return self.resolve(ref)

    def cleanup(self):
        for future in self.futures:
            capi.future_free(future)
        self.futures.clear()
        for pool in self.pools:
            try:
                capi.pool_shutdown(pool, 1, 1)
            except Exception:
                pass
            capi.pool_free(pool)
        self.pools.clear()
        for interp in reversed(self.interpreters):
            try:
                capi.destroy(interp)
            except Exception:
                pass
        self.queues.clear()

    def run(self):
        for index, step in enumerate(self.spec["steps"]):
            try:
                self.run_step(step)
            except Failed as failure:
                raise Failed(f"step {index} ({step['op']}): {failure}") from None
            except Unsupported as unsupported:
                raise Unsupported(f"step {index} ({step['op']}): {unsupported}") from None

    def run_step(self, step):
        handler = OPS.get(step["op"])
        if handler is None:
            raise Unsupported("op not supported by the Python runner")
        expect = step.get("expect", {})
        try:
            result = handler(self, step, expect)
        except (Failed, Unsupported):
            raise
        except Exception as exc:  # the binding refused: check that the case expected it
            check_error(expect, exc)
            return
        if "error" in expect:
            raise Failed(f"expected error {expect['error']}, but the step succeeded")
        if "bind" in step:
            self.names[step["bind"]] = result


def config_object(spec):
    """A subinterp.Config from a CONFIG of a case."""
    spec = dict(spec or {})
    if "struct_size" in spec:
        raise Unsupported("struct_size (needs raw structs)")
    preset = spec.pop("preset", "isolated")
    config = subinterp.Config.coerce(preset)
    return config.replace(**spec) if spec else config


def check_config(expect, config):
    for field, want in expect.get("config", {}).items():
        if int(config[field]) != want:
            raise Failed(f"config.{field}: expected {want}, got {int(config[field])}")


def check_ids(case, expect, ids):
    for ref in expect.get("includes", []):
        if case.resolve(ref) not in ids:
            raise Failed(f"{ref} not in {ids}")
    for ref in expect.get("excludes", []):
        if case.resolve(ref) in ids:
            raise Failed(f"{ref} in {ids}")
    if "first" in expect and (not ids or ids[0] != case.resolve(expect["first"])):
        raise Failed(f"expected {expect['first']} first in {ids}")


def flags_of(step):
    value = 0
    for flag in step.get("flags", []):
        value |= FLAGS[flag]
    return value


def captures(step):
    return any(flag.startswith("capture_") for flag in step.get("flags", []))


def timed(expect, action):
    start = time.monotonic()
    try:
        return action()
    finally:
        elapsed = time.monotonic() - start
        if "elapsed_at_least" in expect and elapsed < expect["elapsed_at_least"]:
            raise Failed(f"returned after {elapsed:.3f}s, before {expect['elapsed_at_least']}s")


# ---- ops ------------------------------------------------------------------

def op_versions(case, step, expect):
    number, text = capi.version(), capi.version_string()
    if text != f"{number // 10000}.{number // 100 % 100}.{number % 100}":
        raise Failed(f"version() {number:#x} disagrees with version_string() {text!r}")
    if "library" in expect and text != expect["library"]:
        raise Failed(f"library version {text}, expected {expect['library']}")
    py_number, py_text = capi.python_version(), capi.python_version_string()
    series = ".".join(py_text.split(".")[:2])
    if py_number >> 16 != sys.hexversion >> 16 or series != f"{sys.version_info[0]}.{sys.version_info[1]}":
        raise Failed(f"python_version() {py_number:#x} / {py_text!r} is not this Python ({sys.version})")
    if "python_series" in expect and series not in expect["python_series"]:
        raise Failed(f"Python {series} not in {expect['python_series']}")


def op_runtime_init(case, step, expect):
    if "options" in step:
        raise Unsupported("runtime options (a Python host attaches; options only apply when embedding)")
    capi.runtime_start()


def op_runtime_finalize(case, step, expect):
    capi.runtime_finalize()


def op_runtime_get_mode(case, step, expect):
    mode = MODES.get(capi.runtime_get_mode(), "unknown")
    want = expect.get("mode")
    if want is not None and mode != ("attach" if want == "started" else want):
        raise Failed(f"mode {mode}, expected {want}")


def op_config_init(case, step, expect):
    preset = step["preset"]
    if not isinstance(preset, str):
        raise Unsupported("a numeric preset (needs raw structs)")
    config = subinterp.Config.coerce(preset)
    check_config(expect, {name: getattr(config, name) for name in expect.get("config", {})})


def op_config_validate(case, step, expect):
    capi.config_validate(config_object(step["config"]))


def op_create(case, step, expect):
    config = config_object(step["config"]) if "config" in step else None
    interp = capi.create(config)
    case.interpreters.append(interp)
    return interp


def op_destroy(case, step, expect):
    capi.destroy(case.resolve(step["interp"]))


def op_list(case, step, expect):
    check_ids(case, expect, capi.list_ids())


def check_id(case, expect, got):
    if "id" in expect and got != case.resolve(expect["id"]):
        raise Failed(f"id {got}, expected {expect['id']}")
    return got


def op_main_id(case, step, expect):
    return check_id(case, expect, capi.main_id())


def op_current_id(case, step, expect):
    return check_id(case, expect, capi.current_id())


def op_is_running(case, step, expect):
    running = capi.is_running(case.resolve(step["interp"]))
    if "running" in expect and running != expect["running"]:
        raise Failed(f"running {running}, expected {expect['running']}")


def op_get_config(case, step, expect):
    check_config(expect, capi.get_config(case.resolve(step["interp"])))


def source_of(step):
    source = step["source"]
    if not isinstance(source, str):
        raise Unsupported("raw UTF-8 source cannot be a Python str")
    return source


def run_options(step):
    """The control plane's run options: flags, or (flags, timeout) with a deadline."""
    if "timeout" in step:
        return (flags_of(step), float(step["timeout"]))
    return flags_of(step)


def op_exec(case, step, expect):
    output = capi.exec_source(case.resolve(step["interp"]), source_of(step), run_options(step))
    check_output(expect, *(output or (None, None)))


def call_arguments(case, step):
    args = step.get("args")
    if isinstance(args, list):
        args = tuple(case.values.build(item) for item in args)
    elif args is not None:
        args = case.values.build(args)
    kwargs = case.values.build(step["kwargs"]) if "kwargs" in step else None
    return args, kwargs


def op_call(case, step, expect):
    args, kwargs = call_arguments(case, step)
    result = capi.call(case.resolve(step["interp"]), step["callable"], args, kwargs, run_options(step))
    if captures(step):
        result, output = result
        check_output(expect, *output)
    if "value" in expect:
        case.values.match(expect["value"], result)
    return result


def op_prepare_main(case, step, expect):
    capi.prepare_main(case.resolve(step["interp"]), case.values.build(step["names"]))


def op_data(case, step, expect):
    """A value goes through the library's conversion both ways (into a queue
    and out again), which is how Python code makes and reads portable data."""
    carrier = _subinterp.create_queue()
    carrier.put(case.values.build(step["value"]))
    value = carrier.get()
    if "kind" in expect and kind_of(value) != expect["kind"]:
        raise Failed(f"kind {kind_of(value)}, expected {expect['kind']}")
    if "repr" in expect and repr(value) != expect["repr"]:
        raise Failed(f"repr {repr(value)!r}, expected {expect['repr']!r}")
    if "len" in expect and len(value) != expect["len"]:
        raise Failed(f"len {len(value)}, expected {expect['len']}")
    if "equals" in expect:
        case.values.match(expect["equals"], value, "equals")


def op_queue_create(case, step, expect):
    unbound = step.get("unbound", "default")
    if not isinstance(unbound, str):
        raise Unsupported("a numeric unbound policy (needs raw structs)")
    options = {} if unbound == "default" else {"unbounditems": UNBOUND_BY_NAME[unbound]}
    queue = _subinterp.create_queue(step.get("maxsize", 0), **options)
    case.queues[queue.id] = queue
    return queue.id


def op_queue_put(case, step, expect):
    queue = case.queue(step["queue"])
    item = case.values.build(step["value"])
    timeout = step.get("timeout", -1)
    if timeout == 0:
        timed(expect, lambda: queue.put_nowait(item))
    else:
        timed(expect, lambda: queue.put(item, timeout=None if timeout < 0 else timeout))


def op_queue_get(case, step, expect):
    queue = case.queue(step["queue"])
    timeout = step.get("timeout", -1)
    if timeout == 0:
        item = timed(expect, queue.get_nowait)
    else:
        item = timed(expect, lambda: queue.get(timeout=None if timeout < 0 else timeout))
    if item is _subinterp.UNBOUND:
        if not expect.get("unbound"):
            raise Failed("got the UNBOUND marker")
        return None
    if expect.get("unbound"):
        raise Failed(f"expected the UNBOUND marker, got {render(item)}")
    if "value" in expect:
        case.values.match(expect["value"], item)
    return item


def op_queue_size(case, step, expect):
    size = case.queue(step["queue"]).qsize()
    if "size" in expect and size != expect["size"]:
        raise Failed(f"size {size}, expected {expect['size']}")


POLICY_NAMES = {_subinterp.UNBOUND_REMOVE: "remove", _subinterp.UNBOUND_ERROR: "error", _subinterp.UNBOUND: "replace"}


def op_queue_info(case, step, expect):
    queue = case.queue(step["queue"])
    info = {"maxsize": queue.maxsize, "unbound": POLICY_NAMES.get(queue.unbounditems, repr(queue.unbounditems)),
            "size": queue.qsize(), "closed": queue.closed}
    for field, want in expect.get("info", {}).items():
        if info[field] != want:
            raise Failed(f"info.{field}: expected {want!r}, got {info[field]!r}")


def op_queue_list(case, step, expect):
    check_ids(case, expect, [queue.id for queue in _subinterp.list_queues()])


def op_queue_close(case, step, expect):
    case.queue(step["queue"]).close()


def op_status_name(case, step, expect):
    name = capi.status_name(step["code"])
    if "name" in expect and name != expect["name"]:
        raise Failed(f"name {name!r}, expected {expect['name']!r}")


# ---- deadlines, interrupts, import checks ----------------------------------

def check_value(case, expect, value):
    if "value" in expect:
        case.values.match(expect["value"], value)
    return value


def op_interrupt(case, step, expect):
    return check_value(case, expect, capi.interrupt(case.resolve(step["interp"])))


def op_check_imports(case, step, expect):
    config = config_object(step["config"]) if "config" in step else None
    return check_value(case, expect, capi.check_imports(config, list(step["modules"])))


# ---- pools and futures ------------------------------------------------------

FUTURE_STATES = {capi.SUBINTERP_FUTURE_PENDING: "pending", capi.SUBINTERP_FUTURE_RUNNING: "running",
                 capi.SUBINTERP_FUTURE_FINISHED: "finished", capi.SUBINTERP_FUTURE_CANCELLED: "cancelled"}


def op_pool_create(case, step, expect):
    config = config_object(step["config"]) if "config" in step else None
    init_args = tuple(case.values.build(item) for item in step["init_args"]) if "init_args" in step else None
    pool = capi.pool_new(step.get("workers", 0), config, step.get("init_source"), step.get("init_callable"),
                         init_args, step.get("max_queued", 0), step.get("max_tasks_per_worker", 0))
    case.pools.append(pool)
    return pool


def op_pool_submit(case, step, expect):
    args, kwargs = call_arguments(case, step)
    wait = step.get("wait", -1.0)
    future = capi.pool_submit(case.handle(step["pool"], "pool"), step["callable"], args, kwargs,
                              run_options(step), float(wait))
    case.futures.append(future)
    return future


def op_pool_call(case, step, expect):
    args, kwargs = call_arguments(case, step)
    result = capi.pool_call(case.handle(step["pool"], "pool"), step["callable"], args, kwargs, run_options(step))
    if captures(step):
        result, output = result
        check_output(expect, *output)
    return check_value(case, expect, result)


def op_pool_map(case, step, expect):
    arg_lists = [tuple(case.values.build(item) for item in args) for args in step["args"]]
    results = capi.pool_map(case.handle(step["pool"], "pool"), step["callable"], arg_lists, run_options(step))
    return check_value(case, expect, results)


def op_pool_shutdown(case, step, expect):
    capi.pool_shutdown(case.handle(step["pool"], "pool"), 1 if step.get("wait", True) else 0,
                       1 if step.get("cancel_pending", False) else 0)


def op_pool_check(case, step, expect):
    capi.pool_check(case.handle(step["pool"], "pool"))


def check_fields(what, expected, got):
    for field, want in expected.items():
        if field not in got:
            raise Unsupported(f"no field {what}.{field}")
        if got[field] != want or isinstance(got[field], bool) != isinstance(want, bool):
            raise Failed(f"{what}.{field}: expected {want!r}, got {got[field]!r}")


def op_pool_stats(case, step, expect):
    stats = capi.pool_get_stats(case.handle(step["pool"], "pool"))
    check_fields("stats", expect.get("stats", {}), stats)


def op_pool_worker(case, step, expect):
    worker = capi.pool_get_worker(case.handle(step["pool"], "pool"), step["index"])
    check_fields("worker", expect.get("worker", {}), worker)
    return worker["interpreter_id"]


def op_pool_free(case, step, expect):
    pool = case.handle(step["pool"], "pool")
    if pool in case.pools:
        case.pools.remove(pool)
    capi.pool_free(pool)


def op_future_result(case, step, expect):
    outcome = capi.future_outcome(case.handle(step["future"], "future"), 1 if captures(step) else 0)
    if captures(step):
        outcome, output = outcome
        check_output(expect, *output)
    return check_value(case, expect, outcome)


def op_future_wait(case, step, expect):
    timeout = step.get("timeout", -1.0)
    timed(expect, lambda: capi.future_wait(case.handle(step["future"], "future"), float(timeout)))


def op_future_state(case, step, expect):
    state = FUTURE_STATES.get(capi.future_get_state(case.handle(step["future"], "future")), "unknown")
    return check_value(case, expect, state)


def op_future_cancel(case, step, expect):
    return check_value(case, expect, bool(capi.future_cancel(case.handle(step["future"], "future"))))


OPS = {name[3:]: function for name, function in globals().items() if name.startswith("op_")}


# ---- protocol -------------------------------------------------------------

def protocol_stream():
    """The results go to a copy of file descriptor 1, and fd 1 (with
    sys.stdout) becomes stderr: whatever the interpreters print without
    capture then cannot corrupt the JSON lines."""
    stream = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    sys.stdout.flush()
    os.dup2(2, 1)
    return stream


PROTOCOL = None


def emit(record):
    PROTOCOL.write(json.dumps(record) + "\n")
    PROTOCOL.flush()


def run_case(spec):
    missing = [need for need in spec.get("requires", []) if need not in CAPABILITIES]
    if missing:
        return "skip", "requires " + ", ".join(missing)
    case = Case(spec)
    try:
        case.run()
        return "pass", ""
    except Failed as failure:
        return "fail", str(failure)
    except Unsupported as unsupported:
        return "error", str(unsupported)
    except Exception:
        return "error", "runner error: " + traceback.format_exc(limit=3)
    finally:
        case.cleanup()


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", action="append", default=[], help="run only this case (repeatable)")
    parser.add_argument("files", nargs="+")
    options = parser.parse_args(argv)
    selected = set(options.case)
    global PROTOCOL
    PROTOCOL = protocol_stream()
    emit({"runner": "python", "lang": LANG, "capabilities": CAPABILITIES, "library": capi.version_string(),
          "python": ".".join(map(str, sys.version_info[:3]))})
    for path in options.files:
        with open(path, encoding="utf-8") as file:
            cases = json.load(file)["cases"]
        for spec in cases:
            if selected and spec["name"] not in selected:
                continue
            status, detail = run_case(spec)
            emit({"case": spec["name"], "lang": LANG, "status": status, "detail": detail})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Shared fixtures. The suite runs against the package as built in
build/py3.X/python (ci/test puts it on PYTHONPATH) or as installed by pip."""
import contextlib

import pytest

import subinterp.interpreters as interpreters


@pytest.fixture
def interp():
    """A fresh isolated interpreter, closed after the test."""
    created = interpreters.create()
    yield created
    with contextlib.suppress(interpreters.InterpreterNotFoundError):
        created.close()


@pytest.fixture(autouse=True)
def no_interpreter_leaks():
    """Every test leaves the interpreters it created closed (or owned by a
    live object): a leak here would abort CPython at exit on 3.12."""
    before = {i.id for i in interpreters.list_all()}
    yield
    import gc
    gc.collect()
    leaked = {i.id for i in interpreters.list_all()} - before
    assert not leaked, f"interpreters left open: {sorted(leaked)}"


@pytest.fixture
def make_interp():
    """A factory of fresh isolated interpreters (``make_interp(config=None)``),
    every one closed after the test (unless the test closed it already)."""
    created = []

    def make(config=None):
        new = interpreters.create(config)
        created.append(new)
        return new

    yield make
    for made in created:
        with contextlib.suppress(interpreters.InterpreterNotFoundError):
            made.close()

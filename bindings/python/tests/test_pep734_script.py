"""The issue's acceptance check: a script written for 3.14's
concurrent.interpreters runs unchanged (import swapped) on this Python."""
import os
import subprocess
import sys

SCRIPT = os.path.join(os.path.dirname(__file__), "scripts", "pep734_script.py")


def test_pep734_script_runs_unchanged():
    completed = subprocess.run([sys.executable, SCRIPT], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "pep734 script: ok"
    assert completed.stderr == ""

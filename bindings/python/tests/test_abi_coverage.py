"""The binding declares every exported C function, and no public function
crashes when every argument is NULL or zero (it must return a status)."""
import os
import subprocess
import sys

import tl
from tl import _native

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..")


def exported():
    with open(os.path.join(ROOT, "abi", "libtl.symbols")) as f:
        return sorted(line.split("@")[0] for line in f if line.strip())


def test_every_exported_function_is_declared():
    missing = [name for name in exported() if name not in _native.declared]
    assert missing == [], "not declared in bindings/python/tl: %s" % missing


# Runs in a child process so that a crash is reported with the function's
# name instead of killing pytest.
CHILD = r'''
import ctypes, sys
import tl, tl.checkpoint, tl.metrics
from tl import _native
lib = _native.lib
for name in sys.argv[1:]:
    argtypes, restype = _native.declared[name]
    args = []
    for t in argtypes:
        if t in (ctypes.c_float, ctypes.c_double):
            args.append(0.0)
        elif isinstance(t, type) and issubclass(t, (ctypes._SimpleCData,)) \
                and t not in (ctypes.c_char_p, ctypes.c_void_p, ctypes.c_wchar_p):
            args.append(0)
        elif isinstance(t, type) and issubclass(
                t, (ctypes._CFuncPtr, ctypes.Structure)):
            args.append(t())  # a NULL callback; a zeroed struct
        else:
            args.append(None)  # NULL pointer
    print(name, flush=True)
    try:
        getattr(lib, name)(*args)
    except tl.Error:
        pass
    except (ctypes.ArgumentError, TypeError) as exc:
        print("cannot call %s: %s" % (name, exc), flush=True)
        sys.exit(3)
print("all survived", flush=True)
'''


def test_no_function_crashes_on_null_and_zero_arguments():
    names = [n for n in exported() if n in _native.declared]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.join(ROOT, "bindings", "python")
    proc = subprocess.run([sys.executable, "-c", CHILD] + names, env=env,
                          capture_output=True, text=True, timeout=300)
    last = proc.stdout.strip().splitlines()[-1:] or ["<nothing>"]
    assert proc.returncode == 0, (
        "child died (status %d) after calling %s\n%s" % (
            proc.returncode, last[0], proc.stderr[-2000:]))
    assert last == ["all survived"]

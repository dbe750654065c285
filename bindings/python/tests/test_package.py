"""The binding as a package: an offline pip install works and imports, and
a library of another version is refused at import with its version named."""
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

import tl
from tl import _supported

ROOT = os.path.join(os.path.dirname(__file__), "..")


def _run(args, env=None, cwd=None):
    return subprocess.run(args, env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_offline_pip_install_imports(tmp_path):
    """pip install --no-build-isolation --no-index (no network: the
    installed setuptools builds the wheel) into a target directory, then
    import from there, with the stubs and py.typed installed too."""
    src = tmp_path / "src"
    # A copy: pip builds in place and would leave build/ and *.egg-info in
    # the source tree.
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        "tests", "__pycache__", "build", "*.egg-info"))
    target = tmp_path / "site"
    r = _run([sys.executable, "-m", "pip", "install", "--no-build-isolation",
              "--no-index", "--no-deps", "--disable-pip-version-check",
              "--target", str(target), str(src)])
    assert r.returncode == 0, r.stdout + r.stderr
    for name in ("__init__.py", "py.typed", "__init__.pyi", "model.pyi",
                 "metrics/__init__.py", "metrics/_divergence.pyi"):
        assert (target / "tl" / name).exists(), name
    env = dict(os.environ, PYTHONPATH=str(target))
    r = _run([sys.executable, "-c", textwrap.dedent("""
        import tl
        print(tl.__file__)
        print(tl.__version__, tl.version_number)
        m = tl.Model(seed=0)
        m.add_linear("fc", 3, 2)
        print(m.param_names())
        """)], env=env, cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == str(target / "tl" / "__init__.py")
    assert lines[1] == "%s %d" % (tl.__version__, tl.version_number)
    assert lines[2] == "['fc.weight', 'fc.bias']"


def test_loaded_version_is_supported():
    assert _supported.MIN_VERSION <= tl.version_number <= _supported.MAX_VERSION
    # TL_VERSION_NUMBER's formula: major * 10000 + minor * 100 + patch.
    major, minor, patch = (int(x) for x in tl.__version__.split("."))
    assert tl.version_number == major * 10000 + minor * 100 + patch


def _fake_libtl(tmp_path, number, text):
    """A shared library that answers tl_version_number/tl_version_string
    like a libtl of another version."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build a stand-in library")
    c = tmp_path / "fake.c"
    c.write_text('unsigned tl_version_number(void) { return %du; }\n'
                 'const char *tl_version_string(void) { return "%s"; }\n'
                 % (number, text))
    so = tmp_path / ("libtl-%d.so" % number)
    r = _run([cc, "-shared", "-fPIC", "-o", str(so), str(c)])
    assert r.returncode == 0, r.stderr
    return so


def _import_with(lib):
    env = dict(os.environ, TL_LIBRARY=str(lib), PYTHONPATH=ROOT)
    return _run([sys.executable, "-c", "import tl"], env=env)


@pytest.mark.parametrize("number,text", [(200, "0.2.0"), (99, "0.0.99"),
                                         (10100, "1.1.0")])
def test_other_version_refused_at_import(tmp_path, number, text):
    r = _import_with(_fake_libtl(tmp_path, number, text))
    assert r.returncode != 0
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: libtl at ")
    assert ("is version %s (tl_version_number %d); this binding supports "
            "0.1.x (100..199)" % (text, number)) in last


def test_not_libtl_refused_at_import(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build a stand-in library")
    c = tmp_path / "other.c"
    c.write_text("int something_else(void) { return 1; }\n")
    so = tmp_path / "libother.so"
    assert _run([cc, "-shared", "-fPIC", "-o", str(so), str(c)]).returncode == 0
    r = _import_with(so)
    assert r.returncode != 0
    assert "is not libtl: it has no tl_version_number" in r.stderr

"""The type stubs (tl/*.pyi) cannot drift from the modules: every public
name of a stub exists in its module and every public name of a module
(its __all__) is in the stub; every public class has the same public
methods and properties in both; and every function and method has the
same parameters (names, kinds, which have defaults) in both."""
import ast
import glob
import importlib
import inspect
import os
import re

import pytest

PKG = os.path.join(os.path.dirname(__file__), "..", "tl")
STUBS = sorted(glob.glob(os.path.join(PKG, "**", "*.pyi"), recursive=True))


def _module_name(path):
    rel = os.path.relpath(path, os.path.join(PKG, ".."))[:-len(".pyi")]
    parts = rel.split(os.sep)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _public(name):
    return not name.startswith("_")


def _stub_tree(module):
    path = os.path.join(PKG, "..", *module.split(".")) + ".pyi"
    if not os.path.exists(path):
        path = os.path.join(PKG, "..", *module.split("."), "__init__.pyi")
    return ast.parse(open(path, encoding="utf-8").read(), path)


def _resolve(module, level, name):
    base = module.split(".")
    pkg = base if _is_package(module) else base[:-1]
    pkg = pkg[:len(pkg) - (level - 1)] if level > 1 else pkg
    return ".".join(pkg + ([name] if name else []))


def _is_package(module):
    return os.path.exists(os.path.join(PKG, "..", *module.split("."),
                                       "__init__.pyi"))


def _stub_names(module):
    """Public top-level names a stub declares (a star import counts the
    names of the stub it imports from)."""
    names = {}
    for node in _stub_tree(module).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names[node.name] = node
        elif isinstance(node, ast.AnnAssign):
            names[node.target.id] = node
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                names[t.id] = node
        elif isinstance(node, ast.ImportFrom) and node.level:
            src = _resolve(module, node.level, node.module)
            for a in node.names:
                if a.name == "*":
                    names.update(_stub_names(src))
                elif a.asname == a.name:  # an explicit re-export (PEP 484)
                    names[a.name] = node
    return {k: v for k, v in names.items() if _public(k) or k == "__version__"}


def _module_public(mod):
    if hasattr(mod, "__all__"):
        return set(mod.__all__)
    return {n for n, v in vars(mod).items()
            if _public(n) and not inspect.ismodule(v)}


def _params(args):
    """[(name, kind, has_default)] of an ast.arguments."""
    out = []
    pos = args.posonlyargs + args.args
    first_default = len(pos) - len(args.defaults)
    for i, a in enumerate(pos):
        kind = "POSITIONAL_ONLY" if i < len(args.posonlyargs) else \
            "POSITIONAL_OR_KEYWORD"
        out.append((a.arg, kind, i >= first_default))
    if args.vararg:
        out.append((args.vararg.arg, "VAR_POSITIONAL", False))
    for a, d in zip(args.kwonlyargs, args.kw_defaults):
        out.append((a.arg, "KEYWORD_ONLY", d is not None))
    if args.kwarg:
        out.append((args.kwarg.arg, "VAR_KEYWORD", False))
    return out


def _real_params(fn, bound):
    sig = inspect.signature(fn)
    out = [(p.name, p.kind.name, p.default is not p.empty)
           for p in sig.parameters.values()]
    return out if not bound else [("self", "POSITIONAL_OR_KEYWORD", False)] + out


def _decorators(node):
    return {d.id if isinstance(d, ast.Name) else ast.unparse(d)
            for d in node.decorator_list}


def _stub_class_members(module, node):
    """name -> ast node of a stub class's members, its stub bases'
    included (bases named in the same stub or imported from another)."""
    members = {}
    tree = _stub_tree(module)
    imports = {a.asname or a.name: _resolve(module, n.level, n.module)
               for n in tree.body if isinstance(n, ast.ImportFrom) and n.level
               for a in n.names}
    for base in node.bases:
        if isinstance(base, ast.Name):
            src = imports.get(base.id, module)
            for n in _stub_tree(src).body:
                if isinstance(n, ast.ClassDef) and n.name == base.id:
                    members.update(_stub_class_members(src, n))
    for item in node.body:
        if isinstance(item, ast.FunctionDef):
            members[item.name] = item  # a property's setter replaces it: same name
        elif isinstance(item, ast.AnnAssign):
            members[item.target.id] = item
    return members


def _real_class_members(cls):
    out = {}
    for c in reversed(cls.__mro__):
        if c.__module__.split(".")[0] != "tl":
            continue
        out.update(vars(c))
    return out


DUNDERS = {"__init__", "__call__", "__len__", "__getitem__", "__setitem__",
           "__delitem__", "__contains__", "__iter__", "__enter__",
           "__exit__", "__repr__", "__str__"}

MODULES = [_module_name(p) for p in STUBS]


def test_every_module_has_a_stub():
    py = sorted(glob.glob(os.path.join(PKG, "**", "*.py"), recursive=True))
    internal = {"_check.py", "_versions.py", "_supported.py"}
    missing = [p for p in py if os.path.basename(p) not in internal
               and not os.path.exists(p + "i")]
    assert not missing
    assert os.path.exists(os.path.join(PKG, "py.typed"))


@pytest.mark.parametrize("module", MODULES)
def test_stub_names_match_module(module):
    mod = importlib.import_module(module)
    stub = set(_stub_names(module))
    real = _module_public(mod)
    assert stub - real == set(), "in %s.pyi, not in the module" % module
    assert real - stub == set(), "in %s, not in its stub" % module


def _check_function(where, stub_node, real, bound):
    want = _params(stub_node.args)
    got = _real_params(real, bound)
    if "overload" in _decorators(stub_node):
        # An overload narrows kinds and defaults (return_plan: Literal[True]
        # keyword-only); the names and their order still must match.
        want, got = [w[0] for w in want], [g[0] for g in got]
    assert want == got, "%s: stub parameters %s, module %s" % (where, want, got)


@pytest.mark.parametrize("module", MODULES)
def test_stub_signatures_match_module(module):
    mod = importlib.import_module(module)
    checked = 0
    for name, node in _stub_names(module).items():
        if isinstance(node, ast.ImportFrom):
            continue  # checked in the module that defines it
        real = getattr(mod, name)
        where = "%s.%s" % (module, name)
        if isinstance(node, ast.FunctionDef):
            assert inspect.isfunction(real), where
            _check_function(where, node, real, bound=False)
            checked += 1
        elif isinstance(node, ast.ClassDef):
            assert inspect.isclass(real), where
            stub_members = {k: v for k, v in
                            _stub_class_members(module, node).items()
                            if _public(k) or k in DUNDERS}
            real_members = _real_class_members(real)
            real_public = {k for k in real_members if _public(k)}
            stub_public = {k for k in stub_members if _public(k)}
            if issubclass(real, BaseException) or \
                    issubclass(real, __import__("enum").Enum):
                continue  # attributes set per status/member, not methods
            attrs = {k for k, v in stub_members.items()
                     if isinstance(v, ast.AnnAssign)}
            # Instance attributes (set in __init__) are in the stub only.
            src = inspect.getsource(real)
            for a in attrs - real_public:
                assert re.search(r"self\.%s\b[^=\n]*=" % a, src), \
                    "%s.%s: declared in the stub, never set" % (where, a)
            assert real_public - stub_public == set(), \
                "%s: public members missing from the stub" % where
            assert stub_public - attrs - real_public == set(), \
                "%s: stub members the class lacks" % where
            for k, v in stub_members.items():
                if not isinstance(v, ast.FunctionDef):
                    continue
                raw = inspect.getattr_static(real, k)
                decos = _decorators(v)
                w = "%s.%s" % (where, k)
                if "property" in decos or any(d.endswith(".setter") for d in decos):
                    assert isinstance(raw, property), w
                elif "classmethod" in decos:
                    assert isinstance(raw, classmethod), w
                    _check_function(w, v, raw.__func__, bound=False)
                elif "staticmethod" in decos:
                    assert isinstance(raw, staticmethod), w
                    _check_function(w, v, raw.__func__, bound=False)
                else:
                    assert inspect.isfunction(raw), w
                    _check_function(w, v, raw, bound=False)
                checked += 1
        elif isinstance(node, ast.AnnAssign):
            assert not inspect.isfunction(real), where
    assert checked or module.endswith(("_errors", "metrics", "tl")) or \
        module == "tl", module


@pytest.mark.parametrize("path", STUBS, ids=[_module_name(p) for p in STUBS])
def test_stubs_are_fully_annotated(path):
    """Every parameter (but self and cls) and every return has a type, so
    mypy checks every call against the API rather than letting Any in."""
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    bare = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef):
            continue
        a = node.args
        params = a.posonlyargs + a.args + a.kwonlyargs + \
            [x for x in (a.vararg, a.kwarg) if x]
        bare += ["%s(%s)" % (node.name, p.arg) for p in params
                 if p.annotation is None and p.arg not in ("self", "cls")]
        if node.returns is None:
            bare.append("%s -> ?" % node.name)
    assert bare == []

"""No private name of a library outside the compat modules (flows/compat.py, tuning/compat.py, tests/compat.py).

Read from the code itself: an import of a private module or name of another package; an attribute `x._name`, or
getattr(x, "_name"), that no code of this project defines (so it is a library's); a method `_name` of a class that
overrides a library base's. Every such use belongs in the compat module of its library, with the versions it
was read in (tests/test_compat.py).
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OWN_PACKAGES = ("flows", "training", "tuning", "tests", "bench")
COMPAT = {"flows/compat.py", "tuning/compat.py", "training/tracking/compat.py", "tests/compat.py"}
# Public despite the underscore: namedtuple's documented methods, os._exit, sys._getframe-free.
PUBLIC_UNDERSCORED = {"_replace", "_asdict", "_fields", "_make", "_field_defaults", "_exit"}
# Modules whose whole namespace is a library's implementation, not its API.
INTERNAL_NAMESPACES = ("keras.src", "keras_tuner.src", "tensorflow.python", "tf_keras.src")


def private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def sources(root: Path = ROOT) -> list[Path]:
    return sorted(p for package in OWN_PACKAGES for p in (root / package).rglob("*.py") if "__pycache__" not in p.parts)


def own_private_names(files: list[Path]) -> set[str]:
    """Every private name this project defines: functions, classes, variables, attributes it assigns."""
    names = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and private(node.name):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and private(node.id):
                names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and private(node.attr):
                names.add(node.attr)
            elif isinstance(node, ast.arg) and private(node.arg):
                names.add(node.arg)
    return names


def external(module: str) -> bool:
    return bool(module) and module.split(".")[0] not in OWN_PACKAGES


def module_name(path: Path, root: Path) -> str:
    return ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")


def private_uses(path: Path, root: Path, own: set[str]) -> list[str]:
    """`file:line what` for each use of a library's private name in `path`."""
    where = path.relative_to(root)
    found = []
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and external(node.module or ""):
            module = node.module
            if any(private(part) for part in module.split(".")) or module.startswith(INTERNAL_NAMESPACES):
                found.append(f"{where}:{node.lineno} imports private module {module}")
            found += [f"{where}:{node.lineno} imports private {module}.{alias.name}"
                      for alias in node.names if private(alias.name)]
        elif isinstance(node, ast.Import):
            found += [f"{where}:{node.lineno} imports private module {alias.name}" for alias in node.names
                      if external(alias.name) and (any(private(p) for p in alias.name.split("."))
                                                   or alias.name.startswith(INTERNAL_NAMESPACES))]
        elif isinstance(node, ast.Attribute) and private(node.attr) and node.attr not in own | PUBLIC_UNDERSCORED:
            found.append(f"{where}:{node.lineno} uses {ast.unparse(node)}")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("getattr", "setattr", "hasattr", "delattr") and len(node.args) > 1
              and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)
              and private(node.args[1].value) and node.args[1].value not in own | PUBLIC_UNDERSCORED):
            found.append(f"{where}:{node.lineno} uses {ast.unparse(node)}")
        elif isinstance(node, ast.ClassDef) and node.bases:
            found += overridden_private_methods(path, root, node)
    return found


def overridden_private_methods(path: Path, root: Path, node: ast.ClassDef) -> list[str]:
    """Private methods of a class that a library base class also has: an override of a private name."""
    methods = [n.name for n in node.body if isinstance(n, ast.FunctionDef) and private(n.name)]
    if not methods:
        return []
    module = importlib.import_module(module_name(path, root))
    cls = getattr(module, node.name, None)
    if not inspect.isclass(cls):  # made inside a function: judged where it is made (compat) or not at all
        return []
    libraries = [base for base in cls.__mro__[1:] if external(base.__module__) and base is not object]
    return [f"{path.relative_to(root)}:{node.lineno} {node.name}.{name} overrides {base.__module__}.{base.__name__}"
            for name in methods for base in libraries[:1] if any(hasattr(b, name) for b in libraries)]


def test_no_private_name_of_a_library_outside_the_compat_modules():
    files = sources()
    own = own_private_names([p for p in files if str(p.relative_to(ROOT)) not in COMPAT])
    found = [use for path in files if str(path.relative_to(ROOT)) not in COMPAT
             for use in private_uses(path, ROOT, own)]
    assert found == [], "\n".join(found)


def test_the_check_finds_each_kind_of_use(tmp_path, monkeypatch):
    """Planted: a private module, a private attribute, an override of a library's private method; and a private
    name of the project's own is not one."""
    package = tmp_path / "planted"
    package.mkdir()
    (package / "__init__.py").write_text("")
    planted = package / "planted_private_uses.py"
    planted.write_text(
        "import keras_tuner as kt\n"
        "from keras_tuner.src.distribute import utils\n"
        "from prefect.utilities.engine import _prefect_sigterm_handler\n"
        "class Oracle(kt.oracles.RandomSearchOracle):\n"
        "    def _random_values(self):\n"
        "        return self._tried_so_far\n"
        "setattr(kt, '_hidden', None)\n"
        "class Mine:\n"
        "    def _helper(self):\n"
        "        return self._helper()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    uses = private_uses(planted, tmp_path, own_private_names([planted]) - {"_random_values", "_tried_so_far"})
    assert uses == ["planted/planted_private_uses.py:2 imports private module keras_tuner.src.distribute",
                    "planted/planted_private_uses.py:3 imports private "
                    "prefect.utilities.engine._prefect_sigterm_handler",
                    "planted/planted_private_uses.py:4 Oracle._random_values overrides "
                    "keras_tuner.src.tuners.randomsearch.RandomSearchOracle",
                    "planted/planted_private_uses.py:7 uses setattr(kt, '_hidden', None)",
                    "planted/planted_private_uses.py:6 uses self._tried_so_far"]

"""`show_source` listings show the lines that compute: no argument checks, still Python."""
import ast
import importlib
import inspect
import pkgutil
import re
import textwrap

import pytest

import companion
from companion import show_source
from companion.notebook import _strip_checks

CHECK_CALL = re.compile(r"\b_?check(_\w+)?\(")


def _has_source(fn) -> bool:
    try:
        inspect.getsource(fn)
    except (OSError, TypeError):
        return False
    return True


def _listed_objects():
    for info in pkgutil.iter_modules(companion.__path__):
        if info.name.startswith("_") or info.ispkg:
            continue
        module = importlib.import_module(f"companion.{info.name}")
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isfunction(obj) and not name.startswith("check"):
                yield f"{info.name}.{name}", obj
            elif inspect.isclass(obj) and obj.__module__ == module.__name__:
                for attr, member in vars(obj).items():
                    if inspect.isfunction(member) and (not attr.startswith("_") or attr == "__init__") \
                            and _has_source(member):     # not a generated dataclass __init__
                        yield f"{info.name}.{name}.{attr}", member


@pytest.mark.parametrize("name,obj", list(_listed_objects()), ids=lambda x: x if isinstance(x, str) else "")
def test_listings_hide_the_checks_and_still_parse(name, obj):
    code = show_source(obj).code
    ast.parse(textwrap.dedent(code))
    assert not CHECK_CALL.search(code), f"{name} shows argument checks:\n{code}"


def test_checks_are_removed_from_nested_blocks_and_expressions():
    code = textwrap.dedent('''
        def f(x, eps=None, scale=None, generator=None):
            check_tensor("x", x)
            if eps is None:
                check_generator("generator", generator)
                eps = draw(x.shape, generator)
            else:
                check_tensor("eps", eps)
                if eps.shape != x.shape:
                    raise ValueError("eps must have x's shape")
            scale = 1.0 if scale is None else check_number("scale", scale, positive=True)
            return x + scale * self._check_state(eps)
        ''')
    stripped, hidden = _strip_checks(code)
    assert stripped.splitlines()[2:] == [
        "    # ... argument checks omitted (see the module's source)",
        "    if eps is None:",
        "        eps = draw(x.shape, generator)",
        "    scale = 1.0 if scale is None else scale",
        "    return x + scale * eps"]
    assert hidden == 5       # six lines removed, one comment put in

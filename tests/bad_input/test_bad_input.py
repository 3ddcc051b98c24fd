"""Bad input to every public name of ``companion`` raises a clear error (see framework.py).

The specs live beside this file, one ``specs_<module>.py`` per module (or group of
modules); every name in every module's ``__all__`` needs one, so a new public function
without a spec fails ``test_every_public_name_has_a_spec``.
"""
from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import framework as fw  # noqa: E402

for _info in pkgutil.iter_modules([str(HERE)]):
    if _info.name.startswith("specs_"):
        importlib.import_module(_info.name)

import companion  # noqa: E402

MODULES = sorted({p.stem for p in Path(companion.__file__).parent.glob("*.py")
                  if not p.stem.startswith("_")} | {"exercises"})
SPECS = [s for name in sorted(fw.REGISTRY) for s in fw.REGISTRY[name]]


def test_every_public_name_has_a_spec():
    missing = [n for n in fw.public_names(MODULES) if not fw.covered(n)]
    assert not missing, f"{len(missing)} public names without a bad-input spec: {missing}"


def test_specs_name_real_public_objects():
    public = set(fw.public_names(MODULES))
    stale = [n for n in fw.REGISTRY if ".".join(n.split(".")[:2]) not in public]
    assert not stale, f"specs for names that are not public: {stale}"


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_the_valid_call_works(spec):
    fn, kwargs = spec.make()
    fn(**kwargs)
    plt.close("all")


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_bad_input_raises_an_error_naming_the_argument(spec, data):
    fn, kwargs = spec.make()
    candidates = [(arg, kind) for arg, value in kwargs.items() if arg not in spec.skip
                  for kind in fw.kinds_for(value) if kind not in spec.allow.get(arg, set())]
    if not candidates:
        return
    arg, kind = data.draw(st.sampled_from(candidates), label="argument and kind")
    bad = dict(kwargs)
    bad[arg] = fw.corrupt(kwargs[arg], kind, data)
    try:
        fn(**bad)
    except (TypeError, ValueError) as err:
        aliases = spec.names.get(arg, ())
        aliases = (aliases,) if isinstance(aliases, str) else tuple(aliases)
        assert fw.names_argument(str(err), arg, aliases), \
            f"{spec.name}: a {kind} {arg} raised {type(err).__name__}: {err}"
    except Exception as err:  # noqa: BLE001 - a crash deep inside is a failure too
        pytest.fail(f"{spec.name}: a {kind} {arg} crashed with {type(err).__name__}: {err}")
    else:
        pytest.fail(f"{spec.name}: a {kind} {arg} was accepted without an error")
    finally:
        plt.close("all")

"""Every public name of bulkops is documented and typed (what users import, and read)."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterator
from typing import Any

import pytest

MODULES = ("bulkops", "bulkops.api", "bulkops.run", "bulkops.errors", "bulkops.testing")


def public_names() -> Iterator[tuple[str, str, Any]]:
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            if not name.startswith("__"):
                yield module_name, name, getattr(module, name)


def ours(obj: Any) -> bool:
    return (getattr(obj, "__module__", "") or "").startswith("bulkops")


def functions_of(name: str, obj: Any) -> Iterator[tuple[str, Any]]:
    if inspect.isclass(obj):
        for attr, member in vars(obj).items():
            if attr.startswith("_") and attr not in ("__init__", "__call__"):
                continue
            if isinstance(member, (staticmethod, classmethod)):
                member = member.__func__
            if isinstance(member, property):
                member = member.fget
            if inspect.isfunction(member) and ours(member):
                yield f"{name}.{attr}", member
    elif inspect.isfunction(obj) and ours(obj):
        yield name, obj


def missing_types(fn: Any) -> list[str]:
    signature = inspect.signature(fn)
    missing = [
        p.name
        for p in signature.parameters.values()
        if p.name not in ("self", "cls") and p.annotation is inspect.Parameter.empty
    ]
    if signature.return_annotation is inspect.Signature.empty and fn.__name__ != "__init__":
        missing.append("return")
    return missing


@pytest.mark.parametrize(
    "module_name,name,obj",
    [pytest.param(*entry, id=f"{entry[0]}.{entry[1]}") for entry in public_names()],
)
def test_every_public_name_is_documented_and_typed(module_name: str, name: str, obj: Any) -> None:
    if not (inspect.isclass(obj) or inspect.isfunction(obj)) or not ours(obj):
        return  # constants, re-exported library names, pytest fixtures' wrappers
    assert (obj.__doc__ or "").strip(), f"{module_name}.{name} has no docstring"
    for label, fn in functions_of(name, obj):
        if fn.__name__ not in ("__init__", "__call__"):
            assert (fn.__doc__ or "").strip(), f"{module_name}.{label} has no docstring"
        assert not missing_types(fn), f"{module_name}.{label}: untyped {missing_types(fn)}"


def test_the_top_level_names_load_lazily_and_exist() -> None:
    import bulkops

    for name in bulkops.__all__:
        assert getattr(bulkops, name) is not None

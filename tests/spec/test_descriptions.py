"""Every spec model says what it is and every field what it means: the configuration reference is
generated from these descriptions, so a field without one would be an undocumented key."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from pydantic import BaseModel

import llmkube_iac.spec


def spec_models() -> list[type[BaseModel]]:
    """Every pydantic model defined in a module of llmkube_iac/spec/ (the stack, the metal contract)."""
    found = []
    for info in pkgutil.iter_modules(llmkube_iac.spec.__path__):
        module = importlib.import_module(f"llmkube_iac.spec.{info.name}")
        found += [
            cls
            for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, BaseModel) and cls.__module__ == module.__name__
        ]
    return found


def test_the_walk_finds_the_spec_models():
    names = {cls.__name__ for cls in spec_models()}
    assert {
        "StackConfig",
        "SiteSpec",
        "ModelSpec",
        "InferenceServiceSpec",
        "RouterSpec",
        "DesiredState",
        "MetalServiceState",
    } <= names


def test_every_spec_field_has_a_description():
    missing = [
        f"{cls.__module__}.{cls.__name__}.{name}"
        for cls in spec_models()
        for name, info in cls.model_fields.items()
        if not (info.description or "").strip()
    ]
    assert not missing, (
        "spec fields without a description (add Field(..., description=...) saying what it means, "
        "its unit, its default behaviour and when to use it): " + ", ".join(missing)
    )


def test_every_spec_model_has_its_own_docstring():
    missing = [
        f"{cls.__module__}.{cls.__name__}" for cls in spec_models() if not (cls.__dict__.get("__doc__") or "").strip()
    ]
    assert not missing, f"spec models without a docstring (it heads their section of the reference): {missing}"

"""Reporters turn an engine ``Result`` into text. They know nothing about individual rules.

Each reporter module is imported only when its format is asked for, so the check path stays lean.
"""

from __future__ import annotations

import importlib

FORMATS = ("text", "json", "sarif", "github")


def render(fmt: str, result, options: dict) -> str:
    module = importlib.import_module(f"{__name__}.{fmt}_report")
    return module.render(result, **options)

"""Typed results, and the one function that turns any of them into JSON.

Every operation returns a result object. Result classes are pydantic dataclasses declared
with ``config=RESULT``: fields that only the program needs are marked ``Hidden``, values
derived for the reader are ``computed_field`` properties, and ``to_json`` serialises any of
them the same way (money as exact decimal text, dates as ISO text, paths as text) — the
shape ``--json`` prints and other programs read.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import ConfigDict, Field, TypeAdapter

__all__ = ["RESULT", "Hidden", "to_json"]

RESULT = ConfigDict(arbitrary_types_allowed=True)
T = TypeVar("T")
Hidden = Annotated[T, Field(exclude=True)]  # kept on the result, left out of its JSON


_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def _adapter(kind: type[Any]) -> TypeAdapter[Any]:
    if kind not in _ADAPTERS:
        _ADAPTERS[kind] = TypeAdapter(kind)
    return _ADAPTERS[kind]


def to_json(result: object) -> Any:
    """A result (or a list of results) as plain JSON data."""
    if isinstance(result, list):
        return [to_json(item) for item in result]
    return _adapter(type(result)).dump_python(result, mode="json", by_alias=True)

"""The registry of instruction types: id → a factory that turns the document's kwargs into
a check ``str -> bool``.

IFEval ids are as in Google's data (``keywords:existence``); M-IFEval's Japanese ids carry
the ``ja:`` prefix (``ja:letters:furigana``). A factory's parameters are the kwargs the
reference reads; every one is required here (the references fill a missing one with a
random value, which would make a score irreproducible), and one the factory does not know
is an error, so a malformed document fails before any model call.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from hyoka.errors import DatasetError

Check = Callable[[str], bool]
CheckFactory = Callable[..., Check]

#: the relations of IFEval (English) and M-IFEval (Japanese: 未満 = less than, 以上 = at least)
EN_RELATIONS = ("less than", "at least")
JA_RELATIONS = ("未満", "以上")


@dataclass(frozen=True)
class InstructionType:
    id: str
    factory: CheckFactory
    params: tuple[str, ...]

    def build(self, kwargs: Mapping[str, Any]) -> Check:
        unknown = sorted(set(kwargs) - set(self.params))
        missing = [p for p in self.params if p not in kwargs or kwargs[p] is None]
        if unknown or missing:
            raise InstructionArgsError(
                f"instruction '{self.id}': kwargs {dict(kwargs)!r} "
                + (f"lack {missing}" if missing else f"have unknown {unknown}")
                + f"; expected exactly {list(self.params)}"
            )
        return self.factory(**{p: kwargs[p] for p in self.params})


class InstructionArgsError(DatasetError):
    """A document's instruction id or kwargs cannot be checked."""


INSTRUCTIONS: dict[str, InstructionType] = {}


def instruction(*ids: str) -> Callable[[CheckFactory], CheckFactory]:
    """Register a check factory under one or more instruction ids."""

    def deco(factory: CheckFactory) -> CheckFactory:
        params = tuple(inspect.signature(factory).parameters)
        for instruction_id in ids:
            if instruction_id in INSTRUCTIONS:
                raise ValueError(f"instruction '{instruction_id}' registered twice")
            INSTRUCTIONS[instruction_id] = InstructionType(instruction_id, factory, params)
        return factory

    return deco


def build_check(instruction_id: str, kwargs: Mapping[str, Any]) -> Check:
    # importing the package registers every family module
    import hyoka.metrics.ifeval  # noqa: F401

    spec = INSTRUCTIONS.get(instruction_id)
    if spec is None:
        raise InstructionArgsError(f"unknown instruction id '{instruction_id}' (hyoka knows {len(INSTRUCTIONS)} ids)")
    return spec.build(kwargs)


def compare(count: int, relation: str, threshold: int, relations: tuple[str, str]) -> bool:
    """``count < threshold`` for the first relation ("less than" / 未満), ``>=`` for the second."""
    return count < threshold if relation == relations[0] else count >= threshold


def check_relation(relation: Any, relations: tuple[str, str], instruction_id: str) -> str:
    if relation not in relations:
        raise InstructionArgsError(f"instruction '{instruction_id}': relation must be one of {relations}, got {relation!r}")
    return relation


def check_count(value: Any, name: str, instruction_id: str) -> int:
    """An integer threshold. The references replace a negative one with a random number."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InstructionArgsError(f"instruction '{instruction_id}': {name} must be a non-negative integer, got {value!r}")
    return value

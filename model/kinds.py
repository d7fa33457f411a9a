"""The closed sets of the model, declared once: the kinds of actor and the theories of change."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Kind(IntEnum):
    """Kinds of actor; the value is the actor's code in ``People.kind`` and the column in ``People.trust``."""

    RESIDENT = 0
    OFFICIAL = 1
    ACADEMIC = 2
    GROUP = 3


class TheoryKind(StrEnum):
    """The four theories of change; the position is the code held in ``People.toc``."""

    incremental = "incremental"
    structural = "structural"
    knowledge = "knowledge"
    coalition = "coalition"


RESIDENT, OFFICIAL, ACADEMIC, GROUP = Kind
N_KINDS = len(Kind)
THEORIES: tuple[str, ...] = tuple(t.value for t in TheoryKind)
N_THEORIES = len(THEORIES)
THEORY_INDEX: dict[str, int] = {name: i for i, name in enumerate(THEORIES)}
INCREMENTAL, STRUCTURAL, KNOWLEDGE, COALITION = (THEORY_INDEX[t.value] for t in TheoryKind)

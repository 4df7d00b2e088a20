"""What an operation selects below a field, through fragments, for resolvers that can
fetch ahead for the whole selection."""

from __future__ import annotations

from collections.abc import Iterable

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from schema.context import Info


def _fields(selections: Iterable[Selection]) -> Iterable[SelectedField]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        elif isinstance(selection, FragmentSpread | InlineFragment):
            yield from _fields(selection.selections)


def selects(info: Info, *path: str) -> bool:
    """Whether the field being resolved selects `path` (e.g. "edges", "node", "profile")
    anywhere below it, under any alias or fragment."""
    level: list[Selection] = list(info.selected_fields)
    for name in path:
        level = [
            child
            for field in _fields(level)
            if field.name == name
            for child in ([field] if name == path[-1] else field.selections)
        ]
        if not level:
            return False
    return True

"""Validation once per document text.

Validating a document against the schema was about a quarter of the server's CPU for a
small query like `me`; clients send the same few documents over and over. Whether a
document is valid depends only on its text and on the schema's rules, which are fixed
per schema (limits come from settings), so a text that passed once passes again.

Strawberry's own ValidationCache keys its cache on the rule classes as well, and the
depth and alias limiters build new rule classes for every request, so it would never
hit here. Only valid texts are remembered: an invalid one is validated (and its errors
built) afresh each time, so no error object is ever shared between two responses."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

DEFAULT_SIZE = 512


class ValidDocuments:
    """The most recently used document texts that passed validation, at most `size`."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._texts: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, text: object) -> bool:
        if not isinstance(text, str) or text not in self._texts:
            return False
        self._texts.move_to_end(text)
        return True

    def __len__(self) -> int:
        return len(self._texts)

    def add(self, text: str) -> None:
        self._texts[text] = None
        self._texts.move_to_end(text)
        while len(self._texts) > self.size:
            self._texts.popitem(last=False)


def validation_cache(known: ValidDocuments) -> type[SchemaExtension]:
    """An extension that skips validation for a text in `known` and adds valid ones."""

    class ValidationCache(SchemaExtension):
        def on_validate(self) -> Iterator[None]:
            context = self.execution_context
            text = context.query
            if context.pre_execution_errors is None and text in known:
                # Strawberry skips its validation when the errors are already known.
                context.pre_execution_errors = []
                yield
                return
            yield
            if text is not None and context.pre_execution_errors == []:
                known.add(text)

    return ValidationCache

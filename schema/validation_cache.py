"""Parse and validate each document text once.

Validating a document against the schema was about a quarter of the server's CPU for a
small query like `me`, and parsing it most of the rest of the pre-execution work; clients
send the same few documents over and over. Whether a document is valid depends only on
its text and on the schema's rules, which are fixed per schema (limits come from
settings), so a text that passed once passes again, and its parsed document (which
execution never changes) can serve every later request.

Strawberry's ValidationCache keys its cache on the rule classes as well, and the depth and
alias limiters build new rule classes for every request, so it would never hit here; its
ParserCache parses inside the parsing hook, where a syntax error would escape as an
exception instead of a GraphQL error. Only valid texts are remembered: an invalid one is
parsed and validated (and its errors built) afresh each time, so no error object is ever
shared between two responses."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence

from graphql import ASTValidationRule, DocumentNode
from strawberry.extensions import SchemaExtension

DEFAULT_SIZE = 512


class ValidDocuments:
    """The most recently used document texts that passed validation, with their parsed
    documents; at most `size`."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._documents: OrderedDict[str, DocumentNode] = OrderedDict()

    def __contains__(self, text: object) -> bool:
        return isinstance(text, str) and text in self._documents

    def __len__(self) -> int:
        return len(self._documents)

    def get(self, text: str | None) -> DocumentNode | None:
        if text is None or text not in self._documents:
            return None
        self._documents.move_to_end(text)
        return self._documents[text]

    def add(self, text: str, document: DocumentNode) -> None:
        self._documents[text] = document
        self._documents.move_to_end(text)
        while len(self._documents) > self.size:
            self._documents.popitem(last=False)


def validation_cache(
    known: ValidDocuments, *, rules: Sequence[type[ASTValidationRule]], max_tokens: int
) -> type[SchemaExtension]:
    """An extension that takes a text in `known` as parsed and valid, and adds valid ones.

    A text it does not know is parsed with the token limit and validated with `rules`
    (the document limits) as well as the spec's: one extension for both, so a known text
    costs no per-request hooks for limits it has already passed."""

    class ValidationCache(SchemaExtension):
        remembered = False

        def on_parse(self) -> Iterator[None]:
            context = self.execution_context
            document = known.get(context.query)
            if document is not None and context.graphql_document is None:
                # Strawberry does not parse a document that is already there.
                context.graphql_document = document
                self.remembered = True
            else:
                context.parse_options["max_tokens"] = max_tokens
            yield

        def on_validate(self) -> Iterator[None]:
            context = self.execution_context
            if self.remembered and context.pre_execution_errors is None:
                # Strawberry skips its validation when the errors are already known.
                context.pre_execution_errors = []
                yield
                return
            context.validation_rules = (*context.validation_rules, *rules)
            yield
            text, document = context.query, context.graphql_document
            if text is not None and document is not None and context.pre_execution_errors == []:
                known.add(text, document)

    return ValidationCache

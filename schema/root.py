"""Merges the domains' Query and Mutation types and wires the extensions."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from schema.accounts.email_mutations import EmailFlowMutations
from schema.accounts.mutations import AccountMutations
from schema.accounts.queries import AccountQueries
from schema.accounts.types import SessionType, UserType
from schema.audit.queries import AuditQueries
from schema.audit.subscriptions import AuditSubscriptions
from schema.audit.types import AuditLogType
from schema.errors import ErrorCodes
from schema.node import NodeQueries
from schema.profiles.mutations import ProfileMutations
from schema.profiles.types import UserProfileType
from schema.unit_of_work import CloseSession
from schema.users.mutations import UserMutations
from schema.users.queries import UserQueries

Query = merge_types("Query", (AccountQueries, UserQueries, AuditQueries, NodeQueries))
Mutation = merge_types(
    "Mutation", (AccountMutations, EmailFlowMutations, ProfileMutations, UserMutations)
)


class GlassShopSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Expected errors (bad input, failed logins) are not server faults; ErrorCodes
        # logs the unexpected ones with their request id.
        return


schema = GlassShopSchema(
    query=Query,
    mutation=Mutation,
    subscription=AuditSubscriptions,
    # Node implementations reached only through Query.node.
    types=[UserType, UserProfileType, AuditLogType, SessionType],
    extensions=[CloseSession, ErrorCodes],
)

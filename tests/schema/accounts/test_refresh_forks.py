"""refresh: a token presented twice within the grace window forks its chain (two tabs, or
a thief racing the user). Both branches stay in the session's family, and the first use
of one branch retires the other: whichever side comes back with its retired token after
the grace window is taken as reuse, and the whole family, both branches, is revoked.

A is the first refresh token; B1 and B2 the two made from it; C1 and C2 their successors."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.schema.accounts.test_refresh import assert_refused, audit_rows, rotated, sql
from tests.support.graphql import ME, GraphQLClient


async def let_a_minute_pass(engine: AsyncEngine) -> None:
    """Instead of sleeping past the grace window: every token issued and rotated a minute
    earlier than it was."""
    await sql(
        engine,
        "UPDATE refresh_tokens SET created_at = created_at - interval '1 minute', "
        "rotated_at = rotated_at - interval '1 minute'",
    )


async def fork(client: GraphQLClient, email: str) -> tuple[str, str, str]:
    """(A, B1, B2): A refreshed by the user, then replayed within the grace window."""
    account = await client.register(email)
    _, b1 = rotated(await client.refresh(account.refresh_token))
    _, b2 = rotated(await client.refresh(account.refresh_token))
    return account.refresh_token, b1, b2


async def assert_family_revoked(engine: AsyncEngine, client: GraphQLClient, *tokens: str) -> None:
    for token in tokens:
        assert_refused(await client.refresh(token))
    assert len(await audit_rows(engine, "TOKEN_REUSE_DETECTED")) == 1


async def test_the_users_next_refresh_after_a_thiefs_fork_revokes_the_family(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    _, user_b1, thief_b2 = await fork(client, "forked.user@example.com")
    thief_access, thief_c2 = rotated(await client.refresh(thief_b2))
    await let_a_minute_pass(engine)

    assert_refused(await client.refresh(user_b1))

    await assert_family_revoked(engine, client, thief_c2)
    assert (await client.execute(ME, token=thief_access)).error_codes == ["UNAUTHENTICATED"]


async def test_the_thiefs_fork_is_caught_once_the_user_has_moved_on(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    _, user_b1, thief_b2 = await fork(client, "moved.on@example.com")
    _, user_c1 = rotated(await client.refresh(user_b1))
    await let_a_minute_pass(engine)

    assert_refused(await client.refresh(thief_b2))

    await assert_family_revoked(engine, client, user_c1)


async def test_replaying_the_forked_token_after_the_grace_window_revokes_both_branches(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    a, b1, b2 = await fork(client, "replayed.a@example.com")
    _, c2 = rotated(await client.refresh(b2))
    await let_a_minute_pass(engine)

    assert_refused(await client.refresh(a))

    await assert_family_revoked(engine, client, b1, c2)


async def test_a_token_made_in_the_grace_window_is_caught_when_reused_like_any_other(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    _, b1, b2 = await fork(client, "grace.token@example.com")
    _, c2 = rotated(await client.refresh(b2))
    await let_a_minute_pass(engine)

    assert_refused(await client.refresh(b2))

    await assert_family_revoked(engine, client, b1, c2)


async def test_the_sibling_a_client_kept_still_refreshes_after_the_grace_window(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    # Two tabs refreshed A at once; their shared cookie kept the second answer.
    _, _, kept = await fork(client, "two.tabs@example.com")
    await let_a_minute_pass(engine)

    _, successor = rotated(await client.refresh(kept))

    rotated(await client.refresh(successor))
    assert await audit_rows(engine, "TOKEN_REUSE_DETECTED") == []

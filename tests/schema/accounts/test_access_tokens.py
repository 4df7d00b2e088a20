"""Access tokens: `me` trusts only an unexpired HS256 access token that the API itself
signed for this issuer and audience, naming a user who may still sign in."""

from __future__ import annotations

import base64
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.settings import Settings
from tests.support.graphql import ME, Account, GraphQLClient, Response
from tests.support.tokens import access_claims, claims_of, forge, unsigned, with_payload

INVALID_TOKEN_MESSAGE = "The access token is invalid or expired."
REQUIRED_CLAIMS = ["sub", "sid", "exp", "iat", "jti", "iss", "aud", "type"]


async def sql(engine: AsyncEngine, statement: str, **params: Any) -> None:
    async with engine.begin() as connection:
        await connection.execute(text(statement), params)


async def me_with(client: GraphQLClient, token: str) -> Response:
    return await client.execute(ME, token=token)


def assert_refused(result: Response) -> None:
    assert result.error_codes == ["UNAUTHENTICATED"]
    assert result.errors[0]["message"] == INVALID_TOKEN_MESSAGE
    assert result.data is None or result.data.get("me") is None


@pytest.fixture
async def account(client: GraphQLClient) -> Account:
    return await client.register("token.holder@example.com")


def ids_of(account: Account) -> tuple[str, str]:
    claims = claims_of(account.access_token)
    return str(claims["sub"]), str(claims["sid"])


async def test_me_is_null_without_a_token(client: GraphQLClient) -> None:
    result = await client.execute(ME)

    assert result.ok() == {"me": None}


async def test_a_valid_access_token_gives_its_user(client: GraphQLClient, account: Account) -> None:
    result = await me_with(client, account.access_token)

    assert result.ok() == {"me": {"id": account.id, "email": "token.holder@example.com"}}


async def test_issued_access_token_carries_the_documented_claims(
    account: Account, settings: Settings
) -> None:
    claims = claims_of(account.access_token)

    assert claims["type"] == "access"
    assert claims["iss"] == settings.jwt_issuer
    assert claims["aud"] == settings.jwt_audience
    assert claims["sub"] == str(uuid.UUID(claims["sub"]))
    assert claims["exp"] - claims["iat"] == settings.access_token_ttl_seconds
    assert {"sid", "jti"} <= claims.keys()


async def test_a_token_forged_with_the_right_key_and_claims_is_accepted(
    client: GraphQLClient, account: Account, settings: Settings
) -> None:
    # The control for every refusal below: only the one changed thing makes them fail.
    user_id, session_id = ids_of(account)

    result = await me_with(client, forge(settings, user_id, session_id))

    assert result.ok()["me"]["id"] == account.id


async def test_an_expired_token_is_unauthenticated(
    client: GraphQLClient, account: Account, settings: Settings
) -> None:
    user_id, session_id = ids_of(account)
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    token = forge(
        settings, user_id, session_id, iat=an_hour_ago, exp=an_hour_ago + timedelta(minutes=15)
    )

    assert_refused(await me_with(client, token))


async def test_a_token_that_expired_a_second_ago_is_unauthenticated(
    client: GraphQLClient, account: Account, settings: Settings
) -> None:
    user_id, session_id = ids_of(account)
    now = datetime.now(UTC).replace(microsecond=0)
    token = forge(
        settings,
        user_id,
        session_id,
        iat=now - timedelta(minutes=15),
        exp=now - timedelta(seconds=1),
    )

    assert_refused(await me_with(client, token))


async def test_a_token_issued_in_the_future_is_unauthenticated(
    client: GraphQLClient, account: Account, settings: Settings
) -> None:
    user_id, session_id = ids_of(account)
    later = datetime.now(UTC) + timedelta(hours=1)
    token = forge(settings, user_id, session_id, iat=later, exp=later + timedelta(minutes=15))

    assert_refused(await me_with(client, token))


async def test_a_token_with_a_tampered_signature_is_unauthenticated(
    client: GraphQLClient, account: Account
) -> None:
    header, payload, signature = account.access_token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[0] ^= 0x01
    forged_signature = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()

    assert_refused(await me_with(client, f"{header}.{payload}.{forged_signature}"))


async def test_a_token_whose_payload_was_rewritten_is_unauthenticated(
    client: GraphQLClient, account: Account
) -> None:
    other = await client.register("someone.else@example.com")

    # Claim to be the other user, keeping the original signature.
    token = with_payload(account.access_token, sub=other.id)

    assert_refused(await me_with(client, token))


async def test_a_token_signed_with_another_secret_is_unauthenticated(
    client: GraphQLClient, account: Account, settings: Settings
) -> None:
    user_id, session_id = ids_of(account)
    token = forge(settings, user_id, session_id, secret=secrets.token_urlsafe(48))

    assert_refused(await me_with(client, token))


async def test_an_alg_none_token_is_unauthenticated(
    client: GraphQLClient, account: Account, settings: Settings
) -> None:
    user_id, session_id = ids_of(account)

    assert_refused(await me_with(client, unsigned(access_claims(settings, user_id, session_id))))


async def test_a_token_signed_with_another_hmac_algorithm_is_unauthenticated(
    client: GraphQLClient, account: Account, settings: Settings
) -> None:
    user_id, session_id = ids_of(account)
    token = forge(settings, user_id, session_id, algorithm="HS512")

    assert_refused(await me_with(client, token))


async def test_a_token_for_another_audience_is_unauthenticated(
    client: GraphQLClient, account: Account, settings: Settings
) -> None:
    user_id, session_id = ids_of(account)
    token = forge(settings, user_id, session_id, aud="some-other-api")

    assert_refused(await me_with(client, token))


async def test_a_token_from_another_issuer_is_unauthenticated(
    client: GraphQLClient, account: Account, settings: Settings
) -> None:
    user_id, session_id = ids_of(account)
    token = forge(settings, user_id, session_id, iss="someone-else")

    assert_refused(await me_with(client, token))


@pytest.mark.parametrize("claim", REQUIRED_CLAIMS)
async def test_a_token_missing_a_required_claim_is_unauthenticated(
    client: GraphQLClient, account: Account, settings: Settings, claim: str
) -> None:
    user_id, session_id = ids_of(account)
    token = forge(settings, user_id, session_id, drop=[claim])

    assert_refused(await me_with(client, token))


async def test_a_token_of_type_refresh_is_unauthenticated(
    client: GraphQLClient, account: Account, settings: Settings
) -> None:
    user_id, session_id = ids_of(account)
    token = forge(settings, user_id, session_id, type="refresh")

    assert_refused(await me_with(client, token))


async def test_a_token_whose_subject_is_not_a_uuid_is_unauthenticated(
    client: GraphQLClient, account: Account, settings: Settings
) -> None:
    _, session_id = ids_of(account)
    token = forge(settings, "admin", session_id)

    assert_refused(await me_with(client, token))


async def test_a_well_signed_token_for_an_unknown_user_is_unauthenticated(
    client: GraphQLClient, account: Account, settings: Settings
) -> None:
    _, session_id = ids_of(account)
    token = forge(settings, str(uuid.uuid4()), session_id)

    assert_refused(await me_with(client, token))


async def test_the_opaque_refresh_token_is_not_an_access_token(
    client: GraphQLClient, account: Account
) -> None:
    assert_refused(await me_with(client, account.refresh_token))


@pytest.mark.parametrize(
    "authorization", ["Basic xyz", "Token {access}", "{access}", "Bearer", "Bearer    "]
)
async def test_an_authorization_header_without_a_bearer_token_is_unauthenticated(
    client: GraphQLClient, account: Account, authorization: str
) -> None:
    header = authorization.format(access=account.access_token)

    result = await client.execute(ME, headers={"authorization": header})

    assert_refused(result)


async def test_the_bearer_scheme_is_case_insensitive(
    client: GraphQLClient, account: Account
) -> None:
    result = await client.execute(ME, headers={"authorization": f"bearer {account.access_token}"})

    assert result.ok()["me"]["id"] == account.id


async def test_a_token_of_a_since_deactivated_user_is_unauthenticated(
    client: GraphQLClient, account: Account, engine: AsyncEngine
) -> None:
    await sql(engine, "UPDATE users SET is_active = false WHERE id = :id", id=uuid.UUID(account.id))

    assert_refused(await me_with(client, account.access_token))


async def test_a_token_of_a_since_deleted_user_is_unauthenticated(
    client: GraphQLClient, account: Account, engine: AsyncEngine
) -> None:
    await sql(
        engine, "UPDATE users SET deleted_at = now() WHERE id = :id", id=uuid.UUID(account.id)
    )

    assert_refused(await me_with(client, account.access_token))


async def test_the_refusal_never_echoes_the_token_or_a_stack_trace(
    client: GraphQLClient, account: Account, settings: Settings
) -> None:
    user_id, session_id = ids_of(account)
    bad_tokens = [
        with_payload(account.access_token, sub=str(uuid.uuid4())),
        forge(settings, user_id, session_id, secret=secrets.token_urlsafe(48)),
        forge(settings, user_id, session_id, drop=["jti"]),
        forge(settings, "not-a-uuid", session_id),
        "not.a.jwt",
        "garbage-" + secrets.token_hex(16),
    ]

    for token in bad_tokens:
        result = await me_with(client, token)
        body = result.http.text

        assert_refused(result)
        assert result.errors[0].get("extensions") == {"code": "UNAUTHENTICATED"}
        assert token not in body
        assert token.split(".")[0] not in body
        for leak in ("Traceback", "jwt", "Signature", 'File "'):
            assert leak not in body

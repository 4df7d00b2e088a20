"""One mailbox, one account: look-alike spellings of an address (NFC or NFD, an IDN
domain or its punycode, letter case) are normalised to one stored form before the
uniqueness check and every lookup, and a local part mixing scripts is refused."""

from __future__ import annotations

import pytest

from schema.accounts.validation import normalize_email
from tests.support.graphql import REGISTER, GraphQLClient, Response

NFC_EMAIL = "am\u00e9lie@example.com"  # é as one code point
NFD_EMAIL = "ame\u0301lie@example.com"  # e, then a combining acute accent
IDN_EMAIL = "anna@b\u00fccher.example"
PUNYCODE_EMAIL = "anna@xn--bcher-kva.example"


async def register(client: GraphQLClient, email: str) -> Response:
    return await client.execute(
        REGISTER, {"input": {"email": email, "password": "another fine password"}}
    )


async def test_registering_the_nfd_spelling_of_a_taken_nfc_email_is_a_conflict(
    client: GraphQLClient,
) -> None:
    await client.register(NFC_EMAIL)

    result = await register(client, NFD_EMAIL)

    assert result.error_codes == ["CONFLICT"]
    assert result.errors[0]["message"] == "An account with this email already exists."


@pytest.mark.parametrize(
    ("first", "second"), [(IDN_EMAIL, PUNYCODE_EMAIL), (PUNYCODE_EMAIL, IDN_EMAIL)]
)
async def test_registering_the_other_idna_spelling_of_a_taken_domain_is_a_conflict(
    client: GraphQLClient, first: str, second: str
) -> None:
    await client.register(first)

    result = await register(client, second)

    assert result.error_codes == ["CONFLICT"]


async def test_an_idn_domain_is_stored_in_its_ascii_form(client: GraphQLClient) -> None:
    account = await client.register("Anna@B\u00dcCHER.example")

    assert account.email == PUNYCODE_EMAIL


@pytest.mark.parametrize(
    "email",
    [
        "p\u0430ypal@example.com",  # Cyrillic a (U+0430) among Latin letters
        "\u03bflivia@example.com",  # Greek omicron, then Latin
        "\uff41dmin@example.com",  # fullwidth a, then plain Latin
    ],
)
async def test_a_local_part_mixing_scripts_is_refused_on_the_email_field(
    client: GraphQLClient, email: str
) -> None:
    result = await register(client, email)

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert list(result.errors[0]["extensions"]["fields"]) == ["email"]


@pytest.mark.parametrize(
    "email",
    [
        "\u03b4\u03bf\u03ba\u03b9\u03bc\u03ae@example.com",  # Greek only
        "\u0438\u0432\u0430\u043d@example.com",  # Cyrillic only
        "\u5c71\u7530\u305f\u308d\u3046@example.com",  # Han with Hiragana (Japanese)
    ],
)
async def test_a_local_part_in_one_writing_system_registers(
    client: GraphQLClient, email: str
) -> None:
    account = await client.register(email)

    assert account.email == email


async def test_login_with_the_nfd_spelling_of_an_nfc_registered_email_works(
    client: GraphQLClient,
) -> None:
    registered = await client.register(NFC_EMAIL)

    account = await client.login(NFD_EMAIL)

    assert account.id == registered.id


async def test_login_with_the_punycode_spelling_of_an_idn_registered_email_works(
    client: GraphQLClient,
) -> None:
    registered = await client.register(IDN_EMAIL)

    account = await client.login(PUNYCODE_EMAIL)

    assert account.id == registered.id


@pytest.mark.parametrize(
    "email",
    [
        " New.User+tag@Example.COM ",
        "x@XN--BCHER-KVA.de",
        "user00001@glassshop.test",
        "not-an-email",
        "a@localhost",
    ],
)
def test_an_ascii_address_keeps_the_form_stored_before_normalisation(email: str) -> None:
    # Rows written before NFC and IDNA were applied were only stripped and lower-cased.
    assert normalize_email(email) == email.strip().lower()

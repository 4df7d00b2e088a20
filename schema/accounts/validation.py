"""Input rules for accounts, as {field: [messages]} for BAD_USER_INPUT."""

from __future__ import annotations

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

from api.infra.passwords import password_problems
from api.settings import Settings

USERNAME_RE = re.compile(r"[A-Za-z0-9_.-]{3,150}")
NAME_MAX = 150

FieldErrors = dict[str, list[str]]


# Scripts that one local part may combine (Unicode TS 39's "highly restrictive" sets):
# Japanese, Chinese and Korean are written with several, each also next to Latin.
# Anything else that mixes scripts (Latin with Cyrillic or Greek) is a look-alike.
_COMBINABLE_SCRIPTS = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
# Letters whose Unicode name does not start with their script's own name.
_SCRIPT_OF_NAME_PREFIX = {"CJK": "HAN", "IDEOGRAPHIC": "HAN", "KATAKANA-HIRAGANA": "KATAKANA"}


def normalize_email(raw: str) -> str:
    """The one spelling of an address that is stored and looked up, so that look-alike
    spellings of one mailbox (NFC or NFD, an IDN domain or its punycode, letter case)
    are one account. Never raises: login and reset requests take any text.

    The local part is NFC and the domain its IDNA ASCII form, all lower-cased (GlassShop
    treats mailboxes as case-insensitive). An ASCII address therefore keeps exactly the
    form stored before this normalisation existed: strip, then lower."""
    text = unicodedata.normalize("NFC", raw.strip())
    try:
        # Only to parse and normalise; email_problems decides what may register.
        parsed = validate_email(
            text, check_deliverability=False, test_environment=True, globally_deliverable=False
        )
    except EmailNotValidError:
        return _fold_case(text)
    return _fold_case(f"{parsed.local_part}@{parsed.ascii_domain}")


def _fold_case(text: str) -> str:
    # Lower-casing can undo composition in rare cases; NFC again keeps one form.
    return unicodedata.normalize("NFC", text.lower())


def _script(letter: str) -> str:
    """The script of a letter, read from its Unicode name ("CYRILLIC SMALL LETTER A"):
    the standard library has no script property. Compatibility forms ("FULLWIDTH ...")
    count as scripts of their own, so mixing them with plain letters is refused too."""
    prefix = unicodedata.name(letter, "UNKNOWN").split(" ", 1)[0]
    return _SCRIPT_OF_NAME_PREFIX.get(prefix, prefix)


def mixes_scripts(text: str) -> bool:
    """Whether the letters of `text` come from scripts that are not written together."""
    scripts = {_script(ch) for ch in text if ch.isalpha()}
    return len(scripts) > 1 and not any(scripts <= allowed for allowed in _COMBINABLE_SCRIPTS)


def email_problems(email: str, settings: Settings) -> list[str]:
    if len(email) > 254:
        return ["Use at most 254 characters."]
    try:
        # Outside production, the reserved `.test` domain is allowed for seeded and
        # benchmark accounts (user00001@glassshop.test).
        parsed = validate_email(
            email, check_deliverability=False, test_environment=not settings.is_production
        )
    except EmailNotValidError:
        return ["Enter a valid email address."]
    if mixes_scripts(parsed.local_part):
        return ["Use letters of one script before the @ (not, say, Latin mixed with Cyrillic)."]
    return []


def username_problems(username: str) -> list[str]:
    if not USERNAME_RE.fullmatch(username):
        return ["Use 3 to 150 letters, digits, dots, dashes or underscores."]
    return []


def name_problems(name: str) -> list[str]:
    if len(name) > NAME_MAX:
        return [f"Use at most {NAME_MAX} characters."]
    if any(ord(ch) < 32 for ch in name):
        return ["Remove control characters."]
    return []


def new_password_problems(password: str, settings: Settings) -> list[str]:
    return password_problems(
        password, min_length=settings.password_min_length, max_length=settings.password_max_length
    )


def add(errors: FieldErrors, field: str, problems: list[str]) -> None:
    if problems:
        errors.setdefault(field, []).extend(problems)

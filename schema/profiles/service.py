"""Profile edits: validated, diffed into the audit log, committed by the caller."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from api.errors import BadUserInput, NotFound, UsernameTaken
from api.infra.cache import RecordCache, forget_user_after_commit
from api.unit_of_work import UnitOfWork
from db.models import User, UserProfile
from schema.accounts import validation as v
from schema.accounts.service import username_exists
from schema.audit.service import AuditAction, diff, record

PHONE_RE = re.compile(r"\+?[0-9 ()./-]{5,31}")  # at most 32 characters, the column's size
JSON_MAX_BYTES = 16 * 1024
ADDRESS_MAX = 1024
AVATAR_MAX = 2048


@dataclass(slots=True)
class ProfileChanges:
    """Only the fields a client sent; a None value clears the field."""

    user: dict[str, Any] = field(default_factory=dict)
    profile: dict[str, Any] = field(default_factory=dict)


def _json_object_problems(value: Any) -> list[str]:
    if not isinstance(value, dict):
        return ["Must be a JSON object."]
    encoded = json.dumps(value)
    if "\\u0000" in encoded:
        return ["Remove the NUL characters (\\u0000)."]
    if len(encoded) > JSON_MAX_BYTES:
        return [f"Must be at most {JSON_MAX_BYTES // 1024} KiB as JSON."]
    return []


def _avatar_problems(value: str) -> list[str]:
    parts = urlsplit(value)
    if len(value) > AVATAR_MAX or parts.scheme not in ("http", "https") or not parts.netloc:
        return ["Use an http(s) URL of at most 2048 characters."]
    return []


def validate(changes: ProfileChanges) -> v.FieldErrors:
    errors: v.FieldErrors = {}
    for name in ("first_name", "last_name"):
        if name in changes.user and changes.user[name] is not None:
            v.add(errors, _camel(name), v.name_problems(changes.user[name]))
    if "username" in changes.user:
        username = changes.user["username"]
        v.add(errors, "username", v.username_problems(username or ""))
    p = changes.profile
    if p.get("avatar"):
        v.add(errors, "avatar", _avatar_problems(p["avatar"]))
    if p.get("phone") and not PHONE_RE.fullmatch(p["phone"]):
        v.add(errors, "phone", ["Enter a phone number (digits, spaces, +, -, parentheses)."])
    if p.get("address") and len(p["address"]) > ADDRESS_MAX:
        v.add(errors, "address", [f"Use at most {ADDRESS_MAX} characters."])
    for name in ("preferences", "extra_metadata"):
        if name in p and p[name] is not None:
            v.add(
                errors,
                "metadata" if name == "extra_metadata" else name,
                _json_object_problems(p[name]),
            )
    return errors


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


async def update_profile(
    uow: UnitOfWork, cache: RecordCache, user_id: uuid.UUID, changes: ProfileChanges
) -> tuple[User, UserProfile]:
    errors = validate(changes)
    if errors:
        raise BadUserInput(errors)
    db = uow.db
    user = await db.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound()
    profile = (
        await db.exec(
            select(UserProfile).where(col(UserProfile.user_id) == user.id).with_for_update()
        )
    ).first()
    if profile is None:
        raise NotFound("This user has no profile.")
    username = changes.user.get("username")
    if (
        username
        and username.lower() != user.username.lower()
        and await username_exists(uow, username, other_than=user.id)
    ):
        raise UsernameTaken()

    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, value in changes.user.items():
        new = (value or "").strip() if name in ("first_name", "last_name") else value
        before[_camel(name)], after[_camel(name)] = getattr(user, name), new
        setattr(user, name, new)
    for name, value in changes.profile.items():
        if name in ("preferences", "extra_metadata"):
            new = {} if value is None else value
        else:
            new = value.strip() or None if isinstance(value, str) else value  # "" clears
        key = "metadata" if name == "extra_metadata" else name
        before[key], after[key] = getattr(profile, name), new
        setattr(profile, name, new)
    changed = diff(before, after)
    if changed:
        db.add(user)
        db.add(profile)
        try:
            await db.flush()
        except IntegrityError:
            raise UsernameTaken() from None
        record(
            uow,
            AuditAction.PROFILE_UPDATE,
            user_id=user.id,
            model_name="UserProfile",
            object_id=profile.id,
            changes=changed,
        )
    forget_user_after_commit(uow, cache, user.id)
    return user, profile

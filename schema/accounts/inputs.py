"""Inputs of the account mutations (the contract's names)."""

from __future__ import annotations

import strawberry


@strawberry.input
class RegisterInput:
    email: str
    password: str
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None


@strawberry.input
class LoginInput:
    email: str
    password: str


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str

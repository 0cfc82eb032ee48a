"""Secrets given inline, from an environment variable, or from a file.

A command that does not use secrets validates with `read_secrets: False` in
the validation context: `{ env = … }` and `{ file = … }` are then checked for
their form only and become DeferredSecret, so that such a command never asks
for a password it would not send anywhere.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, SecretStr, ValidationInfo

# The validation-context key that says whether `env`/`file` secrets are read.
READ_SECRETS = "read_secrets"

_SHAPE = 'expected a string, { env = "NAME" } or { file = "/path" }'


class SecretNotRead(RuntimeError):
    """A command used a secret it had said it would not need."""


class DeferredSecret(SecretStr):
    """A secret from the environment or a file that this command did not read."""

    def __init__(self, source: str) -> None:
        super().__init__("")
        self.source = source

    def get_secret_value(self) -> str:
        raise SecretNotRead(f"the secret from {self.source} was not read")

    def __repr__(self) -> str:
        return f"DeferredSecret({self.source!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DeferredSecret) and other.source == self.source

    def __hash__(self) -> int:
        return hash(self.source)


def unread_secrets(*roots: object) -> list[DeferredSecret]:
    """The DeferredSecrets anywhere in validated models, dicts, lists and tuples."""
    found: list[DeferredSecret] = []
    stack = list(roots)
    while stack:
        item = stack.pop()
        if isinstance(item, DeferredSecret):
            found.append(item)
        elif isinstance(item, BaseModel):
            stack.extend(getattr(item, name) for name in type(item).model_fields)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return found


def reads_secrets(info: ValidationInfo | None) -> bool:
    """Whether this validation reads `env`/`file` secrets (yes, unless the context says not)."""
    context = info.context if info is not None else None
    return not isinstance(context, dict) or bool(context.get(READ_SECRETS, True))


def resolve_secret(value: Any, info: ValidationInfo | None = None) -> SecretStr:
    if isinstance(value, SecretStr):
        return value
    if isinstance(value, str):
        return SecretStr(value)
    if isinstance(value, dict):
        if set(value) == {"env"} and isinstance(value["env"], str):
            name = value["env"]
            if not reads_secrets(info):
                return DeferredSecret(f"environment variable {name!r}")
            if name not in os.environ:
                raise ValueError(f"environment variable {name!r} is not set")
            return SecretStr(os.environ[name])
        if set(value) == {"file"} and isinstance(value["file"], str):
            path = Path(value["file"])
            if not reads_secrets(info):
                return DeferredSecret(f"file {str(path)!r}")
            try:
                return SecretStr(path.read_text(encoding="utf-8").strip())
            except OSError as exc:
                raise ValueError(f"cannot read secret file {str(path)!r}: {exc.strerror}") from exc
    raise ValueError(_SHAPE)


def _validate_secret(value: Any, info: ValidationInfo) -> SecretStr:
    return resolve_secret(value, info)


Secret = Annotated[SecretStr, BeforeValidator(_validate_secret)]

"""Secrets given inline, from an environment variable, or from a file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, SecretStr


def resolve_secret(value: Any) -> SecretStr:
    if isinstance(value, SecretStr):
        return value
    if isinstance(value, str):
        return SecretStr(value)
    if isinstance(value, dict):
        if set(value) == {"env"} and isinstance(value["env"], str):
            name = value["env"]
            if name not in os.environ:
                raise ValueError(f"environment variable {name!r} is not set")
            return SecretStr(os.environ[name])
        if set(value) == {"file"} and isinstance(value["file"], str):
            path = Path(value["file"])
            try:
                return SecretStr(path.read_text(encoding="utf-8").strip())
            except OSError as exc:
                raise ValueError(f"cannot read secret file {str(path)!r}: {exc.strerror}") from exc
    raise ValueError('expected a string, { env = "NAME" } or { file = "/path" }')


Secret = Annotated[SecretStr, BeforeValidator(resolve_secret)]

"""What a piece of Python source imports, read from its syntax tree."""

from __future__ import annotations

import ast


def imported_names(tree: ast.Module) -> set[tuple[str, str]]:
    """(module, name) per import: `from m import n` is (m, n), `import m` is (m, "")."""
    found: set[tuple[str, str]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found.update((node.module or "", alias.name) for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update((alias.name, "") for alias in node.names)
    return found

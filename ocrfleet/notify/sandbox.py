"""A Jinja2 sandbox that also bounds how much work a template may do.

Jinja2's sandbox stops a template from reaching Python's internals, but not
from looping for ever (`{% for a in range(99999) %}{% for b in range(99999) %}`)
or building a gigabyte string (`"x" * 10**9`). An operator's template runs
inside the alert evaluation (and `check-config`), so either would stall
alerting: a render gets a budget of template steps, and `*` and `**` refuse
results that large.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from types import FrameType
from typing import Any

from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

# Template lines executed per render: the shipped templates take a few
# thousand for a notification of 100 alerts.
MAX_STEPS = 2_000_000
# The largest string or sequence `*` may make, and the largest exponent.
MAX_PRODUCT = 1_000_000
MAX_EXPONENT = 64


class TemplateTooCostly(SecurityError):
    """A template that would run too long or build too large a value."""


class BoundedSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
            raise TemplateTooCostly(f"exponent {right} is above {MAX_EXPONENT}")
        if operator == "*":
            for sized, times in ((left, right), (right, left)):
                if (
                    isinstance(sized, str | bytes | list | tuple)
                    and isinstance(times, int)
                    and len(sized) * times > MAX_PRODUCT
                ):
                    raise TemplateTooCostly(f"would make a value of {len(sized) * times}")
        return super().call_binop(context, operator, left, right)

    @contextlib.contextmanager
    def budget(self, steps: int = MAX_STEPS) -> Iterator[None]:
        """Within it, this environment's templates may execute `steps` lines in all."""
        left = steps

        def in_template(frame: FrameType, event: str, arg: Any) -> Any:
            nonlocal left
            if event == "line":
                left -= 1
                if left < 0:
                    raise TemplateTooCostly(f"runs more than {steps} template steps")
            return in_template

        def on_call(frame: FrameType, event: str, arg: Any) -> Any:
            # Compiled templates run with their environment as a global.
            return in_template if frame.f_globals.get("environment") is self else None

        previous = sys.gettrace()
        sys.settrace(on_call)
        try:
            yield
        finally:
            sys.settrace(previous)

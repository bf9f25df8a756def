"""One exception hierarchy for the whole tool.

Every error says where (file and line when known), which field, which value, and what to do.
The CLI maps ``DataError`` to exit code 1 and ``UsageError`` to exit code 2.
"""

from __future__ import annotations

from pathlib import Path


class BassinKgError(Exception):
    """Base class of every error this package raises on purpose."""

    exit_code = 1


class UsageError(BassinKgError):
    """The command was called wrongly (bad flag, missing setting): exit code 2."""

    exit_code = 2


class DataError(BassinKgError):
    """Input data is wrong: names the file, line, field and value, and says what to do."""

    exit_code = 1

    def __init__(
        self,
        problem: str,
        *,
        file: Path | str | None = None,
        line: int | None = None,
        field: str | None = None,
        value: object = None,
        hint: str | None = None,
    ) -> None:
        self.problem = problem
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        self.value = value
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        where = self.file or ""
        if self.file and self.line is not None:
            where = f"{self.file}:{self.line}"
        parts = [f"{where}: {self.problem}" if where else self.problem]
        if self.field is not None:
            parts.append(f"field {self.field!r}")
        if self.value is not None:
            parts.append(f"value {self.value!r}")
        text = "; ".join(parts)
        if self.hint:
            text += f". {self.hint}"
        return text


class ValidationFailed(BassinKgError):  # noqa: N818 -- reads as a state in `except ValidationFailed`
    """SHACL validation found violations: the build is not published."""

    exit_code = 1


class StoreError(BassinKgError):
    """The store is missing, corrupt or locked."""

    exit_code = 1

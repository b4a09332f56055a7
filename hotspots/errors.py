"""User-facing errors: each carries one line that names the problem and the fix.

The CLI prints ``str(error)`` and exits 2; the app shows it next to the control that caused it.
"""

from __future__ import annotations

__all__ = ["InputError", "InputFileError", "ParameterError"]


class InputError(ValueError):
    """Bad input from the user: a file, a column, an argument. ``str()`` is one line."""

    def __init__(self, message: str) -> None:
        one_line = " ".join(str(message).split())
        super().__init__(one_line)


class InputFileError(InputError):
    """A file that cannot be read or holds no usable data. The message names the file."""


class ParameterError(InputError):
    """An argument out of range or of the wrong kind. The message names the argument.

    Parameters
    ----------
    message
        One line naming the argument, what is wrong and the fix.
    argument
        The library parameter at fault (e.g. ``"eps"``, ``"min_samples"``), when one is: an
        application maps it to its own control (the CLI to its flag) without reading the text.

    Examples
    --------
    >>> err = ParameterError("eps must be > 0; got -1.", argument="eps")
    >>> err.argument, str(err)
    ('eps', 'eps must be > 0; got -1.')
    >>> ParameterError("bad months.").argument is None
    True
    """

    argument: str | None

    def __init__(self, message: str, *, argument: str | None = None) -> None:
        super().__init__(message)
        self.argument = argument

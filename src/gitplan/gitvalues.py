"""How git reads the values of its settings: numbers and booleans, as C's and git's own
parsers read them (config files, `git -c`, environment variables).

Imports only the standard library and the error types: the agent hooks' path, which loads
no libgit2, reads core.sharedRepository with it (permissions.py).
"""

from __future__ import annotations

import re

from .errors import BadInput

# What C's strtoimax reads in base 0 (leading blanks, a sign, 0x hex, 0 octal, decimal),
# then git's unit (k, m or g), and nothing after.
_C_NUMBER = re.compile(r"[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)([kKmMgG]?)")


def c_number(text: str) -> int | None:
    """A number as git parses one (git_parse_signed): None when git would refuse it."""
    found = _C_NUMBER.fullmatch(text)
    if found is None:
        return None
    sign, digits, unit = found.groups()
    base = 16 if digits[:2].lower() == "0x" else 8 if digits.startswith("0") else 10
    value = int(digits, base) * {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[unit.lower()]
    return -value if sign == "-" else value


def git_bool(value: str | None, key: str, kind: str = "config value") -> bool:
    """A boolean as git reads it (git_config_bool; git_env_bool for `kind` "value"):
    true, yes, on, a number other than 0; false, no, off, 0, empty; a config key alone
    is true. Anything else is refused, naming `key`, as git refuses it."""
    if value is None:
        return True
    word = value.lower()  # (git trims nothing here)
    if word in ("true", "yes", "on"):
        return True
    if word in ("false", "no", "off", ""):
        return False
    number = c_number(value)
    if number is not None and -(1 << 31) < number < 1 << 31:  # git reads an int, and refuses INT_MIN
        return number != 0
    fix = f": fix it with git config {key}" if kind == "config value" else ""
    raise BadInput(
        f"bad boolean {kind} {value!r} for {key!r}; git reads true, false, yes, no, on, off or a number{fix}"
    )

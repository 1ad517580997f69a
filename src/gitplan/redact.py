"""Secrets out of invocation records, before anything is written.

An invocation record is pushed, fetched and read by anyone with the
repository, so what looks like a credential never reaches it:

* argument values whose key looks like a secret (token, password, api_key,
  authorization, cookie...), at any depth;
* the values of environment variables whose name looks like a secret, or
  matches a configured pattern, wherever they appear (argv, output tails);
* text matching a configured pattern (`git config --add plan.redact REGEX`);
* well-known token shapes (GitHub, OpenAI/Anthropic-style `sk-`, AWS access
  keys, Slack, GitLab, Google API keys, private key blocks, bearer headers).

The record lists which of its fields were changed in `redacted`. This module
is pure: no repository, no pygit2, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from .errors import BadInput
from .model import ToolInvocation

MASK = "[REDACTED]"

_SECRET_KEY = re.compile(
    r"(token|passw(or)?d|passphrase|secret|api[_-]?key|access[_-]?key|private[_-]?key|"
    r"(^|[_-])key$|^key|authori[sz]ation|cookie|credential|session[_-]?id|signature|bearer)",
    re.IGNORECASE,
)
_TOKEN_SHAPES = re.compile(
    "|".join(
        [
            r"\bgh[pousr]_[A-Za-z0-9]{30,}",  # GitHub tokens
            r"\bgithub_pat_[A-Za-z0-9_]{30,}",
            r"\bsk-[A-Za-z0-9_-]{20,}",  # OpenAI, Anthropic (sk-ant-...)
            r"\b(AKIA|ASIA)[0-9A-Z]{16}\b",  # AWS access key ids
            r"\bxox[abposr]-[A-Za-z0-9-]{10,}",  # Slack
            r"\bglpat-[A-Za-z0-9_-]{20,}",  # GitLab
            r"\bAIza[0-9A-Za-z_-]{35}",  # Google API keys
            r"\b[Bb]earer\s+[A-Za-z0-9._~+/-]{16,}=*",
            r"\b[Bb]asic\s+[A-Za-z0-9+/]{8,}=*",  # HTTP basic credentials
            r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)",  # user:password@ in a URL
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|\Z)",
        ]
    )
)
_MIN_SECRET_VALUE = 6  # shorter environment values ("1", "yes") would mask ordinary text


def secret_key(name: str) -> bool:
    """Whether an argument key or environment variable name looks like it holds a secret."""
    return bool(_SECRET_KEY.search(name))


def compile_patterns(patterns: Iterable[str]) -> list[re.Pattern[str]]:
    """The configured `plan.redact` regular expressions; BadInput names a broken one."""
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as error:
            raise BadInput(f"plan.redact pattern {pattern!r} is not a regular expression: {error}") from None
    return compiled


class Redactor:
    """Masks secrets in text and arguments; remembers nothing between invocations."""

    def __init__(self, patterns: Iterable[str] = (), environment: Mapping[str, str] | None = None) -> None:
        self._patterns = compile_patterns(patterns)
        values = set()
        for name, value in (environment or {}).items():
            named_secret = secret_key(name) or any(p.search(name) for p in self._patterns)
            if named_secret and len(value) >= _MIN_SECRET_VALUE:
                values.add(value)
        # Longest first, so a value containing another is masked whole.
        self._values = sorted(values, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self._values:
            value = value.replace(secret, MASK)
        value = _TOKEN_SHAPES.sub(MASK, value)
        for pattern in self._patterns:
            value = pattern.sub(MASK, value)
        return value

    def value(self, value: Any, key: str = "") -> Any:
        if key and secret_key(key) and value not in (None, "", MASK):
            return MASK
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(v, str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(item) for item in value]
        return value

    def invocation(self, invocation: ToolInvocation) -> ToolInvocation:
        """The invocation with secrets masked; `redacted` names each field that changed."""
        changed: dict[str, Any] = {}
        names = set(invocation.redacted or ())
        for name in ("summary", "error", "stdout_tail", "stderr_tail", "cwd"):
            value = getattr(invocation, name)
            if isinstance(value, str) and self.text(value) != value:
                changed[name] = self.text(value)
                names.add(name)
        arguments = {key: self.value(value, str(key)) for key, value in invocation.arguments.items()}
        if arguments != invocation.arguments:
            changed["arguments"] = arguments
            names.update(f"arguments.{k}" for k in arguments if arguments[k] != invocation.arguments[k])
        if invocation.argv is not None:
            argv = _mask_flag_values([self.text(arg) for arg in invocation.argv])
            if argv != list(invocation.argv):
                changed["argv"] = argv
                names.add("argv")
        if not changed:
            return invocation
        return replace(invocation, **changed, redacted=sorted(names))


def _mask_flag_values(argv: list[str]) -> list[str]:
    """`--token X`, `--password=X`: the value of a flag whose name looks secret."""
    masked = list(argv)
    for position, arg in enumerate(argv):
        if not arg.startswith("-"):
            continue
        name, sep, value = arg.lstrip("-").partition("=")
        if not secret_key(name):
            continue
        if sep and value:
            masked[position] = f"{arg[: len(arg) - len(value)]}{MASK}"
        elif not sep and position + 1 < len(argv) and not argv[position + 1].startswith("-"):
            masked[position + 1] = MASK
    return masked

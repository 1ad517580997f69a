"""The time gitplan stamps on its commits and records, honouring git's date variables.

git takes `GIT_AUTHOR_DATE` and `GIT_COMMITTER_DATE` for the commits it makes;
gitplan does the same, so the same inputs give the same object ids and tests
can assert them. Accepted forms are git's common ones: `@<epoch> [+zone]`,
`<epoch> <+zone>`, ISO 8601 (`2026-01-01T00:00:00Z`, `2026-01-01 00:00:00
+0100`) and RFC 2822. This module never imports pygit2 and never writes.
"""

from __future__ import annotations

import os
import re
import time
from datetime import UTC, datetime, timedelta, timezone

from .errors import BadInput

# (seconds since the epoch, offset from UTC in minutes)
Stamp = tuple[int, int]

_ZONE = re.compile(r"^([+-])(\d{2}):?(\d{2})$")
_RAW = re.compile(r"^@?(\d+)(?:\s+([+-]\d{2}:?\d{2}))?$")


def _zone_minutes(text: str) -> int:
    """Minutes east of UTC in `+hhmm` or `+hh:mm` (callers matched that shape already)."""
    match = _ZONE.match(text)
    assert match is not None, text
    minutes = int(match.group(2)) * 60 + int(match.group(3))
    return -minutes if match.group(1) == "-" else minutes


def _rfc2822(value: str) -> datetime:
    from email.utils import parsedate_to_datetime  # only when a date variable is set: 5 ms to import

    return parsedate_to_datetime(value)


def parse_git_date(text: str) -> Stamp:
    """A date as git's date variables accept it; BadInput when it is none of the forms."""
    value = text.strip()
    raw = _RAW.match(value)
    if raw:
        return int(raw.group(1)), _zone_minutes(raw.group(2)) if raw.group(2) else 0
    for parse in (_iso, _iso_spaced_zone, _rfc2822):
        try:
            moment = parse(value)
        except (ValueError, TypeError, IndexError):
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        offset = moment.utcoffset()
        minutes = int(offset.total_seconds() // 60) if offset is not None else 0
        return int(moment.timestamp()), minutes
    raise BadInput(f"cannot read the date {text!r} (use ISO 8601, RFC 2822 or '@<epoch> +zone')")


def _iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _iso_spaced_zone(value: str) -> datetime:
    """`2026-03-04 05:06:07 +0100`: ISO 8601 with git's zone after a space."""
    spaced = re.match(r"^(.*\d)\s+([+-]\d{2}:?\d{2})$", value)
    if not spaced:
        raise ValueError(value)
    zone = timezone(timedelta(minutes=_zone_minutes(spaced.group(2))))
    return datetime.fromisoformat(spaced.group(1)).replace(tzinfo=zone)


def now(variable: str) -> Stamp:
    """The current time, or what `variable` (GIT_AUTHOR_DATE, GIT_COMMITTER_DATE) says."""
    fixed = os.environ.get(variable)
    if fixed:
        return parse_git_date(fixed)
    return int(time.time()), 0


def iso(stamp: Stamp) -> str:
    """A stamp as ISO 8601 UTC with a `Z`, as records store times."""
    moment = datetime.fromtimestamp(stamp[0], UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

"""Rename detection that pairs files the way `git diff` does (diffcore-rename).

libgit2's find_similar() pairs candidates differently from git in real
histories, so gitplan follows git's own steps: exact matches first (same blob,
preferring the same basename), then unique basenames at a higher bar, then the
best-scored pairs above the threshold, with git's similarity estimate (byte
spans of up to 64 bytes ending at newlines, hashed and counted).
Pure computation over blob bytes handed in; it never reads the repository.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from . import faults
from .trees import Entry

MAX_SCORE = 60000
DEFAULT_MIN_SCORE = 30000  # -M50%
RENAME_LIMIT = 1000
CANDIDATES_PER_DST = 4
_HASHBASE = 107927
_MASK = 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class Pair:
    """A file-level change after rename detection; score is set for renames."""

    old_path: str | None
    new_path: str | None
    old_id: str | None
    old_mode: int | None
    new_id: str | None
    new_mode: int | None
    score: int = 0

    @property
    def is_rename(self) -> bool:
        return self.old_path is not None and self.new_path is not None and self.old_path != self.new_path

    @property
    def path(self) -> str:
        return self.new_path if self.new_path is not None else str(self.old_path)


def is_binary(data: bytes) -> bool:
    """git's test: a NUL byte in the first 8000 bytes."""
    return b"\0" in data[:8000]


def _spans(data: bytes) -> Counter[int]:
    text = not is_binary(data)
    counts: Counter[int] = Counter()
    accum1 = accum2 = 0
    n = 0
    size = len(data)
    i = 0
    while i < size:
        c = data[i]
        i += 1
        if text and c == 13 and i < size and data[i] == 10:
            continue
        old1 = accum1
        accum1 = ((accum1 << 7) ^ (accum2 >> 25)) & _MASK
        accum2 = ((accum2 << 7) ^ (old1 >> 25)) & _MASK
        accum1 = (accum1 + c) & _MASK
        n += 1
        if n < 64 and c != 10:
            continue
        counts[((accum1 + accum2 * 0x61) & _MASK) % _HASHBASE] += n
        n = 0
        accum1 = accum2 = 0
    # Like git, a last span without a newline after it is not counted at all.
    return counts


def similarity(
    src: bytes,
    dst: bytes,
    min_score: int = DEFAULT_MIN_SCORE,
    spans: Callable[[bytes], Counter[int]] | None = None,
) -> int:
    """git's estimate_similarity(): 0..MAX_SCORE, 0 when sizes differ too much. `spans`
    gives a blob's span counts, worked out once per blob as git keeps them per file."""
    max_size = max(len(src), len(dst))
    base_size = min(len(src), len(dst))
    delta = max_size - base_size
    if max_size * (MAX_SCORE - min_score) < delta * MAX_SCORE:
        return 0
    if not dst or not max_size:
        return 0
    counted = spans or _spans
    src_spans, dst_spans = counted(src), counted(dst)
    if len(src_spans) > len(dst_spans):  # the same sum, over the shorter of the two
        src_spans, dst_spans = dst_spans, src_spans
    copied = sum(min(count, dst_spans.get(key, 0)) for key, count in src_spans.items())
    return copied * MAX_SCORE // max_size


def _basename(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _regular(mode: int | None) -> bool:
    return mode is not None and (mode & 0o170000) == 0o100000


def detect_renames(
    entries: list[Entry],
    read: Callable[[str], bytes],
    min_score: int = DEFAULT_MIN_SCORE,
    limit: int = RENAME_LIMIT,
    skipped: Callable[[int], None] | None = None,
) -> list[Pair]:
    """Pair deletions with additions as git does; other entries pass through. With more
    candidates than `limit` allows, only exact and same-name renames are found, and
    `skipped` hears the limit that would have been needed (git warns with it)."""
    sources = [e for e in entries if e.new_id is None]
    dests = [e for e in entries if e.old_id is None]
    if sources and dests:
        faults.point("renames.detect")
    used_src: set[int] = set()
    match: dict[int, tuple[int, int]] = {}  # dst index -> (src index, score)

    for d, dst in enumerate(dests):  # exact renames
        best, best_score = None, -1
        for s, src in enumerate(sources):
            if s in used_src or src.old_id != dst.new_id:
                continue
            if not (_regular(src.old_mode) and _regular(dst.new_mode)) and src.old_mode != dst.new_mode:
                continue
            score = 1 + (_basename(src.path) == _basename(dst.path))
            if score > best_score:
                best, best_score = s, score
                if score == 2:
                    break
        if best is not None:
            used_src.add(best)
            match[d] = (best, MAX_SCORE)

    contents: dict[str, bytes] = {}
    counts: dict[int, Counter[int]] = {}  # by id() of the bytes held in `contents`

    def data(oid: str) -> bytes:
        if oid not in contents:
            contents[oid] = read(oid)
        return contents[oid]

    def spans(blob: bytes) -> Counter[int]:
        if id(blob) not in counts:
            counts[id(blob)] = _spans(blob)
        return counts[id(blob)]

    left_src = [s for s in range(len(sources)) if s not in used_src]
    left_dst = [d for d in range(len(dests)) if d not in match]

    if left_src and left_dst:  # unique basenames, held to a higher bar
        basename_min = min_score + (MAX_SCORE - min_score) // 2
        src_names = Counter(_basename(sources[s].path) for s in left_src)
        dst_names = Counter(_basename(dests[d].path) for d in left_dst)
        by_name = {_basename(sources[s].path): s for s in left_src}
        for d in left_dst:
            name = _basename(dests[d].path)
            if src_names.get(name) != 1 or dst_names[name] != 1:
                continue
            s = by_name[name]
            src, dst = sources[s], dests[d]
            if not (_regular(src.old_mode) and _regular(dst.new_mode)):
                continue
            assert src.old_id is not None and dst.new_id is not None
            score = similarity(data(src.old_id), data(dst.new_id), min_score, spans)
            if score >= basename_min:
                used_src.add(s)
                match[d] = (s, score)
        left_src = [s for s in range(len(sources)) if s not in used_src]
        left_dst = [d for d in range(len(dests)) if d not in match]

    fits = len(left_src) * len(left_dst) <= limit * limit
    if left_src and left_dst and not fits and skipped is not None:
        skipped(max(len(left_src), len(left_dst)))
    if left_src and left_dst and fits:
        # git's diffcore-rename: each destination keeps its CANDIDATES_PER_DST best sources
        # in slots (record_if_better, a score of 0 included), then every slot is sorted
        # stably, best first, so ties keep the slots' order.
        slots: list[_Candidate | None] = []
        for d in left_dst:
            dst = dests[d]
            kept: list[_Candidate | None] = [None] * CANDIDATES_PER_DST
            for s in left_src:
                src = sources[s]
                score = 0
                if _regular(src.old_mode) and _regular(dst.new_mode):
                    assert src.old_id is not None and dst.new_id is not None
                    score = similarity(data(src.old_id), data(dst.new_id), min_score, spans)
                same = int(_basename(src.path) == _basename(dst.path))
                _record_if_better(kept, _Candidate(score, same, d, s))
            slots.extend(kept)
        slots.sort(key=lambda c: (1, 0, 0) if c is None else (0, -c.score, -c.same))
        for candidate in slots:
            if candidate is None or candidate.score < min_score:
                break
            if candidate.dst in match or candidate.src in used_src:
                continue
            used_src.add(candidate.src)
            match[candidate.dst] = (candidate.src, candidate.score)

    renamed_dst = {id(dests[d]): (sources[s], score) for d, (s, score) in match.items()}
    renamed_src = {id(sources[s]) for s, _ in match.values()}
    pairs: list[Pair] = []
    for entry in entries:
        if id(entry) in renamed_src:
            continue
        if id(entry) in renamed_dst:
            src, score = renamed_dst[id(entry)]
            pairs.append(
                Pair(
                    src.path,
                    entry.path,
                    src.old_id,
                    src.old_mode,
                    entry.new_id,
                    entry.new_mode,
                    score,
                )
            )
        else:
            pairs.append(_unpaired(entry))
    return pairs


@dataclass(frozen=True)
class _Candidate:
    score: int
    same: int  # 1 when the two paths have the same basename
    dst: int
    src: int


def _worse(a: _Candidate | None, b: _Candidate | None) -> int:
    """git's score_compare: above 0 when `a` ranks below `b` (an empty slot ranks last)."""
    if a is None:
        return int(b is not None)
    if b is None:
        return -1
    if a.score == b.score:
        return b.same - a.same
    return b.score - a.score


def _record_if_better(slots: list[_Candidate | None], candidate: _Candidate) -> None:
    """git's record_if_better: the candidate takes the worst slot (the first of equals)
    when it ranks above it."""
    worst = 0
    for at in range(1, len(slots)):
        if _worse(slots[at], slots[worst]) > 0:
            worst = at
    if _worse(slots[worst], candidate) > 0:
        slots[worst] = candidate


def _unpaired(entry: Entry) -> Pair:
    return Pair(
        entry.path if entry.old_id else None,
        entry.path if entry.new_id else None,
        entry.old_id,
        entry.old_mode,
        entry.new_id,
        entry.new_mode,
    )


def no_renames(entries: list[Entry]) -> list[Pair]:
    return [_unpaired(entry) for entry in entries]

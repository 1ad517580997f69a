"""`git plan review`: a local review page for the repository's plans.

A small HTTP server on 127.0.0.1 (port chosen by the system), stdlib only, with
one page (review.html beside this module: its script and style inline, no
asset from any network) and a JSON API over the store. Every request must carry
the per-run token (`?token=` or the `X-Gitplan-Token` header) and name this
server as its Host (no DNS rebinding); writes also need `--allow-writes`, a
POST with a JSON body and, when a browser sends one, this server's own Origin,
so another site's page cannot drive it (CSRF). Writes go through the same store
methods as the CLI, with the same checks. Syntax highlighting uses pygments
when it is installed (`pip install 'gitplan[review]'`), plain text otherwise.

Never binds anything but the loopback address, never serves a file from disk
other than its page, and never takes a repository path from a request.
"""

from __future__ import annotations

import hmac
import html
import json
import re
import secrets
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .. import views
from ..diffs import DiffOptions
from ..errors import BadInput, Conflict, GitPlanError, PlanNotFound
from ..format import validate_path, validate_plan_id
from ..hunks import FileSection, file_sections, split_lines
from ..model import Selection
from ..store import PlanStore

_STATUS = {BadInput: 400, PlanNotFound: 404, Conflict: 409}
MAX_BODY = 10_000_000
FILES_PER_PAGE = 50  # files of a diff per request: a 1,000-file plan renders its first page at once
_PREFIXES = ("a/", "b/")  # what file_sections reads
_ROUTE = re.compile(r"^/api/plan/([^/]+)(?:/([a-z]+))?$")


@dataclass(frozen=True, slots=True)
class Review:
    """A running review server: where it listens and the URL (with its token) to open."""

    server: ThreadingHTTPServer
    url: str

    def serve(self) -> None:
        self.server.serve_forever()

    def close(self) -> None:
        """Stop listening, in the thread that called `serve` once it returned or was
        interrupted. (socketserver's `shutdown()` would wait for a serving loop to end, for
        ever when Ctrl-C came before the loop began.)"""
        self.server.server_close()


def start(store: PlanStore, allow_writes: bool = False, port: int = 0, fragment: str = "") -> Review:
    """Bind 127.0.0.1 and prepare to serve; call `serve()` to answer requests."""
    token = secrets.token_urlsafe(24)
    lock = threading.Lock()  # one store, one repository handle: one request at a time
    page = resources.files(__package__).joinpath("review.html").read_text(encoding="utf-8")
    page = page.replace("__PYGMENTS_CSS__", _highlight_css())

    class Handler(BaseHTTPRequestHandler):
        server_version = "gitplan-review"
        timeout = 30  # an idle connection does not hold its thread for ever

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet by default
            return

        # -- checks every request passes -----------------------------------------

        def _allowed(self, writing: bool) -> bool:
            port_here = server_port
            hosts = {f"127.0.0.1:{port_here}", f"localhost:{port_here}"}
            if self.headers.get("Host") not in hosts:
                return self._refuse(HTTPStatus.FORBIDDEN, "wrong Host: open the URL git plan review printed")
            origin = self.headers.get("Origin")
            if origin is not None and origin not in {f"http://{host}" for host in hosts}:
                return self._refuse(HTTPStatus.FORBIDDEN, "requests from other origins are refused")
            given = self.headers.get("X-Gitplan-Token") or _query(self.path).get("token", "")
            if not hmac.compare_digest(given.encode(), token.encode()):
                return self._refuse(HTTPStatus.FORBIDDEN, "missing or wrong token")
            if writing:
                if not allow_writes:
                    return self._refuse(
                        HTTPStatus.FORBIDDEN, "read-only: start git plan review --allow-writes"
                    )
                if self.headers.get("X-Gitplan-Token") is None or "json" not in (
                    self.headers.get("Content-Type") or ""
                ):
                    return self._refuse(HTTPStatus.FORBIDDEN, "writes need the token header and a JSON body")
            return True

        def _refuse(self, status: HTTPStatus, why: str) -> bool:
            self._send(status, {"error": why})
            return False

        def _send(self, status: int, document: Any, content_type: str = "application/json") -> None:
            body = (json.dumps(document) if content_type == "application/json" else document).encode()
            self.send_response(status)
            self.send_header("Content-Type", f"{content_type}; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header(
                "Content-Security-Policy",
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                "connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
            )
            self.end_headers()
            self.wfile.write(body)

        # -- requests ----------------------------------------------------------------

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if not self._allowed(writing=False):
                return
            path = urlsplit(self.path).path
            if path == "/":
                shown = page.replace("__TOKEN__", token).replace("__WRITES__", json.dumps(allow_writes))
                self._send(HTTPStatus.OK, shown.replace("__FRAGMENT__", _in_script(fragment)), "text/html")
                return
            self._answer(lambda: _read(store, path, _query(self.path)))

        def do_POST(self) -> None:  # noqa: N802
            if not self._allowed(writing=True):
                return
            if (
                self.headers.get("Transfer-Encoding")
                or not (self.headers.get("Content-Length") or "").isdigit()
            ):
                self._send(HTTPStatus.LENGTH_REQUIRED, {"error": "a write needs a Content-Length body"})
                return
            length = int(self.headers["Content-Length"])
            if length > MAX_BODY:
                self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "the body is too large"})
                return
            try:
                body = json.loads(self.rfile.read(length))
                if not isinstance(body, dict):
                    raise ValueError("not an object")
            except (ValueError, RecursionError):  # RecursionError: nested deeper than json can read
                self._send(HTTPStatus.BAD_REQUEST, {"error": "the body must be a JSON object"})
                return
            self._answer(lambda: _write(store, urlsplit(self.path).path, body))

        def _answer(self, action: Any) -> None:
            try:
                with lock:
                    document = action()
            except GitPlanError as error:
                status = next((code for kind, code in _STATUS.items() if isinstance(error, kind)), 500)
                self._send(status, views.error(error))
                return
            except ValueError as error:  # a query value that is not a number, say
                self._send(HTTPStatus.BAD_REQUEST, {"error": f"bad request: {error}"})
                return
            except Exception as error:  # a bug: answer, and keep serving
                self._send(
                    HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"internal error: {type(error).__name__}"}
                )
                return
            self._send(HTTPStatus.OK, document)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server_port = int(server.server_address[1])
    url = f"http://127.0.0.1:{server_port}/?token={token}"
    return Review(server, url + (f"#{fragment}" if fragment else ""))


def _in_script(value: str) -> str:
    """A JSON string that is safe inside <script>: no "<", ">" or "&" the HTML parser could read."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _query(raw_path: str) -> dict[str, str]:
    return {key: values[-1] for key, values in parse_qs(urlsplit(raw_path).query).items()}


def _read(store: PlanStore, path: str, query: dict[str, str]) -> Any:
    if path == "/api/plans":
        return views.document("list", {"plans": [views.status(s) for s in store.plans()]})
    match = _ROUTE.match(path)
    if not match:
        raise PlanNotFound(f"no such page: {path}")
    plan_id, what = validate_plan_id(match.group(1)), match.group(2) or "status"
    if what == "status":
        return views.document("status", views.status(store.status(plan_id)))
    if what == "version":
        tip, notes_tip = store.plan_refs(plan_id)
        return {"tip": tip, "notes_tip": notes_tip}
    if what == "changesets":
        offset = _offset(query)
        limit = min(int(query.get("limit", "200") or 200), 1000)
        items = store.changesets(plan_id)
        page = [views.changeset(item) for item in items[offset : offset + limit]]
        return views.document(
            "log", {"plan": plan_id, "total": len(items), "offset": offset, "changesets": page}
        )
    if what == "diff":
        changeset = query.get("changeset") or None
        # One changeset's diff is the CLI's; the whole plan's is the one its hunks are
        # accepted from (_selection): no renames and no textconv filter, so that they
        # apply to the base as a patch.
        tip, notes_tip = store.plan_refs(plan_id)  # before the diff: an apply names what was shown
        # The page reads the text back: git's default names, whatever diff.noprefix says.
        options = DiffOptions(renames=bool(changeset), textconv=bool(changeset), prefixes=_PREFIXES)
        text = store.diff(plan_id, changeset, options)
        sections = file_sections(text)
        offset = _offset(query)
        limit = min(int(query.get("limit", str(FILES_PER_PAGE)) or FILES_PER_PAGE), 1000)
        shown = sections[offset : offset + limit]
        return {
            "plan": plan_id,
            "changeset": changeset,
            "total_files": len(sections),
            "offset": offset,
            "version": {"tip": tip, "notes_tip": notes_tip},
            "files": structured(shown),
        }
    raise PlanNotFound(f"no such page: {path}")


def _offset(query: dict[str, str]) -> int:
    """A page's `offset`: 0 or more (a negative one would count from the end)."""
    offset = int(query.get("offset", "0") or 0)
    if offset < 0:
        raise BadInput(f"offset must be 0 or more, not {offset}")
    return offset


def _write(store: PlanStore, path: str, body: dict[str, Any]) -> Any:
    match = _ROUTE.match(path)
    if not match or not match.group(2):
        raise PlanNotFound(f"no such action: {path}")
    plan_id, action = validate_plan_id(match.group(1)), match.group(2)
    if action == "apply":
        _refuse_unknown(body, {"version", "whole", "accept", "check"})
        seen = body.get("version") or {}
        if not isinstance(seen, dict) or store.plan_refs(plan_id) != (seen.get("tip"), seen.get("notes_tip")):
            raise Conflict(
                f"plan {plan_id!r} changed since the page showed it (an agent recorded, or it was "
                "applied); nothing was applied: look at it again"
            )
        selection = _selection(store, plan_id, body)
        result = store.apply(
            plan_id, check=bool(body.get("check")), selection=selection, keep_on_failure=True
        )
        return views.document("apply", views.plain(result))
    if action == "cancel":
        return views.document("cancel", views.plain(store.cancel(plan_id)))
    if action == "rewind":
        return views.document("surgery", views.plain(store.rewind(plan_id, _number(body.get("to")))))
    if action == "drop":
        numbers = body.get("changesets")
        if not isinstance(numbers, list) or not numbers:
            raise BadInput("drop needs a list of changeset numbers")
        return views.document("surgery", views.plain(store.drop(plan_id, [_number(n) for n in numbers])))
    if action == "branch":
        new_plan = validate_plan_id(body.get("new_plan"))
        at = body.get("at")
        branched = store.branch(plan_id, new_plan, at=None if at is None else _number(at))
        return views.document("surgery", views.plain(branched))
    if action == "undo":
        return views.document("surgery", views.plain(store.undo(plan_id)))
    raise PlanNotFound(f"no such action: {action}")


def _number(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadInput(f"not a changeset number: {value!r}")
    return value


def _refuse_unknown(body: dict[str, Any], known: set[str]) -> None:
    unknown = sorted(set(body) - known)
    if unknown:
        raise BadInput(f"unknown field(s) {', '.join(unknown)}; nothing was done")


def _selection(store: PlanStore, plan_id: str, body: dict[str, Any]) -> Selection | None:
    """`{"whole": true}`, or what the reviewer accepted: `{"accept": {path: "all" | [hunk...]}}`.

    Only what the page showed and the reviewer kept is applied: a file the page never
    showed is not. Hunks are numbered in the whole plan's diff at the version the page
    showed (checked by the caller); they become the patch a partial apply takes (the
    same code as `apply --hunks`)."""
    if body.get("whole") is True:
        if "accept" in body:
            raise BadInput("whole and accept do not go together")
        return None  # everything: a whole apply, which marks the plan applied
    accept = body.get("accept")
    if not isinstance(accept, dict) or not accept:
        raise BadInput('say what to apply: {"whole": true} or {"accept": {path: "all" | [hunk, ...]}}')
    sections = file_sections(
        store.diff(plan_id, None, DiffOptions(renames=False, binary=True, textconv=False, prefixes=_PREFIXES))
    )
    # A path changed from one type to another (a file and a symlink) has two sections, its
    # deletion and its addition, as git prints it; the page shows both as one file.
    known: dict[str, list[FileSection]] = {}
    for section in sections:
        known.setdefault(section.path, []).append(section)
    chosen: list[str] = []
    for path, hunks in accept.items():
        found = known.get(validate_path(path))
        if found is None:
            raise BadInput(f"{path!r} is not changed by plan {plan_id!r}")
        section = found[0]
        if hunks == "all":
            chosen.extend(part.whole for part in found)
        elif len(found) > 1:
            raise BadInput(f'{path!r} changes type (a file and a symlink, say): accept it whole ("all")')
        elif isinstance(hunks, list) and hunks:
            numbers = sorted({_number(i) for i in hunks})
            if numbers[-1] >= len(section.hunks):
                raise BadInput(f"{path!r} has {len(section.hunks)} hunk(s), not {numbers[-1] + 1}")
            chosen.append(section.header + "".join(section.hunks[i] for i in numbers))
        else:
            raise BadInput("accept maps paths to 'all' or a non-empty list of hunk numbers")
    return Selection(patch="".join(chosen).encode("utf-8", "surrogateescape"))


# -- the diff as the page shows it ---------------------------------------------------------


def structured(sections: list[FileSection]) -> list[dict[str, Any]]:
    """Files, hunks and numbered lines of a diff, each line's code highlighted as HTML.

    Each side of a hunk (old: context and deletions; new: context and additions) is
    highlighted in one pass, so a string or comment that spans lines stays one."""
    files = []
    for section in sections:
        lexer = _lexer(section.path)
        hunks = []
        for hunk in section.hunks:
            lines = [line.removesuffix("\n") for line in split_lines(hunk)]
            numbers = re.match(r"@@ -(\d+)(?:,\d+)? \+(\d+)", lines[0])
            old, new = (int(numbers.group(1)), int(numbers.group(2))) if numbers else (0, 0)
            body = lines[1:]
            old_side = _highlight_lines(lexer, [line[1:] for line in body if line[:1] in (" ", "-")])
            new_side = _highlight_lines(lexer, [line[1:] for line in body if line[:1] in (" ", "+")])
            rows = []
            for line in body:
                kind = line[:1]
                if kind == "+":
                    code = new_side.pop(0)
                elif kind in (" ", "-"):
                    code = old_side.pop(0)
                    if kind == " ":
                        new_side.pop(0)
                else:
                    code = html.escape(line[1:])
                row: dict[str, Any] = {"kind": kind, "text": line, "html": code}
                if kind in (" ", "-"):
                    row["old"] = old
                    old += 1
                if kind in (" ", "+"):
                    row["new"] = new
                    new += 1
                rows.append(row)
            hunks.append({"header": lines[0], "lines": rows})
        files.append(
            {
                "path": section.path,
                "header": [line.removesuffix("\n") for line in split_lines(section.header)],
                "hunks": hunks,
            }
        )
    return files


def _highlight_css() -> str:
    try:
        from pygments.formatters import HtmlFormatter
    except ModuleNotFoundError:
        return ""
    return str(HtmlFormatter().get_style_defs(".code"))


def _lexer(path: str) -> Any:
    try:
        from pygments.lexers import get_lexer_for_filename
        from pygments.util import ClassNotFound
    except ModuleNotFoundError:
        return None
    try:
        return get_lexer_for_filename(path, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


def _highlight_lines(lexer: Any, lines: list[str]) -> list[str]:
    """The lines as HTML, highlighted together; one HTML line per line, whatever pygments does."""
    if lexer is None or not lines:
        return [html.escape(line) for line in lines]
    from pygments import highlight
    from pygments.formatters import HtmlFormatter

    out = str(highlight("\n".join(lines) + "\n", lexer, HtmlFormatter(nowrap=True))).split("\n")
    if len(out) < len(lines) or any(_text(h) != line for h, line in zip(out, lines, strict=False)):
        return [html.escape(line) for line in lines]  # pygments changed the text: show it plain
    return out[: len(lines)]


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]*>", "", fragment))

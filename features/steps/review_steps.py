"""Steps for review.feature: the review page served by the real program, in headless Chromium."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from behave import given, then, when

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@given("the review page is served for the repository")
def served(context):  # type: ignore[no-untyped-def]
    _serve(context, [])


@given("the review page is served for the repository with writes allowed")
def served_writable(context):  # type: ignore[no-untyped-def]
    _serve(context, ["--allow-writes"])


def _stop(server: subprocess.Popen[str]) -> None:
    """Ctrl-C, as a user stops it: the program closes its server and exits 0."""
    server.send_signal(signal.SIGINT)
    try:
        # Generous: on a disk busy with other writers, exiting can wait on page-ins; a hang
        # (Ctrl-C before the serving loop, fixed) waited for ever.
        code = server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
        raise AssertionError("git plan review did not stop on Ctrl-C") from None
    assert code == 0, f"git plan review exited {code} on Ctrl-C"


def _serve(context, extra: list[str], env: dict[str, str] | None = None) -> None:  # type: ignore[no-untyped-def]
    command = [sys.executable, "-m", "gitplan", "-C", context.repo, "review", "--no-open", *extra]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    context.add_cleanup(_stop, server)
    line = server.stdout.readline()  # the program prints its URL when it is listening
    assert line.startswith("gitplan review: http://127.0.0.1:"), line
    context.review_url = line.split(": ", 1)[1].strip()
    context.review_base = context.review_url.split("/?", 1)[0]


@when("I open the review page in a headless browser")
def open_page(context):  # type: ignore[no-untyped-def]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,900",
        f"--user-data-dir={context.tmp}/chromium",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    context.add_cleanup(driver.quit)
    context.browser = driver
    driver.get(context.review_url)
    _wait(context, lambda d: d.find_element("tag name", "body").get_attribute("data-ready") == "yes")


def _wait(context, condition, seconds: float = 20):  # type: ignore[no-untyped-def]
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(context.browser, seconds, poll_frequency=0.05).until(condition)


def _css(context, selector: str):  # type: ignore[no-untyped-def]
    return context.browser.find_element("css selector", selector)


def _renders(context) -> int:  # type: ignore[no-untyped-def]
    return int(_css(context, "#diff").get_attribute("data-renders") or 0)


def _caught_up(context) -> None:  # type: ignore[no-untyped-def]
    """Wait until the page has caught up with the plan as it is now: its poll has seen the
    plan's refs and done what a change makes it do (reload the diff), so that nothing the
    page does on its own re-renders the diff under the next click."""
    script = "const m = location.hash.match(/plan=([^&]*)/); return m ? decodeURIComponent(m[1]) : ''"
    plan = context.browser.execute_script(script)
    if not plan:
        return
    tip, notes_tip = context.store.plan_refs(plan)
    version = tip + (notes_tip if notes_tip is not None else "null")  # as the page's JavaScript joins them
    _wait(context, lambda d: d.find_element("tag name", "body").get_attribute("data-version") == version)


def _click_and_render(context, selector: str) -> None:  # type: ignore[no-untyped-def]
    """Click, once the page has caught up with the plan, then wait until the diff pane has
    rendered what the click asked for."""
    _caught_up(context)
    before = _renders(context)
    _css(context, selector).click()
    _wait(context, lambda d: _renders(context) > before)


@when("I open changeset {number:d}")
def open_changeset(context, number):  # type: ignore[no-untyped-def]
    _click_and_render(context, f'.changeset[data-number="{number}"]')
    assert _css(context, "#diff").get_attribute("data-changeset") == str(number)


@when("I show the whole plan")
def whole_plan(context):  # type: ignore[no-untyped-def]
    _click_and_render(context, "#show-cumulative")
    assert _css(context, "#diff").get_attribute("data-changeset") == ""


def _page_diff(context) -> str:  # type: ignore[no-untyped-def]
    script = "return Array.from(document.querySelectorAll('#diff .line')).map(e => e.textContent).join('\\n')"
    return str(context.browser.execute_script(script)) + "\n"


@then('the page shows the diff "git plan {args}" prints')
def page_diff_matches(context, args):  # type: ignore[no-untyped-def]
    printed = subprocess.run(
        [sys.executable, "-m", "gitplan", "-C", context.repo, *args.split()],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    shown = _page_diff(context)
    assert shown == printed, f"page:\n{shown}\n---\ngit plan {args}:\n{printed}"


@then("the page lists {count:d} changesets")
@when("the page lists {count:d} changesets")
def page_lists(context, count):  # type: ignore[no-untyped-def]
    _wait(context, lambda d: len(d.find_elements("css selector", ".changeset")) == count)


@then('the page shows "{text}"')
def page_shows(context, text):  # type: ignore[no-untyped-def]
    try:
        _wait(context, lambda d: text in d.find_element("tag name", "body").text)
    except Exception as error:  # say what it shows instead
        message = context.browser.find_element("css selector", "#message").text
        raise AssertionError(f"the page never showed {text!r}; its message: {message!r}") from error


@when('I reject the file "{path}" and apply what is accepted')
def reject_file_and_apply(context, path):  # type: ignore[no-untyped-def]
    _reject_file(context, path)
    _apply_accepted(context)


def _reject_file(context, path: str) -> None:  # type: ignore[no-untyped-def]
    box = _css(context, f'.file[data-path="{path}"] .accept-file')
    assert box.is_selected()
    box.click()
    _wait(
        context,
        lambda d: (
            "rejected" in d.find_element("css selector", f'.file[data-path="{path}"]').get_attribute("class")
        ),
    )


@then('the page does not show "{text}"')
def page_does_not_show(context, text):  # type: ignore[no-untyped-def]
    assert text not in context.browser.find_element("tag name", "body").text


@when('I reject hunk {index:d} of "{path}" and apply what is accepted')
def reject_hunk_and_apply(context, index, path):  # type: ignore[no-untyped-def]
    _css(context, f'.file[data-path="{path}"] [data-hunk="{index}"] .accept-hunk').click()
    _apply_accepted(context)


def _apply_accepted(context):  # type: ignore[no-untyped-def]
    """Press "apply what is accepted" and wait until the page says it applied."""
    _css(context, "#apply-accepted").click()
    _wait(
        context,
        lambda d: (d.find_element("tag name", "body").get_attribute("data-last-action") or "").startswith(
            "apply"
        ),
    )


@when('I reject the file "{path}" and the page polls while it reloads after applying the rest')
def apply_with_poll_during_reload(context, path):  # type: ignore[no-untyped-def]
    """The interleaving that replaced the apply's message by "the plan changed": the page's
    poll answered after the apply, before the page had reloaded the plan. The page's
    request for its timeline is held (in the page's fetch) until the test has run a
    poll, so the order is fixed, not left to the poll's timer. (Only the reload's request
    is held: a poll that reloads the timeline itself gets its answer.)"""
    _reject_file(context, path)
    hold_timeline(context)
    _css(context, "#apply-accepted").click()
    waiting_for_timeline(context)
    context.browser.execute_async_script("const done = arguments[0]; poll().then(() => done());")
    release_timeline(context)


@when("the page holds its next request for the timeline")
def hold_timeline(context):  # type: ignore[no-untyped-def]
    """The page's next request for its timeline waits (in the page's fetch) until the test
    lets it go: the moment the page is in the middle of a reload is the test's to choose."""
    _hold(context, "/changesets")


@when("the page holds its next request for the plan's version")
def hold_version(context):  # type: ignore[no-untyped-def]
    """The same for the poll's question: has the plan moved?"""
    _hold(context, "/version")


def _hold(context, part: str) -> None:  # type: ignore[no-untyped-def]
    context.browser.execute_script(
        """
        const part = arguments[0];
        const real = window.fetch;
        window.__held = [];
        window.__busy = 0;  // requests not held whose answer the page has not read yet
        window.fetch = (url, options) => {
          if (String(url).includes(part) && window.__holding && !window.__held.length) {
            return new Promise((go) => window.__held.push(() => go(real(url, options))));
          }
          window.__busy += 1;
          return real(url, options).then((response) => {
            const read = response.json.bind(response);
            response.json = () => read().finally(() => { window.__busy -= 1; });
            return response;
          }, (error) => { window.__busy -= 1; throw error; });
        };
        window.__holding = true;
        """,
        part,
    )


@when("the page is waiting for the timeline")
@when("the page is waiting for the plan's version")
def waiting_for_timeline(context):  # type: ignore[no-untyped-def]
    """The held request is waiting, and the page has drawn the answers to the others it
    made with it (a button the test presses next is not redrawn under it). The page reads
    an answer and draws it in one run of promise callbacks, which ends before the test's
    script runs."""
    _wait(
        context,
        lambda d: d.execute_script("return window.__held.length > 0 && window.__busy === 0"),
    )


@when("the page gets the timeline it waited for")
def release_timeline(context):  # type: ignore[no-untyped-def]
    context.browser.execute_script("window.__holding = false; window.__held.forEach((go) => go());")
    _caught_up(context)


@when("the page gets the plan's version it waited for")
def release_version(context):  # type: ignore[no-untyped-def]
    """Let the held poll go on, and wait until that poll is over (the next one is asked for)."""
    context.browser.execute_script(
        "window.__polled = false; const real = window.setTimeout;"
        "window.setTimeout = (f, ms) => real(() => { window.__polled = true; f(); }, ms);"
        "window.__holding = false; window.__held.forEach((go) => go());"
    )
    _wait(context, lambda d: d.execute_script("return window.__polled"))


@when("I cancel the plan on the page")
def cancel_on_page(context):  # type: ignore[no-untyped-def]
    context.browser.execute_script("window.confirm = () => true;")  # the "Cancel plan p?" dialog
    _css(context, "#cancel-plan").click()
    _wait(context, lambda d: d.find_element("tag name", "body").get_attribute("data-last-action") == "cancel")


@then('the page\'s diff lists the file "{path}"')
def page_diff_lists(context, path):  # type: ignore[no-untyped-def]
    files = context.browser.find_elements("css selector", "#diff .file")
    shown = [file.get_attribute("data-path") for file in files]
    assert path in shown, shown


@then("the page offers no apply button")
def no_apply(context):  # type: ignore[no-untyped-def]
    assert not context.browser.find_elements("css selector", "#apply-accepted")


@then('I save a screenshot "{name}"')
def screenshot(context, name):  # type: ignore[no-untyped-def]
    target = ROOT / "build" / "screenshots"
    target.mkdir(parents=True, exist_ok=True)
    assert context.browser.save_screenshot(str(target / f"{name}.png"))


def _status(url: str, headers: dict[str, str] | None = None, data: bytes | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


@then("a request without the token is refused")
def no_token(context):  # type: ignore[no-untyped-def]
    assert _status(context.review_base + "/api/plans") == 403
    assert _status(context.review_base + "/") == 403


@then("a request with the token from another origin is refused")
def other_origin(context):  # type: ignore[no-untyped-def]
    token = context.review_url.split("token=", 1)[1].split("#", 1)[0]
    assert _status(context.review_base + "/api/plans", {"X-Gitplan-Token": token}) == 200
    assert (
        _status(
            context.review_base + "/api/plans", {"X-Gitplan-Token": token, "Origin": "http://evil.example"}
        )
        == 403
    )


@then("a write with the token is refused on a read-only page")
def read_only_write(context):  # type: ignore[no-untyped-def]
    token = context.review_url.split("token=", 1)[1].split("#", 1)[0]
    headers = {"X-Gitplan-Token": token, "Content-Type": "application/json"}
    assert _status(context.review_base + "/api/plan/p/cancel", headers, b"{}") == 403


@then("a form posted from another site cannot write")
def csrf(context):  # type: ignore[no-untyped-def]
    token = context.review_url.split("token=", 1)[1].split("#", 1)[0]
    form = {"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://evil.example"}
    assert _status(f"{context.review_base}/api/plan/p/cancel?token={token}", form, b"a=1") == 403
    plain = {"Content-Type": "text/plain"}
    assert _status(f"{context.review_base}/api/plan/p/cancel?token={token}", plain, b"{}") == 403


@given('I record {count:d} new files in "{plan}"')
def many_files(context, count, plan):  # type: ignore[no-untyped-def]
    from gitplan import ToolInvocation

    changes = {f"gen/file{n:03d}.txt": f"line {n}\n".encode() for n in range(count)}
    context.store.record(plan, changes, ToolInvocation(tool="generate", actor="agent"))


@when("I show more files")
def more_files(context):  # type: ignore[no-untyped-def]
    _click_and_render(context, "#more-files")


@then("the page shows {count:d} files")
def files_shown(context, count):  # type: ignore[no-untyped-def]
    _wait(context, lambda d: len(d.find_elements("css selector", ".file")) == count)


@when('I untick the file "{path}"')
def untick(context, path):  # type: ignore[no-untyped-def]
    _css(context, f'.file[data-path="{path}"] .accept-file').click()
    _wait(
        context,
        lambda d: (
            "rejected" in d.find_element("css selector", f'.file[data-path="{path}"]').get_attribute("class")
        ),
    )


@when("I press Apply accepted")
def press_apply(context):  # type: ignore[no-untyped-def]
    _apply_accepted(context)


def _token(context) -> str:  # type: ignore[no-untyped-def]
    return str(context.review_url.split("token=", 1)[1].split("#", 1)[0])


def _raw_post(context, path: str, headers: dict[str, str], body: bytes) -> int:  # type: ignore[no-untyped-def]
    host, port = context.review_base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("POST", path)
    for key, value in {
        "X-Gitplan-Token": _token(context),
        "Content-Type": "application/json",
        **headers,
    }.items():
        connection.putheader(key, value)
    connection.endheaders()
    if headers.get("Transfer-Encoding") == "chunked":
        connection.send(f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n")
    else:
        connection.send(body)
    status = connection.getresponse().status
    connection.close()
    return int(status)


@then("a chunked write is refused with 411")
def chunked(context):  # type: ignore[no-untyped-def]
    assert (
        _raw_post(context, "/api/plan/p/apply", {"Transfer-Encoding": "chunked"}, b'{"check": true}') == 411
    )


@then("a write with an unknown field is refused with 400")
def unknown_field(context):  # type: ignore[no-untyped-def]
    body = b'{"rejects": {}}'
    assert _raw_post(context, "/api/plan/p/apply", {"Content-Length": str(len(body))}, body) == 400


@then("an apply that says neither whole nor accept is refused with 400")
def says_nothing(context):  # type: ignore[no-untyped-def]
    tip = subprocess.run(
        ["git", "rev-parse", "refs/changesets/p", "refs/notes/changesets/p"],
        cwd=context.repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    body = json.dumps({"version": {"tip": tip[0], "notes_tip": tip[1]}}).encode()
    assert _raw_post(context, "/api/plan/p/apply", {"Content-Length": str(len(body))}, body) == 400


@when('I run "git plan {args}" with a browser that notes the URL it is given')
def run_with_browser(context, args):  # type: ignore[no-untyped-def]
    import os
    import time

    noted = Path(context.tmp, "browser-url")
    browser = Path(context.tmp, "browser.sh")
    browser.write_text(f'#!/bin/sh\nprintf "%s" "$1" > "{noted}.part" && mv "{noted}.part" "{noted}"\n')
    browser.chmod(0o755)
    command = [sys.executable, "-m", "gitplan", "-C", context.repo, *args.split()]
    server = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "BROWSER": str(browser)},
    )
    context.add_cleanup(_stop, server)
    line = server.stdout.readline()
    assert line.startswith("gitplan review: http://127.0.0.1:"), line
    context.review_url = line.split(": ", 1)[1].strip()
    context.review_base = context.review_url.split("/?", 1)[0]
    deadline = time.monotonic() + 60  # the browser is started after the URL is printed
    while not noted.exists():
        assert time.monotonic() < deadline, "git plan review never started the browser"
        time.sleep(0.005)
    context.browser_url = noted.read_text()


@then('the browser was given the review page at "{fragment}"')
def browser_given(context, fragment):  # type: ignore[no-untyped-def]
    assert context.browser_url == context.review_url, (context.browser_url, context.review_url)
    assert context.browser_url.endswith("#" + fragment), context.browser_url
    token = context.browser_url.split("token=", 1)[1].split("#", 1)[0]
    assert _status(context.review_base + "/api/plan/p/diff?changeset=1", {"X-Gitplan-Token": token}) == 200


# -- the JSON API, asked as any client would: plain HTTP with the token header ------------------


@given("the review page is served for the repository without pygments")
def served_without_pygments(context):  # type: ignore[no-untyped-def]
    """As installed without the review extra: `import pygments.formatters` fails
    (a plain module named pygments comes first on the path, so it is no package)."""
    shadow = Path(context.tmp) / "no-pygments"
    shadow.mkdir(exist_ok=True)
    (shadow / "pygments.py").write_text("")
    path = os.pathsep.join(filter(None, [str(shadow), os.environ.get("PYTHONPATH")]))
    _serve(context, [], {**os.environ, "PYTHONPATH": path})


def _request(  # type: ignore[no-untyped-def]
    context, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> None:
    """One request to the running server; its status and answer are kept for the Then steps."""
    host, port = context.review_base.removeprefix("http://").split(":")
    headers = {"X-Gitplan-Token": _token(context), "Content-Type": "application/json", **(headers or {})}
    if body is not None:
        headers.setdefault("Content-Length", str(len(body)))
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.putrequest(method, path, skip_host="Host" in headers)
        for key, value in headers.items():
            connection.putheader(key, value)
        connection.endheaders()
        if body:
            connection.send(body)
        response = connection.getresponse()
        text = response.read().decode("utf-8")
    finally:
        connection.close()
    context.api_status = response.status
    context.api_text = text
    kind = response.getheader("Content-Type") or ""
    context.api_answer = json.loads(text) if kind.startswith("application/json") else None


@when('the API is asked for "{path}"')
def api_get(context, path):  # type: ignore[no-untyped-def]
    _request(context, "GET", path)


@when('the API is asked, with the Host header "{host}", for "{path}"')
def api_get_host(context, path, host):  # type: ignore[no-untyped-def]
    _request(context, "GET", path, headers={"Host": host})


@when('the API is sent the body {body} to "{path}"')
def api_post(context, body, path):  # type: ignore[no-untyped-def]
    _request(context, "POST", path, body.encode("utf-8"))


@when('the API is sent headers announcing a body of {size:d} bytes to "{path}"')
def api_post_announced(context, size, path):  # type: ignore[no-untyped-def]
    """Only the headers: a server that reads the body first would wait for it."""
    _request(context, "POST", path, None, {"Content-Length": str(size)})


def _version(context, plan: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The plan's tip and notes tip, as git itself names them."""
    tip, notes_tip = subprocess.run(
        ["git", "rev-parse", f"refs/changesets/{plan}", f"refs/notes/changesets/{plan}"],
        cwd=context.repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {"tip": tip, "notes_tip": notes_tip}


@when('the API is sent, at the version git shows of "{plan}", {body} to "{path}"')
def api_post_versioned(context, body, plan, path):  # type: ignore[no-untyped-def]
    document = {**json.loads(body), "version": _version(context, plan)}
    _request(context, "POST", path, json.dumps(document).encode("utf-8"))


@then("the API answers {status:d}")
def api_status(context, status):  # type: ignore[no-untyped-def]
    assert context.api_status == status, (context.api_status, context.api_text)


@then('the API answers {status:d} with the error "{text}"')
def api_error(context, status, text):  # type: ignore[no-untyped-def]
    assert context.api_status == status, (context.api_status, context.api_text)
    assert text in context.api_answer["error"], context.api_answer


@then("the API answer has {key} = {value}")
def api_field(context, key, value):  # type: ignore[no-untyped-def]
    assert context.api_status == 200, (context.api_status, context.api_text)
    assert context.api_answer.get(key) == json.loads(value), context.api_answer


@then('the API answer is the version git rev-parse gives of "{plan}"')
def api_version(context, plan):  # type: ignore[no-untyped-def]
    assert context.api_status == 200, (context.api_status, context.api_text)
    assert context.api_answer == _version(context, plan), context.api_answer


@then("the API answer lists changesets {numbers}")
def api_changesets(context, numbers):  # type: ignore[no-untyped-def]
    assert context.api_status == 200, (context.api_status, context.api_text)
    found = [item["number"] for item in context.api_answer["changesets"]]
    assert found == json.loads(numbers), found


def _diff_line(context, path: str, text: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    assert context.api_status == 200, (context.api_status, context.api_text)
    files = [item for item in context.api_answer["files"] if item["path"] == path]
    assert files, [item["path"] for item in context.api_answer["files"]]
    lines = [line for hunk in files[0]["hunks"] for line in hunk["lines"]]
    found = [line for line in lines if line["text"] == text]
    assert len(found) == 1, lines
    return found[0]  # type: ignore[no-any-return]


@then('the API diff shows the line "{text}" of "{path}" as "{shown}"')
def api_diff_line(context, text, path, shown):  # type: ignore[no-untyped-def]
    line = _diff_line(context, path, text)
    assert line["html"] == shown, line


@then('the API diff shows the line "{text}" of "{path}" highlighted')
def api_diff_line_highlighted(context, text, path):  # type: ignore[no-untyped-def]
    line = _diff_line(context, path, text)
    assert "<span" in line["html"], line


@then("the page served holds no style for highlighted code")
def page_without_highlight_css(context):  # type: ignore[no-untyped-def]
    assert context.api_status == 200 and context.api_text.startswith("<!"), context.api_text[:200]
    assert ".code .k " not in context.api_text


@then("the page served holds a style for highlighted code")
def page_with_highlight_css(context):  # type: ignore[no-untyped-def]
    assert context.api_status == 200 and context.api_text.startswith("<!"), context.api_text[:200]
    assert ".code .k " in context.api_text


@when("I stop git plan review with Ctrl-C before it starts serving")
def stop_before_serving(context):  # type: ignore[no-untyped-def]
    """Ctrl-C between printing the URL and the serving loop: it must still exit 0, at once."""
    import time

    pause = Path(context.tmp, "pause-review")
    pause.mkdir()
    env = dict(os.environ, GITPLAN_FAULTS=f"review.serving=pause:{pause}")
    command = [sys.executable, "-m", "gitplan", "-C", context.repo, "review", "--no-open"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    assert server.stdout is not None
    assert server.stdout.readline().startswith("gitplan review: http://127.0.0.1:")
    deadline = time.monotonic() + 60
    while not list(pause.glob("review.serving.*.reached")):
        assert time.monotonic() < deadline, "git plan review never reached its serving loop"
        time.sleep(0.01)
    _stop(server)

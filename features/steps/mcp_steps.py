"""Steps for mcp.feature: the official MCP client talking to `git plan mcp` over stdio."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import sys
from typing import Any

from behave import then, when


def _server(context, command: str) -> Any:  # type: ignore[no-untyped-def]
    """The server started over stdio, its stderr in a file (behave's captured stderr,
    which the client would pass on by default, has no descriptor)."""
    from mcp.client.stdio import StdioServerParameters, stdio_client

    words = shlex.split(command)
    assert words[:2] == ["git", "plan"], words
    # The scenario's whole environment (its HOME, GIT_CONFIG_NOSYSTEM, coverage's start
    # file): the client passes only a few variables unless told.
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "gitplan", *words[2:]], cwd=context.repo, env=dict(os.environ)
    )
    log = open(os.path.join(context.tmp, "mcp-server.log"), "a")  # noqa: SIM115 - closed at cleanup
    context.add_cleanup(log.close)
    return stdio_client(params, errlog=log)


@when('an MCP client talks to "{command}"')
def talk(context, command):  # type: ignore[no-untyped-def]
    from mcp import Client

    calls = [(row["call"], json.loads(row["arguments"])) for row in context.table]

    async def session() -> tuple[list[Any], list[Any]]:
        async with Client(_server(context, command)) as client:
            context.mcp_server_info = client.server_info
            tools = (await client.list_tools()).tools
            results = [await client.call_tool(name, arguments) for name, arguments in calls]
            return tools, results

    # (a server that stops answering fails the scenario instead of hanging it)
    context.mcp_tools, context.mcp_results = asyncio.run(asyncio.wait_for(session(), 120))


@when('an MCP client reads "{first}", "{second}", "{third}" and "{fourth}" from "{command}"')
def read_resources(context, first, second, third, fourth, command):  # type: ignore[no-untyped-def]
    from mcp import Client

    async def session() -> list[str]:
        async with Client(_server(context, command)) as client:
            found = []
            for uri in (first, second, third, fourth):
                contents = (await client.read_resource(uri)).contents
                found.append(contents[0].text)
            return found

    context.mcp_resources = asyncio.run(session())


@then("the client saw the tools {names}")
def saw_tools(context, names):  # type: ignore[no-untyped-def]
    assert [tool.name for tool in context.mcp_tools] == [name.strip() for name in names.split(",")]


@then("plan_cancel is marked destructive and plan_diff read-only")
def annotations(context):  # type: ignore[no-untyped-def]
    tools = {tool.name: tool for tool in context.mcp_tools}
    assert tools["plan_cancel"].annotations.destructive_hint is True
    assert tools["plan_cancel"].annotations.read_only_hint is False
    assert tools["plan_diff"].annotations.read_only_hint is True


def _result(context, number: int) -> Any:  # type: ignore[no-untyped-def]
    return context.mcp_results[number - 1]


@then('call {number:d} said "{summary}" with a "{schema}" document')
def said(context, number, summary, schema):  # type: ignore[no-untyped-def]
    result = _result(context, number)
    assert not result.is_error, result
    assert result.content[0].text.startswith(summary), result.content[0].text
    assert result.structured_content["schema"] == schema, result.structured_content


@then('call {number:d} returned a patch containing "{text}"')
def patch_contains(context, number, text):  # type: ignore[no-untyped-def]
    result = _result(context, number)
    assert text in result.structured_content["patch"], result.structured_content


@then('call {number:d} failed with "{text}"')
def failed(context, number, text):  # type: ignore[no-untyped-def]
    result = _result(context, number)
    assert result.is_error and text in result.content[0].text, result


@then('call {number:d} returned the error document of kind "{kind}" with exit code {code:d}')
def error_document(context, number, kind, code):  # type: ignore[no-untyped-def]
    result = _result(context, number)
    document = result.structured_content
    assert result.is_error and document["schema"] == "gitplan.error/1", result
    assert (document["kind"], document["exit_code"]) == (kind, code), document


@then('resource {number:d} holds "{text}"')
def resource_holds(context, number, text):  # type: ignore[no-untyped-def]
    assert text in context.mcp_resources[number - 1], context.mcp_resources[number - 1]


@when(
    'an MCP client records invocation "{invocation}" in "{plan}" {count:d} times at once through "{command}"'
)
def parallel_records(context, invocation, plan, count, command):  # type: ignore[no-untyped-def]
    from mcp import Client

    arguments = {"plan": plan, "tool": "w", "files": {"same.txt": "x\n"}, "invocation_id": invocation}

    async def session() -> list[Any]:
        async with Client(_server(context, command)) as client:
            calls = [client.call_tool("plan_record", arguments) for _ in range(count)]
            return list(await asyncio.gather(*calls))

    results = asyncio.run(session())
    assert not any(result.is_error for result in results), results


@then('call {number:d} has "{field}" {value:d}')
def call_field(context, number, field, value):  # type: ignore[no-untyped-def]
    assert _result(context, number).structured_content[field] == value


@when('an MCP client reads "{uri}" from "{command}"')
def read_one(context, uri, command):  # type: ignore[no-untyped-def]
    from mcp import Client

    async def session() -> tuple[str, str]:
        async with Client(_server(context, command)) as client:
            try:
                contents = (await client.read_resource(uri)).contents
            except Exception as error:  # noqa: BLE001 - the client raises the server's error
                return "", str(error)
            return contents[0].text, ""

    context.mcp_read, context.mcp_read_error = asyncio.run(asyncio.wait_for(session(), 120))


@then('the resource read holds "{text}"')
def read_holds(context, text):  # type: ignore[no-untyped-def]
    assert not context.mcp_read_error, context.mcp_read_error
    assert text in context.mcp_read, context.mcp_read


@then('the resource read failed with "{text}"')
def read_failed(context, text):  # type: ignore[no-untyped-def]
    assert text in context.mcp_read_error, context.mcp_read_error


@when('I run git plan "{args}" without the mcp package')
def without_mcp(context, args):  # type: ignore[no-untyped-def]
    from unittest import mock

    from click.testing import CliRunner

    from gitplan.cli import main

    hidden = {name: None for name in ("mcp", "mcp.server")}  # import then fails as when not installed
    with mock.patch.dict(sys.modules, hidden):
        context.cli = CliRunner().invoke(main, ["-C", context.repo, *shlex.split(args)])
    context.cli_output = context.cli.output


@then("the server names itself gitplan, with gitplan's version")
def server_named(context):  # type: ignore[no-untyped-def]
    from gitplan import __version__

    info = context.mcp_server_info
    assert info is not None and info.name == "gitplan" and info.version == __version__, info


@then('call {number:d} holds the text "{text}"')
def call_holds(context, number, text):  # type: ignore[no-untyped-def]
    result = _result(context, number)
    assert not result.is_error, result
    document = json.dumps(result.structured_content, ensure_ascii=False)
    assert json.dumps(text, ensure_ascii=False)[1:-1] in document, document


@when('an MCP client has plan_run run "{script}" in "{plan}", cancels it once "{name}" exists, and leaves')
def run_then_leave(context, script, plan, name):  # type: ignore[no-untyped-def]
    from pathlib import Path

    from mcp import Client

    marker = Path(context.tmp, name)
    arguments = {"plan": plan, "argv": ["sh", "-c", script.replace("{tmp}", context.tmp)], "tool": "sh"}

    async def session() -> None:
        async with Client(_server(context, "git plan mcp")) as client:
            await client.call_tool("plan_create", {"plan": plan})
            call = asyncio.ensure_future(client.call_tool("plan_run", arguments))
            while not marker.exists():
                assert not call.done(), call.result()
                await asyncio.sleep(0.01)
            call.cancel()
        # leaving the client closes the server's input: the server goes away

    asyncio.run(asyncio.wait_for(session(), 120))


@when('"git plan mcp" is started, answers an initialize request and is sent {name}')
def start_and_signal(context, name):  # type: ignore[no-untyped-def]
    import signal
    import subprocess

    server = subprocess.Popen(
        [sys.executable, "-m", "gitplan", "mcp"],
        cwd=context.repo,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    context.add_cleanup(server.kill)
    request = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }
    assert server.stdin is not None and server.stdout is not None
    server.stdin.write(json.dumps(request).encode() + b"\n")
    server.stdin.flush()
    assert b'"result"' in server.stdout.readline()
    server.send_signal(getattr(signal, name))
    context.mcp_server = server


@then("it exited {code:d} within 10 seconds")
def exited_within(context, code):  # type: ignore[no-untyped-def]
    import subprocess

    try:
        returned = context.mcp_server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        raise AssertionError("the server still runs 10 s after the signal") from None
    assert returned == code, returned

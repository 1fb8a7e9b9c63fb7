"""A fork server for the `collab` command in tests: imports the engine once, then runs each command in a fresh child.

Every `collab(...)` of the tests is a real process with its own environment, working folder, standard streams
and exit status, running the installed entry point `cli:main`; only the imports (about 0.5 s of CPU per command,
most of the suite's time) are done once, before the fork, instead of once per command. The server never opens a
database, so no connection or thread crosses a fork. Tests of start-up itself (imports, `--help`) and of
processes killed or raced run the `collab` executable directly.

Protocol, one JSON object a line: the test sends {"args", "env", "cwd", "out", "err"}; the server answers
{"pid"} once the child runs, then {"status"}: its exit code, or minus the signal that killed it.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import traceback

PRELOADED = ("cli", "workflow.service", "workflow.reminders", "workflow.reports", "workflow.report_formats",
             "workflow.demo", "workflow.replay", "workflow.signing", "workflow.calendar", "workflow.machine",
             "web", "alembic.command", "argon2", "jinja2", "icalendar", "holidays", "psycopg")


def _child(request: dict[str, object]) -> None:
    """In the forked child: become the command (environment, folder, streams, arguments) and run it."""
    code = 1
    try:
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        for fd, path in ((1, request["out"]), (2, request["err"])):
            os.dup2(os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), fd)
        os.environ.clear()
        os.environ.update(request["env"])  # type: ignore[arg-type]
        os.chdir(str(request["cwd"]))
        sys.argv = ["collab", *request["args"]]  # type: ignore[misc]
        import random

        random.seed()  # not the server's sequence
        from cli import main

        try:
            main()
            code = 0
        except SystemExit as done:
            if done.code is None or isinstance(done.code, int):
                code = done.code or 0
            else:
                print(done.code, file=sys.stderr)
        except BaseException:  # noqa: BLE001 - as the interpreter would: the traceback on stderr, exit 1
            traceback.print_exc()
    finally:
        try:
            atexit._run_exitfuncs()  # what the interpreter runs as it exits (the command's WAL checkpoint among them)
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def serve() -> None:
    for name in PRELOADED:
        try:
            __import__(name)
        except ModuleNotFoundError:  # an optional extra not installed: the child imports what it needs
            pass
    reply = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        reply.flush()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, which never returns
            _child(request)
        reply.write(json.dumps({"pid": pid}) + "\n")
        reply.flush()
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        reply.write(json.dumps({"status": code}) + "\n")
        reply.flush()


if __name__ == "__main__":
    serve()

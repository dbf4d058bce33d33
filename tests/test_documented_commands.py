"""Every shell command in README.md, docs/*.md and examples/demo/README.md works as written.

The commands of the ```sh blocks run as a user types them in a second terminal after
`make run`: from a directory laid out like the repository (its own `var/`, so
`$(cat var/admin-key)` reads the key the server saved), with the venv's `bin` on PATH (as
after `source .venv/bin/activate`) and no TENANTWATCH_* variable set. The server is the
demo `make run` starts (examples/demo/run.sh), on the documented ports, inside a private
network namespace (`unshare`), so nothing else on the machine is in the way.

A command passes when it exits 0 and every HTTP answer curl got is below 400 (unless the
document says otherwise, see EXPECTED_STATUS). A failure names the file and line.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT_PATHS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DOCUMENT_PATHS.append(ROOT / "examples" / "demo" / "README.md")

# Commands that are not run, by how they start, with the reason. Keep this list short.
SKIP = {
    "make run": "blocks until Ctrl-C; the test starts the demo as it does (examples/demo/run.sh)",
    "make test": "runs this test suite, this test included",
    "TENANTWATCH_DATABASE_URL=postgresql": "make run on PostgreSQL: blocks, and needs a server",
}
# Commands that keep running (servers): they pass when they print the address they listen
# on, it answers /metrics with 200, and they stop cleanly.
SERVERS = ("python -m examples.demo.saas_app",)
# ... except these, which write something and exit.
ONE_SHOTS = ("python -m examples.demo.saas_app history",)
# The keys below pick commands by a piece of their text that only one command has.
# Commands whose documented answer is an HTTP error status.
EXPECTED_STATUS = {
    "curl http://127.0.0.1:9464/t/acme-corp/health": {200, 503},  # "503 while it lasts"
}
# What the documents say a command shows: a regular expression its output must match.
EXPECTED_OUTPUT = {
    "tenantwatch status": r"enterprise",
    ')" http://127.0.0.1:8080/api/v1/tenants': r'"id":\s*"acme-corp"',
    "the demo tenants' health": r"acme-corp",
    "/health/acme-corp/summary": r'"checks_total":\s*[1-9]',
    "tenantwatch health --tenant acme-corp": r"acme-api",
    "tenantwatch_check_up{": r"tenantwatch_check_up\{",
    "/api/v1/tenants/acme-corp/status": r'"status":\s*"(operational|degraded|partial_outage|major_outage)"',
    "blocks of the backfilled history": r"\b[1-9]\d* blocks, [\d,]+ samples",
}
# Commands that fail today for a known reason being fixed elsewhere; remove once they pass.
XFAIL: dict[str, str] = {}  # documented commands known not to work yet: none

FENCE = re.compile(r"^```(\S*)\s*$")


@dataclass(frozen=True)
class Command:
    file: str  # relative to the repository
    line: int
    text: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def commands_in(path: Path) -> list[Command]:
    """The commands of the ```sh blocks of a Markdown file: one per line, lines ending in a
    backslash joined with the next; blank and comment lines left out."""
    out: list[Command] = []
    in_sh = False
    pending: tuple[int, str] | None = None
    rel = str(path.relative_to(ROOT))
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        fence = FENCE.match(line)
        if fence:
            in_sh = not in_sh and fence.group(1) in ("sh", "bash", "shell")
            continue
        if not in_sh:
            continue
        if pending is not None:
            start, text = pending
            text += "\n" + line
        elif not line.strip() or line.lstrip().startswith("#"):
            continue
        else:
            start, text = number, line
        if line.endswith("\\"):
            pending = (start, text)
            continue
        pending = None
        out.append(Command(rel, start, text.strip()))
    return out


def all_commands() -> list[Command]:
    return [c for path in DOCUMENT_PATHS for c in commands_in(path)]


def starts(command: Command, prefixes: Any) -> str | None:
    return next((p for p in prefixes if command.text.startswith(p)), None)


def having(command: Command, pieces: Any) -> str | None:
    return next((p for p in pieces if p in command.text), None)


def is_server(command: Command) -> bool:
    return starts(command, SERVERS) is not None and starts(command, ONE_SHOTS) is None


def unshare_works() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    probe = ["unshare", "--net", "--map-root-user", "ip", "link", "set", "lo", "up"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


def repository_copy(at: Path) -> Path:
    """A directory laid out like a fresh clone: the repository's files, linked, with the
    venv running this test as `.venv` and an empty `var/`."""
    at.mkdir()
    for entry in ROOT.iterdir():
        if entry.name in ("var", ".venv") or entry.name.startswith((".git", ".", "__")):
            continue
        (at / entry.name).symlink_to(entry)
    (at / ".venv").symlink_to(Path(sys.prefix))
    return at


def terminal_env(root: Path, curl_home: Path) -> dict[str, str]:
    """A second terminal after `source .venv/bin/activate`: no TENANTWATCH_* variable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENANTWATCH_")}
    env["VIRTUAL_ENV"] = str(root / ".venv")
    env["PATH"] = f"{root / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["CURL_HOME"] = str(curl_home)
    env.pop("COLUMNS", None)
    return env


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Run every documented command once, in document order; yield what each did."""
    if not unshare_works():
        if os.environ.get("CI") == "true":
            pytest.fail("unshare --net --map-root-user is required when CI=true")
        pytest.skip("needs `unshare --net --map-root-user` (util-linux) and `ip` (iproute2)")
    base = tmp_path_factory.mktemp("documented")
    root = repository_copy(base / "repo")
    curl_home = base / "curl"
    curl_home.mkdir()
    # every curl prints the status it got on a line of its own, for the test to check
    (curl_home / ".curlrc").write_text('write-out = "\\ncurl-http-status %{http_code}\\n"\n')
    user_env = terminal_env(root, curl_home)
    server_env = {k: v for k, v in user_env.items() if k != "CURL_HOME"}
    runnable = [c for c in all_commands() if not starts(c, SKIP)]
    spec = {
        "root": str(root),
        "user_env": user_env,
        "server_env": server_env,
        "server_log": str(base / "make-run.log"),
        "servers": {c.where: c.text for c in runnable if is_server(c)},
        "commands": {c.where: c.text for c in runnable if not is_server(c)},
    }
    spec_path = base / "spec.json"
    spec_path.write_text(json.dumps(spec))
    results_path = base / "results.json"
    session = ["unshare", "--net", "--map-root-user", sys.executable, "-I"]
    subprocess.run(
        [*session, str(ROOT / "tests" / "docs_session.py"), str(spec_path), str(results_path)],
        cwd=root,
        timeout=1500,
        check=True,
    )
    got: dict[str, Any] = json.loads(results_path.read_text())
    got["__log__"] = (base / "make-run.log").read_text(errors="replace")
    yield got


def test_the_documents_have_commands_and_every_key_picks_one() -> None:
    found = all_commands()
    assert len(found) >= 15
    for prefix in SKIP:
        assert any(c.text.startswith(prefix) for c in found), f"unused skip entry {prefix!r}"
    for piece in [*EXPECTED_STATUS, *EXPECTED_OUTPUT, *XFAIL]:
        picked = [c.where for c in found if piece in c.text]
        assert len(picked) == 1, f"{piece!r} should pick one documented command: {picked}"


def _params() -> list[Any]:
    out = []
    for c in all_commands():
        marks: list[Any] = []
        if reason := starts(c, SKIP):
            marks.append(pytest.mark.skip(reason=SKIP[reason]))
        elif key := having(c, XFAIL):
            marks.append(pytest.mark.xfail(reason=XFAIL[key], strict=False))
        out.append(pytest.param(c, id=c.where, marks=marks))
    return out


@pytest.mark.parametrize("command", _params())
def test_the_documented_command_works(results: dict[str, Any], command: Command) -> None:
    demo = results.get("__demo__", {})
    if "error" in demo:
        pytest.fail(f"{demo['error']}:\n{results['__log__'][-3000:]}")
    got = results[command.where]
    report = (
        f"{command.where}: `{command.text}` exited {got['rc']}\n"
        f"stdout:\n{got['stdout'][-2000:]}\nstderr:\n{got['stderr'][-2000:]}"
    )
    assert got["rc"] == 0, report
    allowed = EXPECTED_STATUS.get(having(command, EXPECTED_STATUS) or "")
    for status in got["http"]:
        ok = status in allowed if allowed else 200 <= status < 400
        assert ok, f"{command.where}: `{command.text}` got HTTP {status}\n{report}"
    if expected := having(command, EXPECTED_OUTPUT):
        shows = re.search(EXPECTED_OUTPUT[expected], got["stdout"])
        assert shows, f"{command.where}: `{command.text}` does not show what it documents\n{report}"

"""Run documented commands as a user would, inside a private network namespace.

Started by tests/test_documented_commands.py as
`unshare --net --map-root-user python tests/docs_session.py SPEC RESULTS`, so the demo
listens on the ports the documents name (8080, 9464, 2525) without meeting anything else on
this machine. SPEC (JSON) gives the directory laid out like the repository, the commands
that keep running (servers: checked to start, then stopped) and the commands to run one
by one, in a second terminal's environment, once `examples/demo/run.sh` (what `make run`
starts after installing) serves. RESULTS (JSON) gets what each command did.

Standard library only: this runs as a plain script.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

SERVER = "http://127.0.0.1:8080"
APP = "http://127.0.0.1:9464"
ADDRESS = re.compile(r"listening on (https?://[\w.:\[\]-]+)")
STATUS_LINE = re.compile(r"^curl-http-status (\d{3})$", re.MULTILINE)


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 (loopback only)
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return None


def stop(proc: subprocess.Popen[Any], sig: int = signal.SIGINT) -> int:
    """Stop a process started in its own session as Ctrl-C would, then harder."""
    for signum, wait in ((sig, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, signum)
        except ProcessLookupError:
            break
        try:
            return proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    return proc.wait()


def run_server_command(cmd: str, root: Path, env: dict[str, str]) -> dict[str, Any]:
    """Start a command that serves until stopped; it passes when it prints the address it
    listens on within 60 s, that address answers /metrics with 200, and it stops cleanly
    on SIGTERM."""
    proc = subprocess.Popen(
        ["bash", "-c", cmd],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True)
    reader.start()
    found = None
    deadline = time.monotonic() + 60
    while found is None and time.monotonic() < deadline and proc.poll() is None:
        found = next((m for line in list(lines) if (m := ADDRESS.search(line))), None)
        time.sleep(0.1)
    status = http_status(found.group(1) + "/metrics") if found else None
    alive = proc.poll() is None
    code = stop(proc, signal.SIGTERM)
    reader.join(timeout=10)
    ok = found is not None and status == 200 and alive and code == 0
    return {
        "rc": 0 if ok else 1,
        "stdout": "".join(lines),
        "stderr": f"address printed: {found.group(1) if found else None}; GET /metrics: "
        f"{status}; still running then: {alive}; exit code after SIGTERM: {code}",
        "http": [],
    }


# what bash sets by itself: not carried from one command to the next
_SHELL_OWN = frozenset({"_", "SHLVL", "PWD", "OLDPWD"})


def run_command(cmd: str, root: Path, env: dict[str, str]) -> dict[str, Any]:
    """Run one command as the next line typed in the same terminal: what it exports (an
    `export AMTOOL=...`, `source .venv/bin/activate`) stays in `env` for the next ones."""
    dump = root / ".docs-session-env"
    script = f'{cmd}\n__rc=$?\nenv -0 > "{dump}"\nexit $__rc'
    try:
        done = subprocess.run(
            ["bash", "-c", script],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        return {"rc": -1, "stdout": str(exc.stdout), "stderr": "timed out after 180 s", "http": []}
    if done.returncode == 0 and dump.exists():
        pairs = (item.split("=", 1) for item in dump.read_text().split("\0") if "=" in item)
        kept = {k: v for k, v in pairs if k not in _SHELL_OWN}
        env.clear()
        env.update(kept)
    dump.unlink(missing_ok=True)
    return {
        "rc": done.returncode,
        "stdout": done.stdout,
        "stderr": done.stderr,
        "http": [int(code) for code in STATUS_LINE.findall(done.stdout)],
    }


def start_demo(root: Path, env: dict[str, str], log: Path) -> subprocess.Popen[Any]:
    """`make run` without its install step (done already, and this namespace has no
    network): examples/demo/run.sh, until the server is ready and the admin key saved."""
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["bash", "examples/demo/run.sh"],
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"make run's server exited with {proc.returncode}")
        ready = http_status(SERVER + "/health/ready") == 200
        if ready and http_status(APP + "/health") and (root / "var" / "admin-key").exists():
            return proc
        time.sleep(0.3)
    stop(proc)
    raise RuntimeError("make run's server was not ready within 120 s")


def main(spec_path: str, results_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    root = Path(spec["root"])
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    results: dict[str, Any] = {}
    for key, cmd in spec["servers"].items():
        results[key] = run_server_command(cmd, root, spec["user_env"])
    log = Path(spec["server_log"])
    try:
        demo = start_demo(root, spec["server_env"], log)
    except RuntimeError as exc:
        results["__demo__"] = {"error": str(exc)}
        Path(results_path).write_text(json.dumps(results))
        return 0
    try:
        terminal = dict(spec["user_env"])  # one terminal for every command, in order
        for key, cmd in spec["commands"].items():
            results[key] = run_command(cmd, root, terminal)
    finally:
        results["__demo__"] = {"exit_code": stop(demo)}
    Path(results_path).write_text(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))

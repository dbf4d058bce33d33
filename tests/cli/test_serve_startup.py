from __future__ import annotations

from pathlib import Path

from tenantwatch.cli.serve import save_key


def test_the_key_file_is_private_even_when_it_existed_before(tmp_path: Path) -> None:
    path = tmp_path / "admin-key"
    path.write_text("old\n")
    path.chmod(0o644)
    assert save_key(path, "tw_new") is None
    assert path.read_text() == "tw_new\n"
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_key_that_cannot_be_written_says_why(tmp_path: Path) -> None:
    blocker = tmp_path / "notadir"
    blocker.write_text("")
    problem = save_key(blocker / "admin-key", "tw_x")
    assert problem is not None and "Error" in problem


def test_a_busy_port_is_reported_before_anything_starts() -> None:
    import socket

    from tenantwatch.cli.serve import port_problem

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert port_problem("127.0.0.1", port) is not None
    assert port_problem("127.0.0.1", port) is None

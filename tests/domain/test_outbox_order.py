"""Which queued notification of a group a newer one supersedes (state, acknowledge, notice)."""

from __future__ import annotations

from tenantwatch.domain.outbox_order import Queued, order_key, superseded, superseded_by


def state(i: int, status: str = "firing", progress: str = "waiting") -> Queued:
    return Queued(i, "state", status, progress)  # type: ignore[arg-type]


def ack(i: int, progress: str = "waiting") -> Queued:
    return Queued(i, "acknowledge", "acknowledged", progress)  # type: ignore[arg-type]


def notice(i: int) -> Queued:
    return Queued(i, "notice", "firing")


def test_the_newest_state_supersedes_every_older_waiting_state() -> None:
    assert superseded([state(1), state(2), state(3, "resolved")]) == {1: 3, 2: 3}
    assert superseded([state(3, "resolved"), state(1), state(2)]) == {1: 3, 2: 3}  # by id


def test_a_state_in_flight_is_not_superseded_and_the_newer_waits() -> None:
    assert superseded([state(1, progress="sending"), state(2, "resolved")]) == {}


def test_an_acknowledge_keeps_the_trigger_before_it() -> None:
    # trigger, acknowledge, new trigger: PagerDuty drops an acknowledge before its trigger
    assert superseded([state(1), ack(2), state(3)]) == {}
    assert superseded([state(1), state(2), ack(3), state(4)]) == {1: 2}


def test_a_resolve_supersedes_an_acknowledge_and_what_it_acknowledged() -> None:
    assert superseded([state(1), ack(2), state(3, "resolved")]) == {1: 3, 2: 3}
    assert superseded([ack(1, "sending"), state(2), state(3, "resolved")]) == {2: 3}


def test_nothing_supersedes_an_acknowledge_but_a_resolve() -> None:
    assert superseded([ack(1), ack(2), state(3)]) == {}


def test_notices_are_never_superseded_and_supersede_nothing() -> None:
    assert superseded([notice(1), notice(2), state(3, "resolved")]) == {}
    assert superseded([state(1), notice(2)]) == {}


def test_a_dead_state_is_stale_once_a_newer_state_exists_whatever_its_progress() -> None:
    assert superseded_by(state(1, progress="done"), [state(2, progress="done")]) == 2
    # an acknowledge already sent pins nothing any more
    assert superseded_by(state(1), [ack(2, "done"), state(3, progress="done")]) == 3
    assert superseded_by(state(1), [ack(2, "sending"), state(3, progress="sending")]) is None
    assert superseded_by(ack(1), [state(2, progress="done")]) is None
    assert superseded_by(ack(1), [state(2, "resolved", progress="done")]) == 2
    assert superseded_by(notice(1), [state(2, "resolved")]) is None


def test_order_keys_separate_receivers_integrations_and_groups() -> None:
    keys = {
        order_key("team", "webhook/0", "{}:{a}"),
        order_key("team", "webhook/1", "{}:{a}"),
        order_key("ops", "webhook/0", "{}:{a}"),
        order_key("team", "webhook/0", "{}:{b}"),
    }
    assert len(keys) == 4 and None not in keys
    assert order_key("team", "webhook/0", None) is None

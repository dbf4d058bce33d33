"""Order within an alert group: which queued notification a newer one makes pointless.

Alertmanager runs one pipeline per group and receiver, so a flush that is still retrying
is replaced by the next one and a receiver's last message is the group's newest state.
The outbox keeps that promise per order key (receiver, integration, group key): it sends
at most the oldest unsent notification of a key, and a newer notification supersedes an
older one still waiting, by role:

- `state`: a group's flush (Alertmanager's firing/resolved payload, a PagerDuty trigger or
  resolve). It carries the group's whole state, so it supersedes older waiting states.
- `acknowledge`: a PagerDuty acknowledge. It needs the trigger before it: a state after
  it does not supersede the states before it, and it is kept until sent, except that a
  resolve supersedes it (nothing is left to acknowledge).
- `notice`: a message of its own (a flap page or digest, an escalation step); never
  superseded, and supersedes nothing: it waits its turn.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Role = Literal["state", "acknowledge", "notice"]
ROLES: tuple[Role, ...] = ("state", "acknowledge", "notice")
Progress = Literal["waiting", "sending", "done"]


@dataclass(frozen=True, slots=True)
class Queued:
    """A notification of one order key as ordering sees it.

    `progress`: waiting (queued, not in flight; it may be superseded), sending (in
    flight), or done (sent or dead).
    """

    id: int
    role: str
    alert_status: str
    progress: Progress = "waiting"


def order_key(receiver: str, integration: str, group_key: str | None) -> str | None:
    """The key notifications are ordered by: one per receiver, integration and group.

    None for a notification without a group key: it is ordered with nothing.
    """
    if group_key is None:
        return None
    raw = f"{receiver}\x00{integration}\x00{group_key}"  # names hold no NUL (config YAML)
    return hashlib.sha256(raw.encode()).hexdigest()


def superseded(group: Iterable[Queued]) -> dict[int, int]:
    """For one order key's notifications, map each waiting one that a newer one makes
    pointless to the id of that newer one; the others are not in the map.

    Notifications are ordered by id. An acknowledge not yet sent keeps the states before
    it (PagerDuty drops an acknowledge that comes before its trigger).
    """
    out: dict[int, int] = {}
    replacer: Queued | None = None  # the newest state no unsent acknowledge precedes
    for q in sorted(group, key=lambda q: q.id, reverse=True):
        if q.role == "state":
            if replacer is None:
                replacer = q
            elif q.progress == "waiting":
                out[q.id] = replacer.id
        elif q.role == "acknowledge":
            if replacer is not None and replacer.alert_status == "resolved":
                if q.progress == "waiting":
                    out[q.id] = replacer.id
            elif q.progress != "done":
                replacer = None  # the states before it are what it acknowledges
    return out


def superseded_by(older: Queued, newer: Sequence[Queued]) -> int | None:
    """The id of the notification among `newer` (same order key, any progress) that makes
    `older` pointless to send again, or None."""
    waiting = Queued(older.id, older.role, older.alert_status, "waiting")
    return superseded([waiting, *(q for q in newer if q.id > older.id)]).get(older.id)

"""The redis probe against the Redis at 127.0.0.1:6379 and a closed port."""

from __future__ import annotations

import os
import sys

import pytest
import redis.asyncio

from tenantwatch.adapters.probes.redis import RedisConfig, probe_redis, redact_url
from tests.support import free_port

REDIS_URL = os.environ.get("TENANTWATCH_TEST_REDIS", "redis://127.0.0.1:6379/0")


@pytest.fixture
async def redis_url() -> str:
    client = redis.asyncio.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except (OSError, redis.RedisError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis at {REDIS_URL} is required when CI=true: {exc}")
        pytest.skip(f"Redis unreachable at {REDIS_URL}: {exc}")
    finally:
        await client.aclose()
    return REDIS_URL


async def test_it_pings_and_reports_memory_and_clients(redis_url: str) -> None:
    result = await probe_redis(RedisConfig(redis_url, timeout_s=5.0))
    assert result.ok, result.error
    assert result.connected
    assert result.body == b"PONG"
    assert isinstance(result.details["used_memory"], int)
    assert result.details["used_memory"] > 0
    assert result.details["connected_clients"] >= 1
    assert set(result.phases) == {"connect", "processing"}


async def test_it_reports_a_closed_port_as_refused() -> None:
    result = await probe_redis(RedisConfig(f"redis://127.0.0.1:{free_port()}/0", 2.0))
    assert not result.ok
    assert not result.connected
    assert result.error == "connection refused"


async def test_it_keeps_the_password_out_of_errors_and_details() -> None:
    url = f"redis://:s3cret-pw@127.0.0.1:{free_port()}/0"
    cfg = RedisConfig(url, 2.0)
    result = await probe_redis(cfg)
    assert not result.ok
    assert "s3cret-pw" not in f"{result.error} {result.details} {cfg!r}"
    assert result.details["url"].startswith("redis://:***@127.0.0.1:")


def test_it_redacts_only_the_password() -> None:
    assert redact_url("redis://user:pw@h:6379/1") == "redis://user:***@h:6379/1"
    assert redact_url("redis://h:6379") == "redis://h:6379"


def test_it_rejects_a_url_that_is_not_redis() -> None:
    with pytest.raises(ValueError, match=r"not a Redis URL; write it as redis://") as info:
        RedisConfig("http://:s3cret-pw@h:6379")
    assert "s3cret-pw" not in str(info.value)


async def test_it_reports_a_rejected_login_without_the_password(redis_url: str) -> None:
    host = redis_url.split("://", 1)[1].split("/", 1)[0].rsplit("@", 1)[-1]
    result = await probe_redis(RedisConfig(f"redis://ghost_tw:Zq9-secret@{host}/0", 5.0))
    assert not result.ok
    assert not result.connected
    assert result.error is not None
    assert result.error.startswith("authentication failed: ")
    assert "Zq9-secret" not in f"{result.error} {result.details}"


async def test_without_the_redis_package_the_check_fails_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)
    result = await probe_redis(RedisConfig("redis://127.0.0.1:6379/0", timeout_s=1.0))
    assert not result.ok
    assert result.error == (
        "A redis check needs the redis package, which is not installed; "
        "install it with: pip install 'tenantwatch[redis]'"
    )

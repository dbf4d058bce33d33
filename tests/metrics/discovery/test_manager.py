"""The discovery manager: every job's groups handed on debounced, static_configs included,
and a reload that keeps unchanged providers running."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tenantwatch.config.discovery_model import HttpSDConfig
from tenantwatch.config.metrics_model import ScrapeConfig, StaticConfig
from tenantwatch.metrics.discovery.jobs import SdConfig, provider_configs, static_groups
from tenantwatch.metrics.discovery.manager import DiscoveryManager
from tenantwatch.metrics.discovery.provider import Provider, Send, StaticProvider
from tenantwatch.metrics.target_groups import TargetGroup
from tests.metrics.discovery.support import DEBOUNCE, Updates, eventually


class Scripted:
    """A provider the test drives: `push` sends groups; counts its starts and stops."""

    def __init__(self, url: str, log: list[str]) -> None:
        self.url = url
        self.log = log
        self.send: Send | None = None

    async def run(self, send: Send) -> None:
        self.send = send
        self.log.append(f"start {self.url}")
        try:
            await asyncio.Event().wait()
        finally:
            self.log.append(f"stop {self.url}")

    def push(self, *groups: TargetGroup) -> None:
        assert self.send is not None
        self.send(groups)


class Factory:
    def __init__(self) -> None:
        self.log: list[str] = []
        self.providers: dict[str, Scripted] = {}

    def __call__(self, config: SdConfig) -> Provider:
        if isinstance(config, HttpSDConfig):
            provider = Scripted(config.url, self.log)
            self.providers[config.url] = provider
            return provider
        assert isinstance(config, tuple)
        return StaticProvider(static_groups(config))


def sd_job(name: str, *urls: str) -> ScrapeConfig:
    return ScrapeConfig(job_name=name, http_sd_configs=[HttpSDConfig(url=u) for u in urls])


def target(address: str) -> tuple[tuple[str, str], ...]:
    return (("__address__", address),)


@pytest.fixture
async def factory() -> AsyncIterator[Factory]:
    yield Factory()


@pytest.fixture
async def manager(factory: Factory) -> AsyncIterator[tuple[DiscoveryManager, Updates]]:
    updates = Updates()
    m = DiscoveryManager(updates, debounce=DEBOUNCE, factory=factory)
    yield m, updates
    await m.stop()


async def test_static_configs_are_a_provider_too(
    manager: tuple[DiscoveryManager, Updates],
) -> None:
    m, updates = manager
    job = ScrapeConfig(
        job_name="static",
        static_configs=[StaticConfig(targets=["a:9100", "b:9100"], labels={"env": "prod"})],
    )
    await m.apply([job, ScrapeConfig(job_name="empty")])
    await eventually(lambda: "static" in updates.latest and "empty" in updates.latest)
    assert updates.latest["static"] == [
        TargetGroup("0", (target("a:9100"), target("b:9100")), (("env", "prod"),))
    ]
    assert updates.latest["empty"] == []


async def test_a_burst_of_changes_is_handed_on_at_most_once_per_debounce(
    factory: Factory,
) -> None:
    updates = Updates()
    m = DiscoveryManager(updates, debounce=0.3, factory=factory)
    try:
        await m.apply([sd_job("app", "http://sd/a")])
        await eventually(lambda: len(updates.calls) == 1)  # the first update goes at once
        provider = factory.providers["http://sd/a"]
        for i in range(50):
            provider.push(TargetGroup("http://sd/a:0", (target(f"a:{9000 + i}"),)))
        await asyncio.sleep(0.1)
        assert len(updates.calls) == 1
        await eventually(lambda: len(updates.calls) == 2)
        assert updates.addresses("app") == {"a:9049"}
    finally:
        await m.stop()


async def test_a_jobs_groups_combine_all_its_providers_by_source(
    manager: tuple[DiscoveryManager, Updates], factory: Factory
) -> None:
    m, updates = manager
    await m.apply([sd_job("app", "http://sd/a", "http://sd/b")])
    await eventually(lambda: len(factory.providers) == 2)
    factory.providers["http://sd/a"].push(TargetGroup("x", (target("a:1"),)))
    factory.providers["http://sd/b"].push(TargetGroup("x", (target("b:1"),)))
    await eventually(lambda: updates.addresses("app") == {"a:1", "b:1"})
    factory.providers["http://sd/a"].push(TargetGroup("x", ()))
    await eventually(lambda: updates.addresses("app") == {"b:1"})


async def test_a_reload_keeps_unchanged_providers_and_their_groups(
    manager: tuple[DiscoveryManager, Updates], factory: Factory
) -> None:
    m, updates = manager
    await m.apply([sd_job("app", "http://sd/a"), sd_job("old", "http://sd/o")])
    await eventually(lambda: len(factory.providers) == 2)
    factory.providers["http://sd/a"].push(TargetGroup("x", (target("a:1"),)))
    await eventually(lambda: updates.addresses("app") == {"a:1"})

    await m.apply([sd_job("app", "http://sd/a", "http://sd/n")])
    await eventually(lambda: "start http://sd/n" in factory.log)
    assert factory.log.count("start http://sd/a") == 1
    assert "stop http://sd/a" not in factory.log
    assert "stop http://sd/o" in factory.log
    await eventually(lambda: updates.latest.get("old") == [])  # a removed job hears so once
    factory.providers["http://sd/n"].push(TargetGroup("y", (target("n:1"),)))
    await eventually(lambda: updates.addresses("app") == {"a:1", "n:1"})


async def test_a_changed_section_restarts_its_provider(
    manager: tuple[DiscoveryManager, Updates], factory: Factory
) -> None:
    m, _ = manager
    await m.apply([sd_job("app", "http://sd/a")])
    await eventually(lambda: "start http://sd/a" in factory.log)
    changed = ScrapeConfig(
        job_name="app",
        http_sd_configs=[HttpSDConfig(url="http://sd/a", refresh_interval=10)],
    )
    await m.apply([changed])
    await eventually(lambda: factory.log.count("start http://sd/a") == 2)
    assert "stop http://sd/a" in factory.log


async def test_a_failing_provider_is_restarted(factory: Factory) -> None:
    starts: list[int] = []

    class Failing:
        async def run(self, send: Send) -> None:
            starts.append(1)
            raise RuntimeError("boom")

    updates = Updates()
    m = DiscoveryManager(
        updates, debounce=DEBOUNCE, factory=lambda config: Failing(), restart_delay=0.01
    )
    try:
        await m.apply([sd_job("app", "http://sd/a")])
        await eventually(lambda: len(starts) >= 3)
    finally:
        await m.stop()


async def test_a_changed_token_restarts_the_provider_and_stays_out_of_reprs(
    manager: tuple[DiscoveryManager, Updates], factory: Factory
) -> None:
    m, _ = manager
    first = ScrapeConfig(
        job_name="app", http_sd_configs=[HttpSDConfig(url="http://sd/a", bearer_token="one")]
    )
    second = ScrapeConfig(
        job_name="app", http_sd_configs=[HttpSDConfig(url="http://sd/a", bearer_token="two")]
    )
    keys = list(provider_configs(first)) + list(provider_configs(second))
    assert len(set(keys)) == 3 and not any("one" in repr(k) for k in keys)
    await m.apply([first])
    await eventually(lambda: "start http://sd/a" in factory.log)
    await m.apply([second])
    await eventually(lambda: factory.log.count("start http://sd/a") == 2)

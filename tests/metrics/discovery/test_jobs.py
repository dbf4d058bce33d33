"""A job's providers, keyed so that a key changes exactly when its section does."""

from __future__ import annotations

from tenantwatch.config.discovery_model import FileSDConfig, HttpSDConfig
from tenantwatch.config.metrics_model import ScrapeConfig, StaticConfig
from tenantwatch.metrics.discovery.jobs import provider_configs, static_groups
from tenantwatch.metrics.target_groups import TargetGroup


def test_static_configs_become_groups_sourced_by_index() -> None:
    groups = static_groups(
        [StaticConfig(targets=["a:1"], labels={"env": "prod"}), StaticConfig(targets=[])]
    )
    assert groups == [
        TargetGroup("0", ((("__address__", "a:1"),),), (("env", "prod"),)),
        TargetGroup("1", ()),
    ]


def test_every_job_has_a_static_provider_and_one_per_section() -> None:
    job = ScrapeConfig(
        job_name="app",
        file_sd_configs=[FileSDConfig(files=["a.yml"]), FileSDConfig(files=["b.yml"])],
        http_sd_configs=[HttpSDConfig(url="http://sd/x")],
    )
    assert [k.kind for k in provider_configs(job)] == ["static", "file", "file", "http"]
    assert [k.kind for k in provider_configs(ScrapeConfig(job_name="empty"))] == ["static"]


def test_a_key_changes_with_its_section_and_its_secrets_but_never_shows_them() -> None:
    def key(**http: object) -> object:
        job = ScrapeConfig(
            job_name="app", http_sd_configs=[HttpSDConfig(url="http://sd/x", **http)]
        )
        return list(provider_configs(job))[1]

    assert key(bearer_token="one") == key(bearer_token="one")
    assert key(bearer_token="one") != key(bearer_token="two")
    assert key(refresh_interval=30) != key()
    assert "one" not in repr(key(bearer_token="one"))

"""When a config sync must refuse: another file than the server's, or one that removes everything."""

from __future__ import annotations

from tenantwatch.domain.config_source import ConfigSource, source_refusal, wipe_refusal

DEMO = ConfigSource("/srv/demo/tenantwatch.yml", "aa" * 32)


def test_a_database_that_never_recorded_a_file_takes_any() -> None:
    assert source_refusal(None, ConfigSource()) is None
    assert source_refusal(None, DEMO) is None
    assert source_refusal(ConfigSource(None, None), DEMO) is None


def test_the_same_path_with_edited_text_is_just_an_edit() -> None:
    assert source_refusal(DEMO, ConfigSource(DEMO.path, "bb" * 32)) is None


def test_the_same_text_at_another_path_is_the_same_config() -> None:
    assert source_refusal(DEMO, ConfigSource("/etc/tenantwatch.yml", DEMO.sha256)) is None


def test_no_file_against_a_recorded_one_says_which_file_to_pass() -> None:
    problem = source_refusal(DEMO, ConfigSource())
    assert problem is not None
    assert "no config file was given" in problem
    assert "--config /srv/demo/tenantwatch.yml" in problem
    assert "\n" not in problem


def test_another_file_is_refused_and_config_apply_is_named() -> None:
    problem = source_refusal(DEMO, ConfigSource("/tmp/other.yml", "cc" * 32))
    assert problem is not None
    assert "not /tmp/other.yml" in problem
    assert "tenantwatch config apply /tmp/other.yml" in problem


def test_removing_every_check_and_releasing_every_tenant_asks_for_force() -> None:
    problem = wipe_refusal(["acme", "globex"], [], ["acme-api", "globex-api"], [])
    assert problem is not None
    assert "all 2 checks" in problem and "all 2 tenants" in problem
    assert "--force" in problem


def test_a_wholesale_swap_of_ids_also_asks_for_force() -> None:
    assert wipe_refusal(["acme"], ["initech"], ["acme-api"], ["initech-api"]) is not None


def test_keeping_one_tenant_or_one_check_is_an_ordinary_sync() -> None:
    assert wipe_refusal(["acme", "globex"], ["acme"], ["a", "b"], []) is None
    assert wipe_refusal(["acme"], [], ["a", "b"], ["b"]) is None


def test_nothing_declared_before_means_nothing_to_wipe() -> None:
    assert wipe_refusal([], [], [], []) is None
    assert wipe_refusal([], ["acme"], [], ["a"]) is None

"""parse_config and load_config: every problem reported as file:line: message."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import pytest

from tenantwatch.config.errors import ConfigError
from tenantwatch.config.model import Config
from tenantwatch.config.yaml_lines import load_yaml
from tenantwatch.configuration import load_config, parse_config
from tenantwatch.domain.tenants import TenantStatus

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo" / "tenantwatch.yml"
FILE = "tw.yml"


def problems(text: str, env: Mapping[str, str] | None = None) -> list[str]:
    """Return the file:line: message lines parse_config reports for text."""
    with pytest.raises(ConfigError) as info:
        parse_config(text, FILE, env or {})
    assert str(info.value) == "\n".join(str(i) for i in info.value.issues)
    return [str(issue) for issue in info.value.issues]


def tenant_yaml(*extra: str, name: str = "Acme", tier: str = "basic") -> str:
    """A one-tenant config: id on line 2, name on 3, tier on 4, extra lines from 5."""
    lines = ["tenants:", "  - id: acme", f"    name: {name}", f"    tier: {tier}"]
    return "\n".join([*lines, *(f"    {e}" for e in extra)]) + "\n"


# --- a valid config ---------------------------------------------------------------------


def test_a_valid_config_gives_its_tenants_and_tiers() -> None:
    config = parse_config(
        "tiers:\n"
        "  gold:\n"
        "    base: enterprise\n"
        "    check_interval: 15s\n"
        "tenants:\n"
        "  - id: acme\n"
        "    name: Acme\n"
        "    tier: gold\n"
        "    timezone: Europe/Berlin\n"
        "    labels: {region: eu}\n"
        "    status: suspended\n"
        "    sla_overrides:\n"
        "      availability_percentage: 99.95\n",
        FILE,
        {},
    )
    [tenant] = config.tenants
    assert (tenant.id, tenant.name, tenant.tier) == ("acme", "Acme", "gold")
    assert tenant.timezone == "Europe/Berlin"
    assert tenant.labels == {"region": "eu"}
    assert tenant.status is TenantStatus.SUSPENDED
    assert tenant.sla_overrides.given() == {"availability_percentage": Decimal("99.95")}
    assert config.custom_tiers()["gold"].check_interval_seconds == 15.0


@pytest.mark.parametrize("text", ["", "\n\n", "# nothing configured yet\n"])
def test_an_empty_file_is_a_valid_empty_config(text: str) -> None:
    assert parse_config(text, FILE, {}) == Config()


def test_an_empty_file_on_disk_is_a_valid_empty_config(tmp_path: Path) -> None:
    path = tmp_path / "tenantwatch.yml"
    path.write_text("")
    config = load_config(path, {})
    assert config.tenants == []
    assert config.tiers == {}


# --- the demo config --------------------------------------------------------------------


def test_the_demo_config_loads_without_error() -> None:
    config = load_config(DEMO, {})
    assert len(config.tenants) >= 3


def test_the_demo_config_has_tenants_in_every_builtin_tier() -> None:
    tiers = {tenant.tier for tenant in load_config(DEMO, {}).tenants}
    assert {"basic", "professional", "enterprise"} <= tiers


# --- unknown keys and wrong types -------------------------------------------------------


def test_it_reports_the_line_of_an_unknown_key() -> None:
    assert problems(tenant_yaml("timezone: UTC", "colour: red")) == [
        "tw.yml:6: unknown key 'colour'; check its spelling and indentation"
    ]


def test_it_reports_an_unknown_top_level_section() -> None:
    assert problems("tiers: {}\ntenant:\n  - id: acme\n") == [
        "tw.yml:2: unknown key 'tenant'; check its spelling and indentation"
    ]


def test_it_reports_an_unknown_key_deep_inside_a_tier() -> None:
    text = "tiers:\n  gold:\n    sla:\n      availabilty_percentage: 99.95\n"
    assert problems(text) == [
        "tw.yml:4: unknown key 'availabilty_percentage'; check its spelling and indentation"
    ]


def test_it_reports_a_value_of_the_wrong_type_with_its_path() -> None:
    assert problems(tenant_yaml("labels: 5")) == [
        "tw.yml:5: tenants.0.labels: Input should be a valid dictionary"
    ]


def test_it_reports_a_non_numeric_sla_value_with_its_path() -> None:
    assert problems(tenant_yaml("sla_overrides:", "  response_time_ms: fast")) == [
        "tw.yml:6: tenants.0.sla_overrides.response_time_ms: "
        "Input should be a valid integer, unable to parse string as an integer"
    ]


def test_it_reports_a_list_where_sections_are_expected() -> None:
    assert problems("- acme\n- globex\n") == ["tw.yml:1: the config must be a mapping of sections"]


def test_it_reports_an_invalid_duration_with_the_fix() -> None:
    assert problems("tiers:\n  gold:\n    check_interval: 5 minutes\n") == [
        "tw.yml:3: tiers.gold.check_interval: invalid duration '5 minutes'; write a number "
        "and a unit (ms, s, m, h, d, w, y), e.g. '30s', '5m' or '1h30m'"
    ]


def test_it_reports_a_duration_of_the_wrong_type_once() -> None:
    reported = problems("tiers:\n  gold:\n    check_interval: [15s]\n")
    assert len(reported) == 1
    assert reported[0].startswith("tw.yml:3: tiers.gold.check_interval: ")


# --- tiers and tenants ------------------------------------------------------------------


def test_it_reports_an_unknown_tier_on_the_line_of_the_tier() -> None:
    assert problems(tenant_yaml("timezone: UTC", tier="gold")) == [
        "tw.yml:4: tenant 'acme': unknown tier 'gold'; use one of basic, enterprise, "
        "professional or declare it under 'tiers:'"
    ]


def test_the_unknown_tier_message_lists_the_custom_tiers_too() -> None:
    text = "tiers:\n  silver: {}\ntenants:\n  - id: acme\n    name: Acme\n    tier: gold\n"
    assert problems(text) == [
        "tw.yml:6: tenant 'acme': unknown tier 'gold'; use one of basic, enterprise, "
        "professional, silver or declare it under 'tiers:'"
    ]


def test_a_tenant_may_use_a_custom_tier_declared_in_the_file() -> None:
    text = "tiers:\n  gold:\n    base: enterprise\n" + tenant_yaml(tier="gold")
    assert parse_config(text, FILE, {}).tenants[0].tier == "gold"


def test_it_reports_an_unknown_base_tier() -> None:
    assert problems("tiers:\n  gold:\n    base: platinum\n") == [
        "tw.yml:3: tiers.gold.base: unknown base tier 'platinum'; "
        "choose one of basic, enterprise, professional"
    ]


def test_it_reports_a_duplicate_tenant_id_on_the_line_of_the_second() -> None:
    text = (
        "tenants:\n"
        "  - id: acme\n"
        "    name: Acme\n"
        "    tier: basic\n"
        "  - name: Acme again\n"
        "    tier: basic\n"
        "    id: acme\n"
    )
    assert problems(text) == ["tw.yml:7: duplicate tenant id 'acme'; each tenant is declared once"]


def test_it_reports_an_invalid_tenant_id_slug() -> None:
    text = "tenants:\n  - name: Acme\n    id: Acme_Corp\n    tier: basic\n"
    assert problems(text) == [
        "tw.yml:3: tenants.0.id: invalid tenant id 'Acme_Corp': use 1-63 lowercase letters, "
        "digits and '-', starting and ending with a letter or digit (e.g. 'acme-corp')"
    ]


def test_it_reports_an_unknown_timezone() -> None:
    assert problems(tenant_yaml("labels: {}", "timezone: Mars/Olympus")) == [
        "tw.yml:6: tenants.0.timezone: unknown timezone 'Mars/Olympus'; "
        "use an IANA name such as 'Europe/Berlin' or 'UTC'"
    ]


def test_it_reports_an_invalid_label_name() -> None:
    assert problems(tenant_yaml("labels: {__region: eu}")) == [
        "tw.yml:5: tenants.0.labels: invalid label name '__region': use letters, digits "
        "and '_', not starting with a digit or '__'"
    ]


def test_it_reports_a_missing_required_key_on_the_line_of_its_tenant() -> None:
    text = (
        "tenants:\n  - id: acme\n    name: Acme\n    tier: basic\n  - id: globex\n    tier: basic\n"
    )
    assert problems(text) == ["tw.yml:5: missing required key 'name'"]


# --- YAML problems ----------------------------------------------------------------------


def test_it_reports_a_duplicate_yaml_key_on_the_line_of_the_second() -> None:
    assert problems(tenant_yaml("timezone: UTC", "name: Acme Corp")) == [
        "tw.yml:6: duplicate key 'name'; each key may appear once"
    ]


def test_it_reports_the_line_of_malformed_yaml_with_a_quoting_hint() -> None:
    assert problems(tenant_yaml("timezone: UTC", name="Acme: the company")) == [
        "tw.yml:3: invalid YAML: mapping values are not allowed here; quote values that "
        "contain ': ' and check the indentation"
    ]


def test_it_reports_tab_indentation_with_a_hint() -> None:
    assert problems("tenants:\n  - id: acme\n\tname: Acme\n") == [
        "tw.yml:3: invalid YAML: found character '\\t' that cannot start any token; "
        "indent with spaces, not tabs"
    ]


def test_it_reports_the_line_of_an_unclosed_bracket() -> None:
    assert problems("tenants:\n  - id: acme\n    labels: {region: eu\n") == [
        "tw.yml:4: invalid YAML: expected ',' or '}', but got '<stream end>'"
    ]


def test_it_rejects_yaml_merge_keys() -> None:
    assert problems(tenant_yaml("<<: {timezone: UTC}")) == [
        "tw.yml:5: YAML merge keys ('<<') are not supported; repeat the keys"
    ]


# --- several problems -------------------------------------------------------------------


def test_it_reports_several_problems_at_once_sorted_by_line() -> None:
    text = (
        "tenants:\n"
        "  - id: Acme\n"  # 2: invalid id
        "    name: Acme\n"
        "    tier: basic\n"
        "    colour: red\n"  # 5: unknown key
        "  - id: globex\n"
        "    name: Globex\n"
        "    tier: basic\n"
        "    tier: enterprise\n"  # 9: duplicate key (found while reading YAML, before the rest)
        "    timezone: Nowhere\n"  # 10: unknown timezone
    )
    assert problems(text) == [
        "tw.yml:2: tenants.0.id: invalid tenant id 'Acme': use 1-63 lowercase letters, "
        "digits and '-', starting and ending with a letter or digit (e.g. 'acme-corp')",
        "tw.yml:5: unknown key 'colour'; check its spelling and indentation",
        "tw.yml:9: duplicate key 'tier'; each key may appear once",
        "tw.yml:10: tenants.1.timezone: unknown timezone 'Nowhere'; "
        "use an IANA name such as 'Europe/Berlin' or 'UTC'",
    ]


def test_it_reports_every_unknown_tier_and_duplicate_together() -> None:
    text = (
        "tenants:\n"
        "  - id: acme\n"
        "    name: Acme\n"
        "    tier: gold\n"
        "  - id: acme\n"
        "    name: Acme again\n"
        "    tier: silver\n"
    )
    assert problems(text) == [
        "tw.yml:4: tenant 'acme': unknown tier 'gold'; use one of basic, enterprise, "
        "professional or declare it under 'tiers:'",
        "tw.yml:5: duplicate tenant id 'acme'; each tenant is declared once",
        "tw.yml:7: tenant 'acme': unknown tier 'silver'; use one of basic, enterprise, "
        "professional or declare it under 'tiers:'",
    ]


def test_it_reports_an_unknown_tier_alongside_a_schema_error_elsewhere() -> None:
    text = (
        "tenants:\n"
        "  - id: acme\n"
        "    name: Acme\n"
        "    tier: basic\n"
        "    colour: red\n"
        "  - id: globex\n"
        "    name: Globex\n"
        "    tier: gold\n"
    )
    assert problems(text) == [
        "tw.yml:5: unknown key 'colour'; check its spelling and indentation",
        "tw.yml:8: tenant 'globex': unknown tier 'gold'; use one of basic, enterprise, "
        "professional or declare it under 'tiers:'",
    ]


# --- ${VAR} expansion -------------------------------------------------------------------


def test_it_expands_a_set_variable() -> None:
    config = parse_config(tenant_yaml(name="${TENANT_NAME}"), FILE, {"TENANT_NAME": "Acme Corp"})
    assert config.tenants[0].name == "Acme Corp"


def test_it_expands_a_variable_inside_a_longer_value() -> None:
    config = parse_config(tenant_yaml(name="Acme ${REGION} office"), FILE, {"REGION": "EU"})
    assert config.tenants[0].name == "Acme EU office"


def test_an_unset_variable_is_named_with_the_default_syntax_as_the_fix() -> None:
    reported = problems(tenant_yaml("sla_overrides:", "  response_time_ms: ${RESPONSE_MS}"))
    assert reported == [
        "tw.yml:6: environment variable RESPONSE_MS is not set; "
        "set it or write ${RESPONSE_MS:-default}"
    ]


def test_an_unset_variable_is_reported_on_its_line_among_other_problems() -> None:
    expected = (
        "tw.yml:3: environment variable TENANT_NAME is not set; "
        "set it or write ${TENANT_NAME:-default}"
    )
    assert expected in problems(tenant_yaml(name="${TENANT_NAME}"))


def test_an_unset_variable_is_reported_without_a_follow_on_type_error() -> None:
    assert problems(tenant_yaml(name="${TENANT_NAME}")) == [
        "tw.yml:3: environment variable TENANT_NAME is not set; "
        "set it or write ${TENANT_NAME:-default}"
    ]


def test_the_default_is_used_when_the_variable_is_unset() -> None:
    config = parse_config(tenant_yaml(name="${TENANT_NAME:-Acme Inc}"), FILE, {})
    assert config.tenants[0].name == "Acme Inc"


def test_the_variable_wins_over_its_default_when_set() -> None:
    config = parse_config(
        tenant_yaml(name="${TENANT_NAME:-Acme Inc}"), FILE, {"TENANT_NAME": "Acme Corp"}
    )
    assert config.tenants[0].name == "Acme Corp"


def test_a_variable_in_a_plain_scalar_becomes_an_int_where_an_int_is_expected() -> None:
    text = tenant_yaml("sla_overrides:", "  response_time_ms: ${RESPONSE_MS}")
    data, _, issues = load_yaml(text, FILE, {"RESPONSE_MS": "600"})
    assert issues == []
    value = data["tenants"][0]["sla_overrides"]["response_time_ms"]
    assert value == 600
    assert type(value) is int
    config = parse_config(text, FILE, {"RESPONSE_MS": "600"})
    assert config.tenants[0].sla_overrides.response_time_ms == 600


def test_a_variable_in_a_plain_scalar_is_typed_like_yaml() -> None:
    assert problems(tenant_yaml(name="${TENANT_NAME}"), {"TENANT_NAME": "123"}) == [
        "tw.yml:3: tenants.0.name: Input should be a valid string"
    ]


@pytest.mark.parametrize("quoted", ['"${TENANT_NAME}"', "'${TENANT_NAME}'"])
def test_a_variable_in_a_quoted_scalar_stays_a_string(quoted: str) -> None:
    text = tenant_yaml(name=quoted)
    data, _, issues = load_yaml(text, FILE, {"TENANT_NAME": "123"})
    assert issues == []
    assert data["tenants"][0]["name"] == "123"
    assert parse_config(text, FILE, {"TENANT_NAME": "123"}).tenants[0].name == "123"


def test_a_double_dollar_is_a_literal_dollar() -> None:
    config = parse_config(tenant_yaml(name="Costs $$5 a month"), FILE, {})
    assert config.tenants[0].name == "Costs $5 a month"


def test_a_double_dollar_stops_a_variable_from_expanding() -> None:
    config = parse_config(tenant_yaml(name="$${TENANT_NAME}"), FILE, {"TENANT_NAME": "Acme"})
    assert config.tenants[0].name == "${TENANT_NAME}"


def test_a_lone_dollar_is_kept() -> None:
    config = parse_config(tenant_yaml(name="Acme $5 plan"), FILE, {})
    assert config.tenants[0].name == "Acme $5 plan"


def test_it_reports_a_malformed_variable_reference() -> None:
    assert problems(tenant_yaml(name="${TENANT_NAME")) == [
        "tw.yml:3: malformed variable reference '${TENANT_NAME'; write ${NAME} or "
        "${NAME:-default}, or $$ for a literal '$'"
    ]


# --- load_config ------------------------------------------------------------------------


def test_load_config_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "tenantwatch.yml"
    path.write_text(tenant_yaml(name="${TENANT_NAME}"))
    assert load_config(path, {"TENANT_NAME": "Acme"}).tenants[0].name == "Acme"


def test_load_config_names_the_file_in_each_problem(tmp_path: Path) -> None:
    path = tmp_path / "tenantwatch.yml"
    path.write_text(tenant_yaml("colour: red"))
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    assert str(info.value) == f"{path}:5: unknown key 'colour'; check its spelling and indentation"


def test_load_config_on_a_missing_file_says_it_is_not_found(tmp_path: Path) -> None:
    path = tmp_path / "missing.yml"
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    assert [str(i) for i in info.value.issues] == [f"{path}:0: file not found"]


def test_load_config_on_a_file_that_is_not_utf8_says_it_cannot_read_it(tmp_path: Path) -> None:
    path = tmp_path / "tenantwatch.yml"
    path.write_bytes(b"tenants:\n  - name: \xff\xfe\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    [issue] = info.value.issues
    assert (issue.file, issue.line) == (str(path), 0)
    assert issue.message.startswith("cannot read file: ")


def test_it_refuses_names_and_label_values_no_database_can_store() -> None:
    text = 'tenants:\n  - id: a\n    name: "A\\0"\n    tier: basic\n    labels: {x: "\\udcff"}\n'
    with pytest.raises(ConfigError) as info:
        parse_config(text, "t.yml", {})
    messages = [str(i) for i in info.value.issues]
    assert any(m.startswith("t.yml:3:") and "NUL" in m for m in messages), messages
    assert any(m.startswith("t.yml:5:") and "not valid Unicode" in m for m in messages), messages


def test_it_reports_an_absurd_number_instead_of_crashing() -> None:
    text = "tenants:\n  - id: a\n    name: A\n    tier: basic\n    sla_overrides:\n" + (
        "      response_time_ms: " + "9" * 5001 + "\n"
    )
    with pytest.raises(ConfigError) as info:
        parse_config(text, "t.yml", {})
    assert str(info.value.issues[0]).startswith("t.yml:6: cannot read value")


def test_sla_targets_in_the_config_have_the_same_limits_as_the_api() -> None:
    text = "tenants:\n  - id: a\n    name: A\n    tier: basic\n    sla_overrides:\n      response_time_ms: 3600001\n"
    with pytest.raises(ConfigError) as info:
        parse_config(text, "t.yml", {})
    assert "t.yml:6:" in str(info.value) and "3600000" in str(info.value)

"""Relabelling as Prometheus' model/relabel applies and validates it."""

from __future__ import annotations

from typing import Any

import pytest

from tenantwatch.metrics.relabel import RelabelError, parse_rule, relabel

BASE = {"a": "foo", "b": "bar", "c": "baz"}


def run(labels: dict[str, str], *rules: dict[str, Any]) -> dict[str, str] | None:
    return relabel(labels, [parse_rule(r) for r in rules])


def test_replace_writes_the_expanded_replacement_when_the_regex_matches() -> None:
    got = run(
        BASE,
        {
            "source_labels": ["a"],
            "regex": "f(.*)",
            "target_label": "d",
            "replacement": "ch${1}-ch${1}",
        },
    )
    assert got == {**BASE, "d": "choo-choo"}


def test_replace_joins_source_labels_with_the_separator_and_a_missing_one_is_empty() -> None:
    got = run(BASE, {"source_labels": ["a", "zz", "b"], "target_label": "d"})
    assert got == {**BASE, "d": "foo;;bar"}


def test_replace_leaves_the_labels_alone_when_the_regex_does_not_match_the_whole_value() -> None:
    assert run(BASE, {"source_labels": ["a"], "regex": "o+", "target_label": "d"}) == BASE


def test_replace_with_an_empty_result_removes_the_target() -> None:
    got = run(
        BASE, {"source_labels": ["a"], "regex": "(f)oo", "target_label": "b", "replacement": ""}
    )
    assert got == {"a": "foo", "c": "baz"}


def test_replace_expands_the_target_label_and_skips_an_invalid_one() -> None:
    named = {"source_labels": ["a"], "regex": "(?P<n>f)(.*)", "target_label": "x_${n}"}
    assert run(BASE, {**named, "replacement": "$2"}) == {**BASE, "x_f": "oo"}
    assert run(BASE, {"source_labels": ["a"], "regex": "(.*)", "target_label": "${1}"}) == {
        **BASE,
        "foo": "foo",
    }
    assert run({"a": "1x"}, {"source_labels": ["a"], "target_label": "${1}"}) == {"a": "1x"}


def test_replace_of_a_name_like_1x_expands_to_nothing_as_go_does() -> None:
    got = run(
        BASE, {"source_labels": ["a"], "regex": "(f)oo", "target_label": "d", "replacement": "$1x"}
    )
    assert got == BASE  # ${1x} names no group: the result is empty, so nothing is written


def test_keep_and_drop_decide_on_the_joined_value() -> None:
    assert run(BASE, {"source_labels": ["a"], "regex": "f.*", "action": "keep"}) == BASE
    assert run(BASE, {"source_labels": ["a"], "regex": "b.*", "action": "keep"}) is None
    assert run(BASE, {"source_labels": ["a"], "regex": "f.*", "action": "drop"}) is None
    assert run(BASE, {"source_labels": ["a", "b"], "regex": "foo;bar", "action": "drop"}) is None


def test_keep_with_the_default_regex_keeps_even_an_empty_value() -> None:
    assert run(BASE, {"source_labels": ["zz"], "action": "keep"}) == BASE


def test_keepequal_and_dropequal_compare_with_the_target_label() -> None:
    same = {"a": "x", "b": "x"}
    assert run(same, {"source_labels": ["a"], "target_label": "b", "action": "keepequal"}) == same
    assert run(BASE, {"source_labels": ["a"], "target_label": "b", "action": "keepequal"}) is None
    assert run(same, {"source_labels": ["a"], "target_label": "b", "action": "dropequal"}) is None
    assert run(BASE, {"source_labels": ["a"], "target_label": "b", "action": "dropequal"}) == BASE


def test_hashmod_is_the_md5_of_the_value_modulo_the_modulus() -> None:
    got = run(
        BASE, {"source_labels": ["c"], "target_label": "d", "modulus": 1000, "action": "hashmod"}
    )
    assert got == {**BASE, "d": "976"}  # Prometheus' own test case


def test_labelmap_copies_matching_labels_under_the_replacement_name() -> None:
    labels = {"__meta_kubernetes_pod_label_tenant_bid": "acme", "__meta_x": "1", "job": "j"}
    got = run(labels, {"regex": "__meta_kubernetes_pod_label_(.+)", "action": "labelmap"})
    assert got == {**labels, "tenant_bid": "acme"}


def test_labeldrop_and_labelkeep_remove_labels_by_name() -> None:
    assert run(BASE, {"regex": "[ab]", "action": "labeldrop"}) == {"c": "baz"}
    assert run(BASE, {"regex": "[ab]", "action": "labelkeep"}) == {"a": "foo", "b": "bar"}


def test_lowercase_and_uppercase_write_the_joined_value() -> None:
    labels = {"a": "FoO", "b": "bAr"}
    got = run(labels, {"source_labels": ["a", "b"], "target_label": "l", "action": "lowercase"})
    assert got == {**labels, "l": "foo;bar"}
    got = run(labels, {"source_labels": ["a"], "target_label": "u", "action": "uppercase"})
    assert got == {**labels, "u": "FOO"}


def test_seed_000s_rule_copies_the_pods_tenant_label_to_tenant_bid() -> None:
    """Seed 000 reads the pod label `tenant` into the target label `tenant_bid` (its
    series get `tenant` from the app's own metrics); tests/metrics/discovery runs the
    seed's whole configuration against a stand-in Kubernetes API."""
    pod = {"__address__": "10.0.0.7:5800", "__meta_kubernetes_pod_label_tenant": "t-42"}
    got = run(
        pod, {"source_labels": ["__meta_kubernetes_pod_label_tenant"], "target_label": "tenant_bid"}
    )
    assert got is not None and got["tenant_bid"] == "t-42"


def test_rules_apply_in_order_and_a_drop_stops_the_rest() -> None:
    rules = (
        {"source_labels": ["a"], "target_label": "d", "replacement": "x"},
        {"source_labels": ["d"], "regex": "x", "action": "drop"},
        {"source_labels": ["a"], "target_label": "e"},
    )
    assert run(BASE, *rules) is None
    assert run(BASE, *rules[:1], *rules[2:]) == {**BASE, "d": "x", "e": "foo"}


def test_the_regex_is_anchored_and_linear_time() -> None:
    assert run({"a": "xfoo"}, {"source_labels": ["a"], "regex": "foo", "action": "keep"}) is None
    hostile = {"source_labels": ["a"], "regex": "(a+)+$", "action": "drop"}
    assert run({"a": "a" * 5000 + "b"}, hostile) == {"a": "a" * 5000 + "b"}


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"action": "explode"}, "unknown relabel action 'explode'"),
        ({"action": "hashmod", "target_label": "d"}, "hashmod requires non-zero modulus"),
        ({"source_labels": ["a"]}, "replace action requires 'target_label' value"),
        ({"target_label": "1bad"}, "'1bad' is invalid 'target_label' for replace action"),
        (
            {"target_label": "x${é}"},
            "is invalid 'target_label' for replace action",
        ),  # Go's \w is ASCII
        ({"action": "lowercase", "target_label": "${1}"}, "invalid 'target_label' for lowercase"),
        (
            {"action": "uppercase", "target_label": "u", "replacement": "x"},
            "'replacement' can not be set for uppercase action",
        ),
        (
            {"action": "labelmap", "replacement": "a-b"},
            "'a-b' is invalid 'replacement' for labelmap",
        ),
        (
            {"action": "keepequal", "target_label": "b", "regex": "x"},
            "keepequal action requires only 'source_labels' and `target_label`",
        ),
        (
            {"action": "labeldrop", "source_labels": ["a"]},
            "labeldrop action requires only 'regex', and no other fields",
        ),
        ({"regex": "(", "target_label": "d"}, "invalid regex '('"),
    ],
)
def test_rules_prometheus_refuses_are_refused_with_its_reason(
    rule: dict[str, Any], message: str
) -> None:
    with pytest.raises(RelabelError) as caught:
        parse_rule(rule)
    assert message in str(caught.value)

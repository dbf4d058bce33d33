"""The check tables hold exactly what the domain's check mapping and row mappings give."""

from __future__ import annotations

from tenantwatch.adapters.db.repos.check_rows import ROLLUP_COLUMNS, STATE_READ
from tenantwatch.adapters.db.tables import check_rollups, check_state, checks
from tenantwatch.domain.check_record import CHECK_FIELDS
from tenantwatch.domain.checks import CheckState, RollupDelta


def test_the_checks_table_has_a_column_for_each_stored_field_of_a_check() -> None:
    assert tuple(c.name for c in checks.c) == CHECK_FIELDS


def test_state_and_rollup_rows_name_the_domains_fields() -> None:
    assert set(STATE_READ) <= {c.name for c in check_state.c}
    assert set(STATE_READ) - {"check_id"} <= set(CheckState.__dataclass_fields__)
    assert set(ROLLUP_COLUMNS) == {c.name for c in check_rollups.c}
    assert set(ROLLUP_COLUMNS) == set(RollupDelta.__dataclass_fields__)

"""Raw samples through a query API (what the SLA engine reads from a remote backend) are
the store's own: every sample of [mint, maxt], its labels and values."""

from __future__ import annotations

from tenantwatch.metrics.backend import EmbeddedBackend
from tenantwatch.metrics.head import Head
from tenantwatch.promql.model import Matcher, labels_of
from tenantwatch.runtime.sla import query_reader


async def test_a_range_selector_reads_every_raw_sample_of_the_window() -> None:
    head = Head()
    for tenant in ("alpha", "bravo"):
        labels = labels_of({"__name__": "tenantwatch_check_up", "tenant": tenant, "check": 'a"b'})
        for i in range(100):
            head.append(labels, 1_000_000 + i * 60_000, float(i % 2))
    read = query_reader(EmbeddedBackend(head))
    matchers = [
        Matcher.of("__name__", "=", "tenantwatch_check_up"),
        Matcher.of("tenant", "=", "alpha"),
        Matcher.of("check", "=", 'a"b'),
    ]
    mint, maxt = 1_000_000 + 10 * 60_000, 1_000_000 + 20 * 60_000
    got = await read(matchers, mint, maxt)
    want = head.select(matchers, mint, maxt)
    assert len(got) == len(want) == 1
    assert got[0].labels == want[0].labels
    assert got[0].ts.tolist() == want[0].ts.tolist()  # both ends included
    assert got[0].ts.tolist()[0] == mint and got[0].ts.tolist()[-1] == maxt
    assert got[0].vals.tolist() == want[0].vals.tolist()

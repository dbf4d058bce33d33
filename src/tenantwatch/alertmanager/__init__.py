"""The Alertmanager-compatible wing: config shape, routing, grouping, dispatch, inhibition,
silences, notification log and payloads. Pure parts take `now` and do no I/O."""

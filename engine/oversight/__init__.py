"""Oversight of running cases against their legal terms: the engine side of the manager console.

- ``hooks``: the read models each transition keeps in its own transaction (message waits, and the
  per-version duration histogram ``step_stats``);
- ``supervision``: the per-step thresholds of the deployed ``supervision`` part (``workflows/supervision.toml``),
  with their citations;
- ``stalled``: which cases stopped moving, why, and since when (the rules and the rows);
- ``stalled_sql``: finding them with the database filtering, sorting, counting and paging;
- ``stats``: the overview, the workload, the weekly trends and the heatmap on the diagram;
- ``exports``: lists as CSV (UTF-8 with BOM) and XLSX, with only fields classified ``general``;
- ``mail``: deadline e-mails (digest, escalation, hour-term alerts) recorded once, then sent;
- ``metrics``: the figures ``/metrics`` exposes, read from the database at scrape time.
"""

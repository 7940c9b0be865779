"""Oversight of running cases against their legal terms: the engine side of the manager console.

- ``hooks``: the read model each transition keeps in its own transaction (message waits);
- ``supervision``: the per-step thresholds of ``workflows/supervision.toml``, with their citations;
- ``stalled``: which cases stopped moving, why, and since when;
- ``stats``: the overview, the workload, the weekly trends and the heatmap on the diagram;
- ``exports``: lists as CSV (UTF-8 with BOM) and XLSX, with only fields classified ``general``;
- ``mail``: deadline e-mails (digest, escalation, hour-term alerts) recorded once, then sent.
"""

"""Benchmarks (``make bench``): the two costs the design is about, measured on moto in one run.

- ``workflow_cost``: Step Functions state transitions and Lambda invocations per claim story, on the
  real ASL (``infra.local.workflow``).
- ``sla_reads``: DynamoDB calls and items one sla_tick reads, for a small and a large table.

Not part of ``make test`` or CI. Figures are reported as ratios measured in the same run.
"""

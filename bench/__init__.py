"""Benchmarks (``make bench``): the two costs the design is about, measured on moto in one run.

- ``workflow_cost``: Step Functions state transitions and Lambda invocations per claim story, on the
  real ASL (``infra.local.workflow``).
- ``sla_scale``: sla_tick at 1 000 / 10 000 / 100 000 claims against a Scan-based tick, the shard
  workers' shares, the local stack's fan-out, and the model sizing shards and workers for AWS.

Not part of ``make test`` or CI. Figures are reported as ratios measured in the same run.
"""

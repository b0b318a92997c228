"""sla_tick at scale: the schedule splits the due index's shards into groups and queues one message per
group; a worker per message (``functions/sla_worker``) runs ``sla.run_tick`` over its group only, with
its own time budget (DESIGN §11, docs/decisions/0055).

Nothing here has to be exactly once: two workers over one group (a redelivered message, two ticks that
overlap) act on each deadline once, because every effect of ``sla.run_tick`` is a conditional write.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aftersales.clock import iso, parse_instant
from aftersales.process import per_process

SQS_BATCH = 10  # entries per SendMessageBatch (the most SQS takes)


@dataclass(frozen=True)
class ShardWork:
    """One worker's share of a tick: the shards of group ``group`` of ``groups``, queued at ``at``."""

    at: datetime
    group: int
    groups: int
    shards: tuple[int, ...]

    def to_json(self) -> str:
        body = {"at": iso(self.at), "group": self.group, "groups": self.groups, "shards": list(self.shards)}
        return json.dumps(body, separators=(",", ":"))

    @classmethod
    def from_json(cls, body: str) -> ShardWork:
        """Parse a queued message; ``ValueError`` when it is not one."""
        try:
            raw = json.loads(body)
            shards = tuple(int(s) for s in raw["shards"])
            work = cls(parse_instant(str(raw["at"])), int(raw["group"]), int(raw["groups"]), shards)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not an sla_tick work message: {exc}") from exc
        if not shards or min(shards) < 0:
            raise ValueError("an sla_tick work message names no shards, or a negative one")
        return work


def shard_groups(shards: int, workers: int) -> list[tuple[int, ...]]:
    """``workers`` groups of the shards ``0..shards-1`` (at most one per shard), shard ``s`` in group
    ``s mod workers``: every shard in exactly one group, group sizes differing by at most one."""
    if shards < 1 or workers < 1:
        raise ValueError("shards and workers must be at least 1")
    count = min(workers, shards)
    return [tuple(range(group, shards, count)) for group in range(count)]


def plan(now: datetime, *, shards: int, workers: int) -> list[ShardWork]:
    groups = shard_groups(shards, workers)
    return [ShardWork(now, index, len(groups), group) for index, group in enumerate(groups)]


@per_process
def _sqs(region: str) -> Any:
    import boto3  # only the schedule's fan-out path needs it

    return boto3.client("sqs", region_name=region)


def fan_out(work: list[ShardWork], *, queue_url: str, region: str) -> None:
    """Queue every group's message. A message SQS refused raises (the schedule's run fails and the
    next minute queues them all again); the ones queued are handled either way."""
    client = _sqs(region)
    for start in range(0, len(work), SQS_BATCH):
        batch = work[start : start + SQS_BATCH]
        answer = client.send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(w.group), "MessageBody": w.to_json()} for w in batch],
        )
        if answer.get("Failed"):
            raise RuntimeError(
                f"{len(answer['Failed'])} sla_tick work messages not queued: {answer['Failed'][0]}"
            )

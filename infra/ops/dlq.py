"""Dead-letter queues of a stack: find them, and move their messages back to where they came from."""

from __future__ import annotations

from typing import Any

from infra.ops.target import Target


def _queue_arn(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def find_dlqs(target: Target) -> list[dict[str, Any]]:
    """The stack's queues that other queues send their dead letters to, with those source queues."""
    sqs = target.client("sqs")
    found = []
    for logical, url in sorted(target.queues.items()):
        sources = sqs.list_dead_letter_source_queues(QueueUrl=url).get("queueUrls", [])
        if sources:
            found.append({"queue": logical, "url": url, "sources": list(sources)})
    return found


def _message_count(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"].get("ApproximateNumberOfMessages", 0))


def redrive_dlqs(target: Target, *, move_task: bool | None = None, batch: int = 10) -> dict[str, Any]:
    """Move every dead letter back to the queue it came from.

    On AWS one ``StartMessageMoveTask`` per DLQ (it moves asynchronously, to each message's source).
    moto has no move task (it answers 500): there, messages are received, sent to their source queue
    and deleted. ``move_task`` defaults to "not the local stack".
    """
    move_task = (not target.local) if move_task is None else move_task
    sqs = target.client("sqs")
    results = []
    for dlq in find_dlqs(target):
        waiting = _message_count(sqs, dlq["url"])
        row: dict[str, Any] = {**dlq, "messages": waiting, "moved": 0, "left": waiting, "task": None}
        if waiting and move_task:
            task = sqs.start_message_move_task(SourceArn=_queue_arn(sqs, dlq["url"]))
            row.update(task=task.get("TaskHandle"), left=None, moved=None)
        elif waiting:
            row.update(_move_by_hand(sqs, dlq["url"], dlq["sources"], batch))
        results.append(row)
    return {"dlqs": results}


def _move_by_hand(sqs: Any, dlq_url: str, sources: list[str], batch: int) -> dict[str, int]:
    by_arn = {_queue_arn(sqs, url): url for url in sources}
    moved = skipped = 0
    seen: set[str] = set()
    while True:
        messages = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=batch,
            WaitTimeSeconds=0,
            VisibilityTimeout=60,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        fresh = [m for m in messages if m["MessageId"] not in seen]
        if not fresh:
            break
        for message in fresh:
            seen.add(message["MessageId"])
            attributes = message.get("Attributes", {})
            # SQS records where a dead letter came from; with one source queue there is no doubt.
            source = by_arn.get(attributes.get("DeadLetterQueueSourceArn", "")) or (
                sources[0] if len(sources) == 1 else None
            )
            if source is None:
                skipped += 1
                continue
            send: dict[str, Any] = {"QueueUrl": source, "MessageBody": message["Body"]}
            if message.get("MessageAttributes"):
                send["MessageAttributes"] = message["MessageAttributes"]
            if source.endswith(".fifo"):
                send["MessageGroupId"] = attributes.get("MessageGroupId", "redrive")
                send["MessageDeduplicationId"] = attributes.get(
                    "MessageDeduplicationId", message["MessageId"]
                )
            sqs.send_message(**send)
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return {"moved": moved, "left": _message_count(sqs, dlq_url) if skipped else 0}

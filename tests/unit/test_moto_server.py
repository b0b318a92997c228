"""The local AWS endpoint runs DynamoDB requests one at a time and every other request as it comes."""

from __future__ import annotations

import threading
from typing import Any

from infra.local.moto_server import SerializeDynamoDB


class SlowApp:
    """A WSGI app that records how many requests are inside it at once."""

    def __init__(self) -> None:
        self.inside = 0
        self.most_inside = 0
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.closed = 0
        self.overlap = threading.Event()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        with self.lock:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
            if self.inside > 1:
                self.overlap.set()
        if environ.get("block"):
            assert self.release.wait(10)
        with self.lock:
            self.inside -= 1
        start_response("200 OK", [])
        app = self

        class Body(list[bytes]):
            def close(self) -> None:
                app.closed += 1

        return Body([b"ok"])


def _dynamodb(**extra: Any) -> dict[str, Any]:
    return {"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.TransactWriteItems", **extra}


def _call(app: SerializeDynamoDB, environ: dict[str, Any]) -> list[bytes]:
    return list(app(environ, lambda status, headers: None))


def test_dynamodb_requests_never_overlap() -> None:
    inner = SlowApp()
    app = SerializeDynamoDB(inner)
    first = threading.Thread(target=_call, args=(app, _dynamodb(block=True)))
    first.start()
    others = [threading.Thread(target=_call, args=(app, _dynamodb())) for _ in range(5)]
    for thread in others:
        thread.start()
    # While the first holds the lock, none of the others gets in (given half a second to try).
    assert not inner.overlap.wait(0.5)
    inner.release.set()
    for thread in [first, *others]:
        thread.join(10)
    assert inner.most_inside == 1
    assert inner.closed == 6  # each body is closed once read under the lock


def test_other_requests_pass_while_a_dynamodb_request_holds_the_lock() -> None:
    """An SQS send runs its consumer inside the send; the consumer's requests must not wait on it."""
    inner = SlowApp()
    app = SerializeDynamoDB(inner)
    held = threading.Thread(target=_call, args=(app, _dynamodb(block=True)))
    held.start()
    assert _call(app, {"HTTP_X_AMZ_TARGET": "AmazonSQS.SendMessage"}) == [b"ok"]
    assert _call(app, {"PATH_INFO": "/2015-03-31/functions/f/invocations"}) == [b"ok"]
    assert inner.most_inside == 2
    inner.release.set()
    held.join(10)
    assert not held.is_alive()

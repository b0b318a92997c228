"""moto's server on a werkzeug server of our own, answering DynamoDB requests one at a time.

moto's DynamoDB backend is not safe under concurrent requests (docs/moto.md, "Concurrent requests"):
``TransactWriteItems`` deep-copies each table it touches and, when the transaction fails, puts the copy
back, undoing every write other threads committed in between; a conditional write checks and then
writes without a lock. DynamoDB gives the code linearizable single-item and transactional writes, so
the local endpoint serializes the DynamoDB requests. Only those: an SQS send to a queue with an event
source mapping runs the consumer inside the send, and the consumer's own requests (DynamoDB among
them) arrive on other server threads; a lock over every request would deadlock there. DynamoDB calls
nothing back in this stack (no table stream has a consumer), so holding its lock never waits on
another request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

DYNAMODB_TARGET_PREFIX = "DynamoDB_"  # X-Amz-Target: DynamoDB_20120810.<Operation>


def is_dynamodb_request(environ: dict[str, Any]) -> bool:
    return str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith(DYNAMODB_TARGET_PREFIX)


class SerializeDynamoDB:
    """WSGI middleware: DynamoDB requests run one at a time, all others as they come.

    moto's Flask app does the backend work inside the call and returns the finished body, so the
    lock covers the whole operation.
    """

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not is_dynamodb_request(environ):
            return self.app(environ, start_response)
        with self.lock:
            body = self.app(environ, start_response)
            try:
                return list(body)
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()


class MotoServer:
    """moto's server app on a werkzeug server we create ourselves, so a busy port fails here and now
    (``ThreadedMotoServer`` would fail in its thread and leave ``start`` waiting forever)."""

    def __init__(self, host: str, port: int) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        app = SerializeDynamoDB(DomainDispatcherApplication(create_backend_app))
        # werkzeug listens with a backlog of 128 (socketserver's default is 5).
        self._server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto-server", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()

"""Run Lambda invocations against moto as in-process Python handlers.

moto cannot run function code without Docker; with ``lambda: {use_docker: False}`` its backend
echoes the payload back. Every Lambda invoke in moto (boto3 ``lambda.invoke``, the Step Functions
interpreter's ``lambda:invoke`` tasks, SQS event source mappings, EventBridge targets) ends in
``LambdaBackend.invoke``, so replacing that one method routes them all to our handlers, both under
``mock_aws`` and behind an in-process ``ThreadedMotoServer``.

Usage::

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True},
                          "lambda": {"use_docker": False}}):
        with inprocess_lambdas({"review": review.app.handler}) as lambdas:
            sfn.start_execution(...)
            ...
            assert lambdas.calls_to("review")
"""

from __future__ import annotations

import contextvars
import json
import logging
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

from moto.awslambda.exceptions import LambdaClientError, UnknownFunctionException
from moto.awslambda.models import LambdaBackend
from moto.awslambda_simple.models import LambdaSimpleBackend

from infra.local.moto_env import LocalLambdaContext

LOG = logging.getLogger(__name__)

__all__ = ["Handler", "InProcessLambdas", "Invocation", "LocalLambdaContext", "inprocess_lambdas"]

Handler = Callable[[Any, Any], Any]

DEFAULT_MEMORY_MB = 128
DEFAULT_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Invocation:
    """One handler call, recorded so tests and the local stack can see what ran."""

    function_name: str
    event: Any
    request_id: str
    result: Any = None
    error_type: str | None = None
    error_message: str | None = None


def function_name_of(ref: str) -> str:
    """The bare function name from a name, ``name:qualifier``, a partial or a full ARN."""
    parts = ref.split(":")
    if ref.startswith("arn:"):
        return parts[6]  # arn:aws:lambda:region:account:function:name[:qualifier]
    if len(parts) >= 3 and parts[1] == "function":
        return parts[2]  # account:function:name[:qualifier]
    return parts[0]


class InProcessLambdas:
    """Routes moto Lambda invokes to registered handlers and records each call."""

    def __init__(self, handlers: Mapping[str, Handler]) -> None:
        self._handlers: dict[str, Handler] = {}
        for ref, handler in handlers.items():
            name = function_name_of(ref)
            if name in self._handlers and self._handlers[name] is not handler:
                raise ValueError(f"two handlers registered for Lambda function {name!r}")
            self._handlers[name] = handler
        self._lock = threading.Lock()
        self.calls: list[Invocation] = []

    def replace(self, function: str, handler: Handler) -> Handler:
        """Send ``function``'s invokes to ``handler`` from now on (a benchmark wraps one to time it).
        Returns the handler it replaces."""
        name = function_name_of(function)
        with self._lock:
            previous, self._handlers[name] = self._handlers[name], handler
        return previous

    def calls_to(self, function: str) -> list[Invocation]:
        name = function_name_of(function)
        with self._lock:
            return [c for c in self.calls if c.function_name == name]

    def invoke(
        self,
        backend: LambdaBackend,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: dict[str, Any],
    ) -> bytes:
        """Replacement for ``LambdaBackend.invoke``: same arguments, same return, same headers."""
        name = function_name_of(function_name)
        handler = self._handlers.get(name)
        if handler is None:
            # What real Lambda says; Step Functions surfaces it as Lambda.ResourceNotFoundException.
            raise UnknownFunctionException(_function_arn(backend, function_name))

        invocation_type = _header(headers, "X-Amz-Invocation-Type") or "RequestResponse"
        if invocation_type == "DryRun":
            return b""

        context = self._context_for(backend, name, qualifier)
        event = _decode_event(body)
        result, payload, error = None, b"", None
        try:
            # A context of its own, as each invocation has its own execution environment: an
            # invocation inside another (an SQS consumer run inside the send) keeps apart its
            # context-local state, Powertools' log keys among it.
            result = contextvars.copy_context().run(handler, event, context)
        except Exception as exc:
            # Real Lambda names an unhandled exception by its class name; Retry/Catch match on it.
            error = (type(exc).__name__, str(exc), _stack_trace(exc))
        else:
            try:
                payload = json.dumps(result).encode()
            except (TypeError, ValueError) as exc:
                error = ("Runtime.MarshalError", f"Unable to marshal response: {exc}", [])

        if error is not None:
            error_type, message, stack_trace = error
            LOG.info("local Lambda %s failed with %s: %s", name, error_type, message)
            payload = json.dumps(
                {
                    "errorMessage": message,
                    "errorType": error_type,
                    "requestId": context.aws_request_id,
                    "stackTrace": stack_trace,
                }
            ).encode()
            response_headers["x-amz-function-error"] = "Unhandled"
        with self._lock:
            self.calls.append(
                Invocation(
                    function_name=name,
                    event=event,
                    request_id=context.aws_request_id,
                    result=result,
                    error_type=error[0] if error else None,
                    error_message=error[1] if error else None,
                )
            )

        if invocation_type == "Event":
            # Async invokes run synchronously here (deterministic tests); the caller only gets a 202.
            response_headers.pop("x-amz-function-error", None)
            return b""
        response_headers["Content-Length"] = str(len(payload))
        return payload

    def _context_for(self, backend: LambdaBackend, name: str, qualifier: str | None) -> LocalLambdaContext:
        # A function created in moto (e.g. by the template's stack) lends its real ARN, memory and
        # timeout; without one the handler still runs, with Lambda's defaults.
        try:
            fn = backend.get_function(name, qualifier)
        except LambdaClientError:
            arn = _function_arn(backend, name)
            memory, timeout = DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_SECONDS
        else:
            arn, memory, timeout = fn.function_arn, int(fn.memory_size), int(fn.timeout)
        return LocalLambdaContext(
            function_name=name,
            invoked_function_arn=arn,
            aws_request_id=str(uuid.uuid4()),
            memory_limit_in_mb=memory,
            timeout_seconds=timeout,
        )


@contextmanager
def inprocess_lambdas(handlers: Mapping[str, Handler]) -> Iterator[InProcessLambdas]:
    """Make every moto Lambda invoke call ``handlers[function name](event, context)`` in-process.

    Keys are function names or ARNs. Works under ``mock_aws`` and with ``ThreadedMotoServer`` in the
    same process (the patch is process-wide, so it also covers invokes made from server threads).
    """
    dispatcher = InProcessLambdas(handlers)

    def invoke(backend: LambdaBackend, *args: Any, **kwargs: Any) -> bytes:
        return dispatcher.invoke(backend, *args, **kwargs)

    with ExitStack() as stack:
        # The simple backend overrides invoke, so both classes need the patch; the Docker backend is
        # covered too, which makes the lambda.use_docker setting irrelevant.
        for backend_class in (LambdaBackend, LambdaSimpleBackend):
            stack.enter_context(mock.patch.object(backend_class, "invoke", invoke))
        yield dispatcher


def _function_arn(backend: LambdaBackend, ref: str) -> str:
    if ref.startswith("arn:"):
        return ref
    return f"arn:{backend.partition}:lambda:{backend.region_name}:{backend.account_id}:function:{ref}"


def _header(headers: Any, name: str) -> str | None:
    if not headers:
        return None
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return str(value)
    return None


def _decode_event(body: Any) -> Any:
    if isinstance(body, bytes):
        body = body.decode()
    if not body:
        return {}
    return json.loads(body)


def _stack_trace(exc: BaseException) -> list[str]:
    """The frames below the dispatcher's own call, as Lambda reports them."""
    below = exc.__traceback__.tb_next if exc.__traceback__ is not None else None
    return traceback.format_tb(below)

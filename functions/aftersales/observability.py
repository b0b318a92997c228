"""Powertools Logger, Tracer and Metrics, created once and shared by every handler."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Generator, Iterable
from contextlib import contextmanager
from typing import Any, TypeVar, cast, overload

from aws_lambda_powertools import Logger, Metrics, Tracer

# The template sets POWERTOOLS_SERVICE_NAME to the stack's name, so two stacks in one account and
# region keep their metrics (dimension ``service``) apart.
SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "aftersales"
METRICS_NAMESPACE = "AfterSales"


class InvocationLogger(Logger):
    """A Powertools Logger whose keys belong to the invocation that set them.

    Powertools keeps appended keys (``function_name``, ``correlation_id``, ...) on the one formatter
    every ``Logger`` of a service shares, so two invocations running at once in one process (the
    local stack serves every handler from its threads) overwrite each other's keys. Here every key
    set after construction lives in Powertools' context-local keys instead (a ``ContextVar``), which
    its formatter merges into each record; the keys given at construction stay shared. On Lambda,
    one invocation per process at a time, the output is the same as Powertools' own.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._per_invocation = True  # from here on, keys are the current context's

    def structure_logs(
        self, append: bool = False, formatter_options: dict[str, Any] | None = None, **keys: Any
    ) -> None:
        if not getattr(self, "_per_invocation", False) or append:
            super().structure_logs(append, formatter_options, **keys)
            return
        # ``inject_lambda_context(clear_state=True)``: this invocation starts from the default keys.
        self.registered_formatter.thread_safe_clear_keys()
        self.registered_formatter.thread_safe_append_keys(**{**self._default_log_keys, **keys})

    def append_keys(self, **additional_keys: object) -> None:
        self.registered_formatter.thread_safe_append_keys(**additional_keys)

    def remove_keys(self, keys: Iterable[str]) -> None:
        # A new mapping rather than Powertools' in-place pop: a copied context keeps its own keys.
        wanted = set(keys)
        current = self.registered_formatter.thread_safe_get_current_keys()
        self.registered_formatter.thread_safe_clear_keys()
        self.registered_formatter.thread_safe_append_keys(
            **{k: v for k, v in current.items() if k not in wanted}
        )

    def get_current_keys(self) -> dict[str, Any]:
        return {
            **self.registered_formatter.get_current_keys(),
            **self.registered_formatter.thread_safe_get_current_keys(),
        }

    def get_correlation_id(self) -> str | None:
        value = self.get_current_keys().get("correlation_id")
        return None if value is None else str(value)

    @contextmanager
    def append_context_keys(self, **additional_keys: Any) -> Generator[None, None, None]:
        self.append_keys(**additional_keys)
        try:
            yield
        finally:
            self.remove_keys(additional_keys)


Handler = TypeVar("Handler", bound=Callable[..., Any])


class DeferredTracer:
    """Powertools' Tracer, built by the first traced invocation rather than when a handler is imported.

    Building a ``Tracer`` imports the X-Ray SDK, and where tracing is on patches the libraries it
    instruments; at import, every handler's cold start would pay for it (``bench/coldstart.py``).
    Only botocore is patched: every AWS call the service makes, pynamodb's included, goes through it.
    """

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._tracer: Tracer | None = None

    @property
    def powertools_tracer(self) -> Tracer:
        if self._tracer is None:
            self._tracer = Tracer(**self._options)
        return self._tracer

    @overload
    def capture_lambda_handler(self, lambda_handler: Handler) -> Handler: ...

    @overload
    def capture_lambda_handler(
        self, *, capture_response: bool | None = None, capture_error: bool | None = None
    ) -> Callable[[Handler], Handler]: ...

    def capture_lambda_handler(
        self,
        lambda_handler: Handler | None = None,
        *,
        capture_response: bool | None = None,
        capture_error: bool | None = None,
    ) -> Handler | Callable[[Handler], Handler]:
        """``Tracer.capture_lambda_handler``, applied to the handler on its first invocation."""

        def decorate(handler: Handler) -> Handler:
            traced: Callable[..., Any] | None = None

            @functools.wraps(handler)
            def invoke(event: Any, context: Any) -> Any:
                nonlocal traced
                if traced is None:
                    traced = self.powertools_tracer.capture_lambda_handler(
                        handler, capture_response=capture_response, capture_error=capture_error
                    )
                return traced(event, context)

            return cast(Handler, invoke)

        return decorate(lambda_handler) if lambda_handler is not None else decorate


logger = InvocationLogger(service=SERVICE)
tracer = DeferredTracer(service=SERVICE, patch_modules=("botocore",))
metrics = Metrics(service=SERVICE, namespace=METRICS_NAMESPACE)

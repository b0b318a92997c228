"""Powertools Logger, Tracer and Metrics, created once and shared by every handler."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

# The template sets POWERTOOLS_SERVICE_NAME to the stack's name, so two stacks in one account and
# region keep their metrics (dimension ``service``) apart.
SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "aftersales"
METRICS_NAMESPACE = "AfterSales"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(service=SERVICE, namespace=METRICS_NAMESPACE)

"""Powertools Logger, Tracer and Metrics, created once and shared by every handler."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "aftersales"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
NAMESPACE = "AfterSales"
metrics = Metrics(service=SERVICE, namespace=NAMESPACE)

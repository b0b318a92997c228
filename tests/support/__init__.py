"""Reusable test harnesses."""

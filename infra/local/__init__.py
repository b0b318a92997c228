"""The local stack: moto plus in-process Lambda handlers, no AWS account and no Docker."""

"""The ``aftersales`` command: the local stack, the demo, and ops tools."""

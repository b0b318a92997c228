"""Operating a stack (local or deployed): find it, gather what ops need to see, redrive dead letters.

No printing here: ``infra.cli.ops`` presents what these return.
"""

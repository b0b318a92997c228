"""Settings for the whole test run."""

import functools

import botocore.session

# moto gives every test fresh AWS state, so every test builds new botocore sessions, and each new
# session parsed the same service-model JSON again (most of a test's setup time). The models are
# read-only data: one loader per search path serves the whole run.
botocore.session.create_loader = functools.cache(botocore.session.create_loader)

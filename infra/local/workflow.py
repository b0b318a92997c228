"""The claim state machine for local runs and tests: the real ASL, its substitutions, and the
in-process handlers its Lambda tasks call.

moto's CloudFormation cannot execute state machines (docs/moto.md), so the local stack and the tests
create the machine through the Step Functions API with ``create_claim_state_machine``.

``fast_retries``: moto sleeps through Retry intervals in real time. For local and test runs the
definition is loaded with every Retry's ``IntervalSeconds`` set to 1 and ``BackoffRate`` to 1 (the
attempt counts and error names stay as written), so a refund that fails for good takes ~3 s instead
of ~14 s. ``statemachine/claim.asl.json`` itself, and what is deployed, stay as written.

``ClaimWorkflow``: handles on a running machine (execution history, the transitions it billed, waiting
for a stage), shared by the tests' ``claim_workflow`` fixture and the benchmarks (``bench/``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.local.lambda_dispatch import Handler, InProcessLambdas
from infra.local.moto_env import function_arn, poll

ASL_FILE = Path(__file__).resolve().parents[2] / "statemachine" / "claim.asl.json"
STATE_MACHINE_NAME = "aftersales-claim"
ROLE_ARN = "arn:aws:iam::123456789012:role/aftersales-claim-statemachine"

# DefinitionSubstitutions key → the function it names (the template's logical ids minus "Arn").
FUNCTIONS = {
    "ReviewFunctionArn": "aftersales-review",
    "RefundFunctionArn": "aftersales-refund",
    "AwaitStageFunctionArn": "aftersales-await-stage",
}


def handlers() -> dict[str, Handler]:
    """The real handlers of the state machine's Lambda tasks, by function name."""
    from await_stage.app import lambda_handler as await_stage
    from refund.app import lambda_handler as refund
    from review.app import lambda_handler as review

    return {
        FUNCTIONS["ReviewFunctionArn"]: review,
        FUNCTIONS["RefundFunctionArn"]: refund,
        FUNCTIONS["AwaitStageFunctionArn"]: await_stage,
    }


def load_definition(
    substitutions: Mapping[str, str], *, fast_retries: bool = True, path: Path = ASL_FILE
) -> dict[str, Any]:
    """The ASL with ``${Name}`` placeholders replaced (as SAM's DefinitionSubstitutions do)."""
    text = path.read_text(encoding="utf-8")
    for name, value in substitutions.items():
        text = text.replace("${" + name + "}", value)
    if "${" in text:
        raise ValueError(f"unsubstituted placeholder in {path.name}")
    definition: dict[str, Any] = json.loads(text)
    return compress_retries(definition) if fast_retries else definition


def compress_retries(definition: Mapping[str, Any]) -> dict[str, Any]:
    """A copy with every Retry waiting 1 s between attempts (same errors, same attempt counts)."""
    fast = copy.deepcopy(dict(definition))
    for state in fast["States"].values():
        for retrier in state.get("Retry", []):
            retrier["IntervalSeconds"] = 1
            retrier["BackoffRate"] = 1
    return fast


def create_claim_state_machine(
    sfn: Any, *, region: str = "us-east-1", fast_retries: bool = True, name: str = STATE_MACHINE_NAME
) -> str:
    """Create the claim state machine in (moto's) Step Functions; returns its ARN."""
    substitutions = {key: function_arn(fn, region=region) for key, fn in FUNCTIONS.items()}
    definition = load_definition(substitutions, fast_retries=fast_retries)
    response = sfn.create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=ROLE_ARN, type="STANDARD"
    )
    return str(response["stateMachineArn"])


@dataclass
class ClaimWorkflow:
    """Handles on a running workflow stack; callers drive claims through ``aftersales.claims``."""

    sfn: Any
    state_machine_arn: str
    lambdas: InProcessLambdas

    def execution_arn(self, claim_id: str) -> str:
        return self.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{claim_id}"

    def history(self, claim_id: str) -> list[dict[str, Any]]:
        return list(self.sfn.get_execution_history(executionArn=self.execution_arn(claim_id))["events"])

    def states_entered(self, claim_id: str) -> list[str]:
        return [
            event["stateEnteredEventDetails"]["name"]
            for event in self.history(claim_id)
            if event["type"].endswith("StateEntered")
        ]

    def transitions(self, claim_id: str) -> int:
        """State transitions billed for the run so far: one per state entered."""
        return len(self.states_entered(claim_id))

    def waiting_at(self, claim_id: str, stage: str) -> str:
        """Wait until the run waits at ``stage`` with its token stored on the claim; returns the token."""
        from aftersales.store import default_repository

        def stored() -> str | None:
            claim = default_repository().get_claim(claim_id)
            return claim.task_token if claim is not None and claim.task_stage == stage else None

        return poll(stored, what=f"{claim_id} waiting at {stage}")

    def finished(self, claim_id: str) -> dict[str, Any]:
        def closed() -> dict[str, Any] | None:
            found = self.sfn.describe_execution(executionArn=self.execution_arn(claim_id))
            return dict(found) if found["status"] != "RUNNING" else None

        return poll(closed, what=f"{claim_id}'s run to finish")

    def status(self, claim_id: str) -> str:
        return str(self.sfn.describe_execution(executionArn=self.execution_arn(claim_id))["status"])

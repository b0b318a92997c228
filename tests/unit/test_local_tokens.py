"""Local JWTs: minted like Cognito's, refused like the API Gateway JWT authorizer refuses them."""

from __future__ import annotations

import base64
import json
import stat
import time

import jwt
import pytest
from typer.testing import CliRunner

from infra.cli.main import app
from infra.local import tokens
from infra.local.tokens import LocalIssuer, TokenError

NOW = 1_741_000_000


@pytest.fixture
def key_file(tmp_path):
    return tmp_path / "jwt-key.pem"


@pytest.fixture
def issuer(key_file):
    return LocalIssuer.from_key_file(key_file)


def test_the_key_is_created_once_private_and_reused(key_file):
    first = tokens.load_or_create_key(key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    pem = key_file.read_bytes()

    token = tokens.mint("buyer", "b-1", key_file=key_file)

    assert key_file.read_bytes() == pem
    assert tokens.key_id(first) == jwt.get_unverified_header(token)["kid"]


def test_an_existing_key_file_is_never_overwritten(key_file):
    tokens.load_or_create_key(key_file)
    pem = key_file.read_bytes()
    tokens._create_key(key_file)
    assert key_file.read_bytes() == pem


def test_the_key_path_comes_from_the_environment_when_not_given(tmp_path, monkeypatch):
    monkeypatch.setenv(tokens.KEY_PATH_ENV, str(tmp_path / "from-env.pem"))
    token = tokens.mint("ops", "o-1")
    assert (tmp_path / "from-env.pem").exists()
    assert tokens.verify(token)["sub"] == "o-1"


def test_a_minted_token_carries_cognito_shaped_claims(issuer):
    token = issuer.mint("merchant", "m-user-7", merchant_id="M-100", ttl=600, now=NOW)

    claims = issuer.verify(token, now=NOW + 1)

    assert claims["sub"] == "m-user-7"
    assert claims["iss"] == tokens.LOCAL_ISSUER
    assert claims["aud"] == tokens.LOCAL_AUDIENCE
    assert claims["cognito:groups"] == ["merchant"]
    assert claims["custom:merchant_id"] == "M-100"
    assert claims["token_use"] == "id"
    assert claims["iat"] == NOW
    assert claims["exp"] == NOW + 600
    assert jwt.get_unverified_header(token)["alg"] == "RS256"


def test_a_buyer_token_has_no_merchant_claim(issuer):
    claims = issuer.verify(issuer.mint("buyer", "b-1"))
    assert "custom:merchant_id" not in claims
    assert claims["cognito:groups"] == ["buyer"]


def test_a_bearer_prefix_is_accepted_like_the_authorizer_does(issuer):
    token = issuer.mint("buyer", "b-1")
    assert issuer.verify(f"Bearer {token}")["sub"] == "b-1"
    assert issuer.verify(f"bearer {token}")["sub"] == "b-1"


@pytest.mark.parametrize(
    ("role", "sub", "merchant_id"),
    [("admin", "x", None), ("buyer", "", None), ("merchant", "m-1", None)],
)
def test_minting_refuses_what_the_service_cannot_use(issuer, role, sub, merchant_id):
    with pytest.raises(ValueError):
        issuer.mint(role, sub, merchant_id)


def test_an_expired_token_is_refused(issuer):
    token = issuer.mint("buyer", "b-1", ttl=60, now=NOW)
    with pytest.raises(TokenError, match="expired"):
        issuer.verify(token, now=NOW + 60)


def test_a_token_not_valid_yet_is_refused(issuer):
    token = LocalIssuer(issuer.key).mint("buyer", "b-1", now=NOW)
    claims = jwt.decode(token, options={"verify_signature": False})
    early = jwt.encode(
        {**claims, "nbf": NOW + 100},
        issuer.key,
        algorithm="RS256",
        headers={"kid": tokens.key_id(issuer.key)},
    )
    with pytest.raises(TokenError, match="not valid yet"):
        issuer.verify(early, now=NOW + 10)


def test_a_token_signed_by_another_key_is_refused(issuer, tmp_path):
    stranger = LocalIssuer.from_key_file(tmp_path / "other.pem")
    with pytest.raises(TokenError):
        issuer.verify(stranger.mint("ops", "o-1"))


def test_a_forged_token_with_our_kid_fails_the_signature(issuer, tmp_path):
    stranger = LocalIssuer.from_key_file(tmp_path / "other.pem")
    claims = jwt.decode(issuer.mint("buyer", "b-1"), options={"verify_signature": False})
    forged = jwt.encode(claims, stranger.key, algorithm="RS256", headers={"kid": tokens.key_id(issuer.key)})
    with pytest.raises(TokenError, match="signature"):
        issuer.verify(forged)


def test_a_token_with_edited_claims_fails_the_signature(issuer):
    header, payload, signature = issuer.mint("buyer", "b-1").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["cognito:groups"] = ["ops"]
    edited = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(TokenError, match="signature"):
        issuer.verify(f"{header}.{edited}.{signature}")


def test_an_unsigned_or_hmac_token_is_refused(issuer):
    claims = {"sub": "b-1", "iss": tokens.LOCAL_ISSUER, "aud": tokens.LOCAL_AUDIENCE, "exp": time.time() + 60}
    for token in (
        jwt.encode(claims, None, algorithm="none"),
        jwt.encode(claims, "k" * 32, algorithm="HS256"),
    ):
        with pytest.raises(TokenError, match="algorithm"):
            issuer.verify(token)


def test_a_token_for_another_audience_is_refused(issuer):
    token = LocalIssuer(issuer.key, audience="someone-else").mint("buyer", "b-1")
    with pytest.raises(TokenError, match="audience"):
        issuer.verify(token)


def test_a_token_from_another_issuer_is_refused(issuer):
    token = LocalIssuer(issuer.key, issuer="https://elsewhere.example").mint("buyer", "b-1")
    with pytest.raises(TokenError, match="issuer"):
        issuer.verify(token)


@pytest.mark.parametrize("garbage", ["", "Bearer ", "not-a-jwt", "a.b.c"])
def test_garbage_is_refused(issuer, garbage):
    with pytest.raises(TokenError):
        issuer.verify(garbage)


# --- the command line ---------------------------------------------------------------------------------

runner = CliRunner()


def test_cli_token_prints_a_token_the_authorizer_accepts(key_file):
    result = runner.invoke(
        app,
        [
            "local",
            "token",
            "--role",
            "merchant",
            "--sub",
            "m-user-7",
            "--merchant-id",
            "M-100",
            "--key",
            str(key_file),
        ],
    )

    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    claims = tokens.verify(token, key_file=key_file)
    assert claims["sub"] == "m-user-7"
    assert claims["cognito:groups"] == ["merchant"]
    assert claims["custom:merchant_id"] == "M-100"


def test_cli_token_refuses_an_unknown_role(key_file):
    result = runner.invoke(app, ["local", "token", "--role", "admin", "--sub", "x", "--key", str(key_file)])
    assert result.exit_code == 2
    assert result.stdout == ""


def test_cli_merchant_token_needs_a_merchant_id(key_file):
    result = runner.invoke(
        app, ["local", "token", "--role", "merchant", "--sub", "x", "--key", str(key_file)]
    )
    assert result.exit_code == 1
    assert "merchant_id" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    "command",
    [["ops", "claim", "C-1"], ["ops", "overdue"], ["ops", "executions"], ["ops", "dlq", "redrive"]],
)
def test_ops_commands_without_a_stack_say_how_to_start_one(command, tmp_path):
    result = runner.invoke(app, [*command, "--state-dir", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "make local" in result.stderr
    assert result.stdout == ""

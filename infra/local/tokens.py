"""Local stand-in for the Cognito user pool: mint JWTs and verify them like the HTTP API JWT authorizer.

One RSA key per checkout (``.local-stack/jwt-key.pem``, git-ignored) signs every local token, so a
token printed by ``aftersales local token`` is accepted by the local gateway, and by nothing else.
Tokens look like Cognito ID tokens (``aud`` = app client, ``cognito:groups``, ``token_use: id``);
the product's role lives in ``cognito:groups`` and a merchant's id in the ``custom:merchant_id``
attribute.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_KEY_PATH = REPO_ROOT / ".local-stack" / "jwt-key.pem"
KEY_PATH_ENV = "AFTERSALES_JWT_KEY"
LOCAL_ISSUER = "https://cognito-idp.local.aftersales/local-user-pool"
LOCAL_AUDIENCE = "aftersales-local-client"
ROLES = ("buyer", "merchant", "ops")
DEFAULT_TTL_SECONDS = 12 * 3600
ALGORITHM = "RS256"


class TokenError(Exception):
    """The token would be refused by the API Gateway JWT authorizer; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def key_path(path: str | Path | None = None) -> Path:
    """The signing key file: the one given, else $AFTERSALES_JWT_KEY, else .local-stack/ in the repo."""
    if path is not None:
        return Path(path)
    return Path(os.environ.get(KEY_PATH_ENV) or DEFAULT_KEY_PATH)


_keys: dict[Path, rsa.RSAPrivateKey] = {}
_keys_lock = threading.Lock()


def load_or_create_key(path: str | Path | None = None) -> rsa.RSAPrivateKey:
    """The RSA key at ``path``, created once (mode 0600) if it does not exist yet."""
    target = key_path(path).resolve()
    with _keys_lock:
        if target in _keys:
            return _keys[target]
        if not target.exists():
            _create_key(target)
        key = serialization.load_pem_private_key(target.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise TokenError(f"{target} does not hold an RSA private key")
        _keys[target] = key
        return key


def _create_key(target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        # O_EXCL: when two processes start at once, the first key written wins and both use it.
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as out:
        out.write(pem)


def key_id(key: rsa.RSAPrivateKey) -> str:
    """A stable ``kid`` for the key (its public numbers), as a JWKS would publish it."""
    numbers = key.public_key().public_numbers()
    return uuid.uuid5(uuid.NAMESPACE_OID, f"{numbers.n:x}.{numbers.e:x}").hex[:16]


@dataclass(frozen=True)
class LocalIssuer:
    """One signing key plus the issuer and audience the local authorizer accepts."""

    key: rsa.RSAPrivateKey
    issuer: str = LOCAL_ISSUER
    audience: str = LOCAL_AUDIENCE

    @classmethod
    def from_key_file(cls, path: str | Path | None = None, **kwargs: Any) -> LocalIssuer:
        return cls(load_or_create_key(path), **kwargs)

    def mint(
        self,
        role: str,
        sub: str,
        merchant_id: str | None = None,
        ttl: float = DEFAULT_TTL_SECONDS,
        *,
        scopes: Iterable[str] = (),
        now: float | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        if not sub:
            raise ValueError("sub must not be empty")
        if role == "merchant" and not merchant_id:
            raise ValueError("a merchant token needs a merchant_id")
        issued = int(time.time() if now is None else now)
        claims: dict[str, Any] = {
            "sub": sub,
            "iss": self.issuer,
            "aud": self.audience,
            "token_use": "id",
            "cognito:username": sub,
            "cognito:groups": [role],
            "auth_time": issued,
            "iat": issued,
            "exp": issued + int(ttl),
            "jti": str(uuid.uuid4()),
        }
        if merchant_id:
            claims["custom:merchant_id"] = merchant_id
        scope_list = list(scopes)
        if scope_list:
            claims["scope"] = " ".join(scope_list)
        claims.update(extra or {})
        return jwt.encode(claims, self.key, algorithm=ALGORITHM, headers={"kid": key_id(self.key)})

    def verify(self, token: str, *, now: float | None = None) -> dict[str, Any]:
        """The claims of a token the JWT authorizer would accept; TokenError otherwise.

        Like API Gateway: the algorithm and signature (against this key's ``kid``), then ``iss``,
        ``aud`` (or ``client_id`` when there is no ``aud``), ``exp`` and ``nbf``; no leeway.
        """
        token = token.strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        if not token:
            raise TokenError("no token")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenError(f"the token is not a valid JWT: {exc}") from exc
        if header.get("alg") != ALGORITHM:
            raise TokenError(f"the token's algorithm {header.get('alg')!r} is not {ALGORITHM}")
        if header.get("kid") != key_id(self.key):
            raise TokenError("the token was not signed by a key of this issuer (unknown kid)")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.key.public_key(),
                algorithms=[ALGORITHM],
                options={"verify_aud": False, "verify_exp": False, "verify_nbf": False, "verify_iat": False},
            )
        except jwt.InvalidSignatureError as exc:
            raise TokenError("the token's signature is invalid") from exc
        except jwt.PyJWTError as exc:
            raise TokenError(f"the token is not a valid JWT: {exc}") from exc
        self._check_claims(claims, time.time() if now is None else now)
        return claims

    def _check_claims(self, claims: dict[str, Any], now: float) -> None:
        if claims.get("iss") != self.issuer:
            raise TokenError("the token does not have a valid issuer")
        audience = claims.get("aud", claims.get("client_id"))
        audiences = audience if isinstance(audience, list) else [audience]
        if self.audience not in audiences:
            raise TokenError("the token does not have a valid audience")
        exp = claims.get("exp")
        if not isinstance(exp, int | float):
            raise TokenError("the token has no expiry")
        if now >= exp:
            raise TokenError("the token has expired")
        nbf = claims.get("nbf")
        if isinstance(nbf, int | float) and now < nbf:
            raise TokenError("the token is not valid yet")


def issuer(path: str | Path | None = None) -> LocalIssuer:
    """The local issuer backed by the key file (created on first use)."""
    return LocalIssuer.from_key_file(path)


def mint(
    role: str,
    sub: str,
    merchant_id: str | None = None,
    ttl: float = DEFAULT_TTL_SECONDS,
    *,
    scopes: Iterable[str] = (),
    now: float | None = None,
    key_file: str | Path | None = None,
) -> str:
    """A signed token for ``role`` (buyer, merchant, ops) and subject ``sub``, valid ``ttl`` seconds."""
    return issuer(key_file).mint(role, sub, merchant_id, ttl, scopes=scopes, now=now)


def verify(token: str, *, now: float | None = None, key_file: str | Path | None = None) -> dict[str, Any]:
    """The token's claims if the local JWT authorizer accepts it; raises TokenError otherwise."""
    return issuer(key_file).verify(token, now=now)

"""HS256 tokens for the e2e suites (signed here, independently of ward)."""
import base64
import hashlib
import hmac
import json
import time


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def sign_jwt(claims, secret, header=None):
    """A compact JWS of claims (any header, e.g. alg none, for bad cases)."""
    h = header or {"alg": "HS256", "typ": "JWT"}
    si = b64u(json.dumps(h, separators=(",", ":")).encode()) + "." + \
        b64u(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(secret.encode(), si.encode(), hashlib.sha256).digest()
    return si + "." + b64u(sig)


def make_token(secret, role, name="User", sub="1", ttl=600, **extra):
    """A valid HS256 token with the usual claims (iat now, exp now+ttl)."""
    now = int(time.time())
    c = {"sub": sub, "role": role, "name": name, "iat": now,
         "exp": now + ttl}
    c.update(extra)
    return sign_jwt(c, secret)

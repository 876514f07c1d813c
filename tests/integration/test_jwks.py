"""Better Auth's own tokens (its `jwt` plugin): EdDSA (Ed25519), ES256 and
RS256, verified with the public keys of a JWKS document given as JWKS_FILE
or fetched from JWKS_URL, chosen by the token's `kid`.

Every run makes fresh keys with the `openssl` command line (OpenSSL 3),
builds the JWKS document in Better Auth's exact shape (tests/vectors/README.md:
member order, 32-character alphanumeric kids, no `use`) and signs tokens
shaped like Better Auth's: header {"alg","kid"} only, the plugin's payload
(iat, name, email, emailVerified, createdAt, updatedAt, id, sub, exp, iss,
aud) with iss = aud = http://localhost:3000 and a 15 minute lifetime.

The tests restart the pool with extra settings (scripts/stack pool-stop /
pool-start, BETTER_AUTH_SECRET kept as the suite's) and restore the normal
pool in a `finally`; they need scripts/stack and are skipped with --base.
The start-up checks run the binary directly, without a socket.

Refetching JWKS_URL (src/key_source.h): the master fetches before forking
and every worker inherits the keys and the time of that fetch; each worker
then refetches on its own: on a timer between requests, JWKS_REFRESH_SECONDS
(60 by default) after its last good fetch, and for a kid it does not know at
once, unless it fetched less than 10 s (or JWKS_REFRESH_SECONDS, if shorter)
ago. A failed fetch is retried after 1 s, doubling up to JWKS_REFRESH_SECONDS;
meanwhile a token whose key is not in the set is 503 with Retry-After, not
401. Fetches are bounded: 2 s at start, 500 ms on the timer, 300 ms within a
request.
"""
import atexit
import base64
import contextlib
import datetime
import hashlib
import hmac
import http.server
import json
import os
import secrets
import shutil
import socket
import string
import subprocess
import tempfile
import threading
import time

from client import (Failure, Skip, b64url, bare_environment, check, expect_json, expect_problem,
                    expect_task, healthy, wait_until)
from client import service_binary as binary

BASE_URL = "http://localhost:3000"  # Better Auth's baseURL: its iss and aud
OTHER_AUDIENCE = "http://other.example"
ALGS = ("EdDSA", "ES256", "RS256")
LIFETIME = 900  # the plugin's default expirationTime, "15m"
ALNUM = string.ascii_letters + string.digits
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REFRESH_SECONDS = 60  # the default of JWKS_REFRESH_SECONDS
KID_COOLDOWN = 10  # the least time between two fetches for unknown kids (KEY_SOURCE_KID_COOLDOWN)
JWKS_PATH = "/api/auth/jwks"


def better_auth_id():
    """A Better Auth row id (user id, JWKS kid): 32 characters of [A-Za-z0-9]."""
    return "".join(secrets.choice(ALNUM) for _ in range(32))


def compact(obj):
    return json.dumps(obj, separators=(",", ":"))


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- openssl -------------------------------------------------------------------


def openssl(*args, data=None):
    """Runs `openssl ARGS`; returns its standard output (bytes)."""
    try:
        p = subprocess.run(["openssl", *args], input=data, capture_output=True, timeout=60)
    except FileNotFoundError:
        raise Skip("needs the openssl command line") from None
    if p.returncode != 0:
        raise Failure(f"openssl {' '.join(args)} exited {p.returncode}: "
                      f"{p.stderr.decode('utf-8', 'replace')[-500:]}")
    return p.stdout


def der_element(data, pos=0):
    """(tag, contents, position after) of the DER element at pos."""
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    return tag, data[pos:pos + length], pos + length


def der_sequence(contents):
    """The elements (tag, contents) of a DER SEQUENCE's contents."""
    items, pos = [], 0
    while pos < len(contents):
        tag, value, pos = der_element(contents, pos)
        items.append((tag, value))
    return items


def spki_public_bits(der):
    """The subjectPublicKey BIT STRING of a DER SubjectPublicKeyInfo."""
    tag, spki, _ = der_element(der)
    check(tag == 0x30, "SPKI is not a SEQUENCE")
    (_, _), (bit_tag, bits) = der_sequence(spki)
    check(bit_tag == 0x03 and bits[0] == 0, "SPKI has no BIT STRING key")
    return bits[1:]


def text_field(text, label):
    """The hex bytes under `label:` in `openssl pkey -text` output."""
    lines, out = text.splitlines(), []
    start = lines.index(label) + 1
    for line in lines[start:]:
        if not line.startswith(" "):
            break
        out.append(line.strip().rstrip(":"))
    return bytes.fromhex("".join(out).replace(":", ""))


def unsigned(integer_bytes, size=None):
    """A DER INTEGER's contents as a big-endian unsigned value of `size` bytes."""
    value = integer_bytes.lstrip(b"\0")
    if size is not None:
        check(len(value) <= size, f"integer of {len(value)} bytes exceeds {size}")
        value = value.rjust(size, b"\0")
    return value


class Key:
    """A fresh key pair made with `openssl genpkey`, its public JWK in Better
    Auth's shape, and `openssl` signing in JOSE's format for its algorithm."""

    GENPKEY = {
        "EdDSA": ["-algorithm", "ED25519"],
        "ES256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                  "-pkeyopt", "ec_param_enc:named_curve"],
        "RS256": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    }

    def __init__(self, alg, directory, kid=None):
        self.alg, self.kid = alg, kid or better_auth_id()
        self.path = os.path.join(directory, f"{alg}-{secrets.token_hex(4)}.pem")
        openssl("genpkey", *self.GENPKEY[alg], "-out", self.path)
        os.chmod(self.path, 0o600)
        self.spki_der = openssl("pkey", "-in", self.path, "-pubout", "-outform", "DER")
        self.spki_pem = openssl("pkey", "-in", self.path, "-pubout").decode("ascii")
        bits = spki_public_bits(self.spki_der)
        # The same public value as `openssl pkey -text` prints it.
        text = openssl("pkey", "-in", self.path, "-pubout", "-text", "-noout").decode("ascii")
        printed = unsigned(text_field(text, "Modulus:")) if alg == "RS256" else text_field(text, "pub:")
        # Member order exactly as Better Auth's /api/auth/jwks serves them.
        if alg == "EdDSA":
            check(len(bits) == 32 and bits == printed, f"Ed25519 public key of {len(bits)} bytes")
            self.raw = {"x": bits}
            self.jwk = {"alg": "EdDSA", "crv": "Ed25519", "x": b64url(bits), "kty": "OKP", "kid": self.kid}
        elif alg == "ES256":
            check(len(bits) == 65 and bits[0] == 4 and bits == printed, "P-256 point is not 65 uncompressed bytes")
            self.raw = {"x": bits[1:33], "y": bits[33:]}
            self.jwk = {"alg": "ES256", "crv": "P-256", "kty": "EC", "x": b64url(bits[1:33]),
                        "y": b64url(bits[33:]), "kid": self.kid}
        else:
            _, rsa, _ = der_element(bits)
            (_, n), (_, e) = der_sequence(rsa)
            n, e = unsigned(n), unsigned(e)
            check(len(n) == 256 and n == printed and e == b"\x01\x00\x01" and "Exponent: 65537" in text,
                  f"RSA key: n of {len(n)} bytes, e {e.hex()}")
            self.raw = {"n": n}
            self.jwk = {"alg": "RS256", "kty": "RSA", "n": b64url(n), "e": b64url(e), "kid": self.kid}
        # RSA's other public PEM, "BEGIN RSA PUBLIC KEY" (PKCS#1).
        self.rsa_pkcs1_pem = None
        if alg == "RS256":
            self.rsa_pkcs1_pem = openssl("rsa", "-in", self.path, "-RSAPublicKey_out").decode("ascii")

    def sign(self, data):
        """The JWS signature of data: Ed25519 (64 bytes), ECDSA P-256 with
        SHA-256 as raw r||s (32 + 32 bytes, not DER), RSASSA-PKCS1-v1_5 with
        SHA-256 (256 bytes)."""
        fd, path = tempfile.mkstemp(dir=os.path.dirname(self.path))
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            if self.alg == "EdDSA":
                sig = openssl("pkeyutl", "-sign", "-inkey", self.path, "-rawin", "-in", path)
                check(len(sig) == 64, f"Ed25519 signature of {len(sig)} bytes")
                return sig
            sig = openssl("dgst", "-sha256", "-sign", self.path, path)
        finally:
            os.unlink(path)
        if self.alg == "ES256":
            tag, seq, _ = der_element(sig)
            check(tag == 0x30, "ECDSA signature is not a DER SEQUENCE")
            (_, r), (_, s) = der_sequence(seq)
            return unsigned(r, 32) + unsigned(s, 32)
        check(len(sig) == 256, f"RS256 signature of {len(sig)} bytes")
        return sig


def jwks_document(keys):
    """The JWKS body as Better Auth serves it: {"keys":[...]}, compact."""
    return compact({"keys": [k.jwk for k in keys]})


# --- tokens ----------------------------------------------------------------------


def better_auth_payload(user_id, now=None, **overrides):
    """The jwt plugin's payload: session.user with iat first, then the
    registered claims. overrides: claims to change; a value of None drops it."""
    now = int(time.time()) if now is None else now
    created = datetime.datetime.fromtimestamp(now - 60, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")
    created = created[:-3] + "Z"
    payload = {"iat": now, "name": "Alice Example", "email": f"{user_id.lower()}@example.com",
               "emailVerified": False, "createdAt": created, "updatedAt": created, "id": user_id, "sub": user_id,
               "exp": now + LIFETIME, "iss": BASE_URL, "aud": BASE_URL}
    for name, value in overrides.items():
        if value is None:
            payload.pop(name, None)
        else:
            payload[name] = value
    return payload


def jws(header, payload, signer):
    """A compact JWS: signer(signing input bytes) -> signature bytes."""
    signing_input = b64url(compact(header)) + "." + b64url(compact(payload))
    return signing_input + "." + b64url(signer(signing_input.encode("ascii")))


def ba_token(key, user_id, header=None, **claims):
    """A token as Better Auth signs it with key: header {"alg","kid"} only."""
    return jws(header or {"alg": key.alg, "kid": key.kid}, better_auth_payload(user_id, **claims), key.sign)


def hs256(secret):
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    return lambda data: hmac.new(secret, data, hashlib.sha256).digest()


def hs256_token(secret, sub, **claims):
    """A shared-secret token as a Next.js frontend signs with jose's SignJWT."""
    now = int(time.time())
    payload = {"sub": sub, "iat": now, "exp": now + 3600}
    payload.update({k: v for k, v in claims.items() if v is not None})
    return jws({"alg": "HS256", "typ": "JWT"}, payload, hs256(secret))


def with_segment(token, index, data):
    parts = token.split(".")
    parts[index] = b64url(data)
    return ".".join(parts)


def flip_byte(data, i):
    data = bytearray(data)
    data[i] ^= 0x01
    return bytes(data)


# --- the pool under other settings ----------------------------------------------


def stack_with(ctx, settings, *args):
    """scripts/stack ARGS with the stack's environment plus settings (a value
    of None removes the variable)."""
    return ctx.stack(*args, settings=settings)


def pool_start(ctx, settings):
    """scripts/stack pool-start with settings, tried a second time when it
    fails: its check that the new master runs todo-api can look at the
    forked shell before it has exec'd the binary, and report "the worker
    pool did not start" although the pool comes up (about 1 start in 50).
    A second pool-start finds the live pool and returns; a pool that really
    did not start fails again."""
    try:
        stack_with(ctx, settings, "pool-start")
    except Failure:
        time.sleep(1)
        stack_with(ctx, settings, "pool-start")


@contextlib.contextmanager
def pool_with(ctx, **settings):
    """The pool restarted with extra settings for the block, then restarted
    as the suite runs it (and proved to be that again: a shared-secret token
    without iss or aud is accepted)."""
    ctx.require_stack()
    ctx.stack("pool-stop")
    failed = False
    try:
        pool_start(ctx, settings)
        check(wait_until(lambda: healthy(ctx), 10), f"health is not 200 within 10 s of pool-start with {settings}")
        yield
    except BaseException:
        failed = True
        raise
    finally:
        ctx.stack("pool-stop")
        pool_start(ctx, {})
        restored = wait_until(lambda: healthy(ctx), 10)
        if not failed:
            check(restored, "health is not 200 within 10 s of restoring the pool")
            u = ctx.user()
            check(expect_json(u.list(), 200) == [], "the restored pool refuses a plain HS256 token")


@contextlib.contextmanager
def key_directory():
    d = tempfile.mkdtemp(prefix="jwks-it-")
    os.chmod(d, 0o755)  # the pool may run as another user than the tests
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def write_jwks(directory, keys, name="jwks.json"):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(jwks_document(keys))
    os.chmod(path, 0o644)
    return path


_keys = []


def module_keys(ctx):
    """One key of each algorithm per test run, made on first use (RSA
    generation is the slow part): under the stack's directory, which the
    runner removes, or with --base in a temporary one removed at exit."""
    if not _keys:
        stack_dir = (ctx.stack_env or {}).get("STACK_DIR")
        if stack_dir and os.path.isdir(stack_dir):
            directory = tempfile.mkdtemp(prefix="jwks-keys-", dir=stack_dir)
        else:
            directory = tempfile.mkdtemp(prefix="jwks-it-keys-")
        atexit.register(shutil.rmtree, directory, True)
        _keys.extend(Key(alg, directory) for alg in ALGS)
    return list(_keys)


def ba_user(ctx, key, sub=None):
    """A user (a Better Auth id) whose requests carry a token signed by key."""
    u = ctx.user(sub or better_auth_id())
    u.token = ba_token(key, u.sub)
    return u


def refused(u, tok, why):
    """401 problem with WWW-Authenticate on a read and a write."""
    try:
        expect_problem(u.request("GET", u.tasks, token=tok), 401)
        expect_problem(u.request("POST", u.tasks, {"title": "forged"}, token=tok), 401)
    except Failure as e:
        raise Failure(f"{why}: {e}") from None


def accepted(u, tok, why):
    r = u.request("GET", u.tasks, token=tok)
    check(r.status == 200, f"{why}: expected 200, got {r.describe()}")


def file_settings(path, audience=BASE_URL):
    return {"JWKS_FILE": path, "JWKS_URL": None, "JWT_ISSUER": BASE_URL, "JWT_AUDIENCE": audience}


# --- JWKS_FILE -------------------------------------------------------------------


def test_jwks_file_each_algorithm_is_accepted_for_its_own_user_and_403_elsewhere(ctx):
    ctx.require_stack()
    keys = module_keys(ctx)
    with key_directory() as d, pool_with(ctx, **file_settings(write_jwks(d, keys))):
        for key in keys:
            a, b = ba_user(ctx, key), ba_user(ctx, key)
            t = a.create(f"signed with {key.alg}", description=key.kid)
            expect_task(t, user_id=a.sub, title=f"signed with {key.alg}", description=key.kid)
            check(a.fetch(t["id"]) == t, f"{key.alg}: GET differs from the POST answer")
            check(a.list_json() == [t], f"{key.alg}: the list is not the one task")
            # a's token on b's paths: 403, whatever the route.
            expect_problem(a.request("GET", b.tasks), 403)
            expect_problem(a.request("POST", b.tasks, {"title": "planted"}), 403)
            expect_problem(a.request("GET", b.task(t["id"])), 403)
            check(b.list_json() == [], f"{key.alg}: b sees a task")
            # The second token of the same session (set-auth-jwt) a second later.
            later = ba_token(key, a.sub, now=int(time.time()) + 1)
            check(a.request("GET", a.task(t["id"]), token=later).status == 200, f"{key.alg}: second token")


def forgeries(key, keys, foreign, sub):
    """(why, token) pairs that must each be 401, made from a valid token of
    key for sub. keys: the set the service has; foreign: keys of the same
    algorithms that are not in it."""
    good = ba_token(key, sub)
    header, payload, sig = good.split(".")
    payload_bytes, sig_bytes = b64url_decode(payload), b64url_decode(sig)
    forged = []

    # One byte changed in the payload (in the name: the JSON stays valid), or another user's payload.
    i = payload_bytes.index(b"Alice") + 1
    forged.append(("payload byte changed", with_segment(good, 1, flip_byte(payload_bytes, i))))
    forged.append(("payload of another user",
                   with_segment(good, 1, compact(better_auth_payload(better_auth_id())).encode())))
    # One byte changed in the signature: first, middle, last; cut short; empty.
    for j in (0, len(sig_bytes) // 2, len(sig_bytes) - 1):
        forged.append((f"signature byte {j} changed", with_segment(good, 2, flip_byte(sig_bytes, j))))
    forged.append(("signature truncated", f"{header}.{payload}.{sig[:-4]}"))
    forged.append(("signature empty", f"{header}.{payload}."))

    # Keys: a kid not in the set; no kid (the set has three keys); a key
    # not in the set under a kid that is, or under its own kid.
    forged.append(("unknown kid", ba_token(key, sub, header={"alg": key.alg, "kid": better_auth_id()})))
    forged.append(("no kid", ba_token(key, sub, header={"alg": key.alg})))
    forged.append(("foreign key, known kid",
                   ba_token(foreign[key.alg], sub, header={"alg": key.alg, "kid": key.kid})))
    forged.append(("foreign key, its own kid", ba_token(foreign[key.alg], sub)))
    for kid in (123, None, "", key.kid.lower(), key.kid + " "):
        forged.append((f"kid {kid!r}", ba_token(key, sub, header={"alg": key.alg, "kid": kid})))
    # The foreign key offered in the header itself (jwk), or by URL (jku, x5u).
    forged.append(("foreign key embedded as jwk", ba_token(foreign[key.alg], sub, header={
        "alg": key.alg, "kid": key.kid, "jwk": foreign[key.alg].jwk})))
    forged.append(("foreign key by jku", ba_token(foreign[key.alg], sub, header={
        "alg": key.alg, "kid": foreign[key.alg].kid, "jku": "http://127.0.0.1:9/jwks"})))
    forged.append(("signature all zero", with_segment(good, 2, bytes(len(sig_bytes)))))
    # crit (RFC 7515 4.1.11): an extension we do not understand, or a crit
    # that is not even a list of names; both signed with the right key.
    forged.append(("crit naming an unknown extension", ba_token(key, sub, header={
        "alg": key.alg, "kid": key.kid, "crit": ["urn:example:must-understand"],
        "urn:example:must-understand": True})))
    forged.append(("crit malformed", ba_token(key, sub, header={"alg": key.alg, "kid": key.kid, "crit": "exp"})))
    # This algorithm in the header, another algorithm's kid, signed by that key.
    for other in keys:
        if other is not key:
            forged.append((f"{key.alg} header naming the {other.alg} kid",
                           ba_token(other, sub, header={"alg": key.alg, "kid": other.kid})))

    # The algorithm swapped in the header, signature kept.
    for alg in [a for a in ALGS if a != key.alg] + ["HS256", "HS384", "HS512", "PS256", "ES384", "RS384",
                                                   "eddsa", ""]:
        forged.append((f"alg swapped to {alg!r}", f"{b64url(compact({'alg': alg, 'kid': key.kid}))}.{payload}.{sig}"))

    # alg none, with and without a signature or a kid.
    for alg in ("none", "None", "NONE"):
        h = b64url(compact({"alg": alg, "kid": key.kid}))
        forged.append((f"alg {alg}, empty signature", f"{h}.{payload}."))
        forged.append((f"alg {alg}, original signature", f"{h}.{payload}.{sig}"))
    forged.append(("alg none without kid", f"{b64url(compact({'alg': 'none'}))}.{payload}."))

    # Algorithm confusion: well-formed HS256 tokens whose HMAC key is public
    # material a verifier might take for a secret.
    material = {"SPKI PEM text": key.spki_pem, "SPKI PEM without its last newline": key.spki_pem.rstrip("\n"),
                "SPKI DER": key.spki_der, "JWK JSON as served": compact(key.jwk),
                "JWKS document text": jwks_document(keys)}
    for name, value in key.raw.items():
        material[f"{name} as base64url text"] = b64url(value)
        material[f"{name} raw bytes"] = value
    if key.rsa_pkcs1_pem:
        material["PKCS#1 PEM"] = key.rsa_pkcs1_pem
    for name, secret in material.items():
        claims = better_auth_payload(sub)
        forged.append((f"HS256 keyed with the {name}", jws({"alg": "HS256", "kid": key.kid}, claims, hs256(secret))))
        forged.append((f"HS256 without kid keyed with the {name}",
                       jws({"alg": "HS256", "typ": "JWT"}, claims, hs256(secret))))

    # Validly signed, but expired beyond the 60 s leeway, issued in the
    # future, without exp or without sub.
    now = int(time.time())
    forged.append(("expired", ba_token(key, sub, now=now - LIFETIME - 120)))
    forged.append(("iat in the future", ba_token(key, sub, now=now + 600)))
    forged.append(("no exp", ba_token(key, sub, exp=None)))
    forged.append(("no sub", ba_token(key, sub, sub=None)))
    return forged


def test_jwks_file_forged_tokens_are_401(ctx):
    """Changed payload or signature bytes, an unknown or missing kid, a
    foreign key, the algorithm swapped, alg none, HS256 keyed with public key
    material (algorithm confusion), expired: each 401 with WWW-Authenticate,
    on a read and on a write, and nothing is stored."""
    ctx.require_stack()
    keys = module_keys(ctx)
    with key_directory() as d:
        foreign = {alg: Key(alg, d) for alg in ALGS}
        with pool_with(ctx, **file_settings(write_jwks(d, keys))):
            for key in keys:
                u = ba_user(ctx, key)
                accepted(u, u.token, f"{key.alg}: the untouched token")
                for why, tok in forgeries(key, keys, foreign, u.sub):
                    refused(u, tok, f"{key.alg}: {why}")
                check(u.list_json() == [], f"{key.alg}: a forged token created a task")


def test_jwks_file_and_shared_secret_work_side_by_side_with_iss_and_aud(ctx):
    """With JWT_ISSUER and JWT_AUDIENCE set, they bind HS256 tokens too: an
    HS256 token with the real BETTER_AUTH_SECRET but no aud (or a wrong iss)
    is 401; with both right it is accepted, next to EdDSA tokens."""
    ctx.require_stack()
    keys = module_keys(ctx)
    with key_directory() as d, pool_with(ctx, **file_settings(write_jwks(d, keys))):
        sub = better_auth_id()
        u = ba_user(ctx, keys[0], sub)
        refused(u, hs256_token(ctx.secret, sub), "HS256 without iss and aud")
        refused(u, hs256_token(ctx.secret, sub, iss=BASE_URL), "HS256 with iss, without aud")
        refused(u, hs256_token(ctx.secret, sub, aud=BASE_URL), "HS256 with aud, without iss")
        refused(u, hs256_token(ctx.secret, sub, iss="http://evil.example", aud=BASE_URL), "HS256 with a wrong iss")
        refused(u, hs256_token(ctx.secret, sub, iss=BASE_URL, aud=OTHER_AUDIENCE), "HS256 with a wrong aud")
        refused(u, hs256_token(ctx.secret, sub, iss=BASE_URL, aud=BASE_URL + "/"), "HS256 with aud + '/'")
        refused(u, hs256_token(ctx.secret + "x", sub, iss=BASE_URL, aud=BASE_URL), "HS256 with a wrong secret")
        for key in keys:
            refused(u, ba_token(key, sub, aud=None), f"{key.alg} without aud")
            refused(u, ba_token(key, sub, iss=None), f"{key.alg} without iss")
            refused(u, ba_token(key, sub, iss="http://evil.example"), f"{key.alg} with a wrong iss")
        hs = hs256_token(ctx.secret, sub, iss=BASE_URL, aud=BASE_URL)
        t1 = expect_task(expect_json(u.request("POST", u.tasks, {"title": "by HS256"}, token=hs), 201), user_id=sub)
        t2 = expect_task(expect_json(u.request("POST", u.tasks, {"title": "by EdDSA"}), 201), user_id=sub)
        # aud may be an array that holds the audience.
        hs_array = hs256_token(ctx.secret, sub, iss=BASE_URL, aud=[OTHER_AUDIENCE, BASE_URL])
        listed = expect_json(u.request("GET", u.tasks, token=hs_array), 200)
        check([t["id"] for t in listed] == [t2["id"], t1["id"]], f"list by either token: {listed!r}")
        es = ba_token(keys[1], sub)
        check(expect_json(u.request("GET", u.task(t1["id"]), token=es), 200) == t1, "ES256 reads the HS256 task")


def test_jwks_file_other_audience_makes_better_auth_tokens_401(ctx):
    ctx.require_stack()
    keys = module_keys(ctx)
    with key_directory() as d, pool_with(ctx, **file_settings(write_jwks(d, keys), audience=OTHER_AUDIENCE)):
        sub = better_auth_id()
        u = ba_user(ctx, keys[0], sub)
        refused(u, u.token, "a valid EdDSA token for http://localhost:3000")
        accepted(u, ba_token(keys[0], sub, aud=OTHER_AUDIENCE), "EdDSA token for the configured audience")
        accepted(u, ba_token(keys[0], sub, aud=[BASE_URL, OTHER_AUDIENCE]), "EdDSA token with both audiences")
        refused(u, hs256_token(ctx.secret, sub, iss=BASE_URL, aud=BASE_URL), "HS256 for http://localhost:3000")


# --- JWKS_URL --------------------------------------------------------------------


class JwksServer:
    """Serves a JWKS document at JWKS_PATH on 127.0.0.1 (port, or a free
    one) from a thread, counting the GETs; `document` may be replaced at any
    time, and `hang()` makes every later GET wait, unanswered, until the
    server stops."""

    def __init__(self, document, port=0):
        self.document, self.fetches, self.lock = document, [], threading.Lock()
        self.hanging, self.released = False, threading.Event()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                with owner.lock:
                    owner.fetches.append((time.time(), self.path, self.headers.get("Accept")))
                    body = owner.document.encode("utf-8")
                    hanging = owner.hanging
                if hanging:
                    owner.released.wait(30)
                    return
                if self.path != JWKS_PATH:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{JWKS_PATH}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def count(self):
        with self.lock:
            return len(self.fetches)

    def serve(self, document):
        with self.lock:
            self.document = document

    def hang(self):
        with self.lock:
            self.hanging = True

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on (just now)."""
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def url_settings(url):
    return {"JWKS_URL": url, "JWKS_FILE": None, "JWT_ISSUER": BASE_URL, "JWT_AUDIENCE": BASE_URL}


def test_jwks_url_keys_are_fetched_once_per_worker_at_start_and_unknown_kid_is_401(ctx):
    """JWKS_URL alone: each worker fetches the document once as it starts
    (the master fetches nothing: it only starts workers). A kid added to the served document
    later is 401 within 10 s of that fetch (the cooldown of unknown kids)
    and causes no fetch, however often it comes; nor does the timer fetch
    within its minute."""
    ctx.require_stack()
    keys = module_keys(ctx)
    with key_directory() as d:
        newcomer = Key("EdDSA", d)
        with JwksServer(jwks_document(keys)) as server, pool_with(ctx, **url_settings(server.url)):
            wait_until(lambda: server.count() >= ctx.workers, 5)
            check(server.count() == ctx.workers,
                  f"expected one fetch per worker at start, got {server.fetches}")
            check(all(f[1] == JWKS_PATH for f in server.fetches), f"fetched {server.fetches!r}")
            fetched = server.fetches[0][0]
            server.serve(jwks_document(keys + [newcomer]))
            u = ba_user(ctx, newcomer)
            for _ in range(ctx.workers * 3):
                refused(u, u.token, "a kid served only after the start-up fetch, within the cooldown")
            refused(u, ba_token(keys[0], u.sub, header={"alg": "EdDSA", "kid": better_auth_id()}),
                    "a kid served nowhere")
            elapsed = time.time() - fetched
            check(elapsed < KID_COOLDOWN - 2, f"{elapsed:.1f} s since the fetch: the cooldown may have passed")
            check(server.count() == ctx.workers,
                  f"unknown kids within the cooldown caused fetches: {server.fetches}")

            for key in keys:
                a, b = ba_user(ctx, key), ba_user(ctx, key)
                t = a.create(f"via JWKS_URL, {key.alg}")
                check(a.fetch(t["id"]) == t, f"{key.alg}: GET differs from the POST answer")
                expect_problem(a.request("GET", b.tasks), 403)
                for _ in range(ctx.workers * 2):  # every worker has the keys
                    accepted(a, a.token, f"{key.alg} token, repeated")
            elapsed = time.time() - fetched
            check(elapsed < REFRESH_SECONDS - 5, f"the test took {elapsed:.0f} s: the minute may have passed")
            check(server.count() <= 2 * ctx.workers,
                  f"more than one fetch per worker for unknown kids, or a timer fetch: {server.fetches}")


def test_jwks_url_refresh_on_unknown_kid_after_the_interval(ctx):
    """A key rotated into the served document is accepted without a restart
    once JWKS_REFRESH_SECONDS (here 3) have passed since the start-up fetch,
    by every worker (each refetches on its timer or on the first sight of
    the kid), and no worker fetches more often than its timer and the kid
    say."""
    ctx.require_stack()
    refresh_seconds = 3
    keys = module_keys(ctx)
    with key_directory() as d:
        newcomer = Key("ES256", d)
        settings = {"JWKS_REFRESH_SECONDS": str(refresh_seconds)}
        with JwksServer(jwks_document(keys[:1])) as server, \
                pool_with(ctx, **url_settings(server.url), **settings):
            check(server.count() >= 1, f"expected a fetch at start, got {server.fetches}")
            fetched = server.fetches[0][0]
            u = ba_user(ctx, newcomer)
            server.serve(jwks_document(keys[:1] + [newcomer]))
            time.sleep(max(0.0, fetched + refresh_seconds + 1.5 - time.time()))
            t = expect_task(expect_json(u.request("POST", u.tasks, {"title": "rotated in"}), 201), user_id=u.sub)
            for _ in range(ctx.workers * 4):
                check(u.fetch(t["id"]) == t, "the rotated-in key is not accepted by every worker")
            old = ba_user(ctx, keys[0])
            accepted(old, old.token, "the old key")
            refused(u, ba_token(newcomer, u.sub, header={"alg": "ES256", "kid": better_auth_id()}), "unknown kid")
            # Each worker: its timer every 3 s, and an unknown kid at most once per 3 s besides.
            rounds = (time.time() - fetched) / refresh_seconds + 1
            check(server.count() <= 1 + ctx.workers * 2 * rounds,
                  f"{server.count()} fetches in {rounds:.1f} intervals by {ctx.workers} workers")


def test_jwks_url_down_at_start_keys_are_fetched_once_it_comes_up(ctx):
    """Finding 3: JWKS_URL refuses connections when the pool starts. A valid
    token is then 503 with Retry-After (the keys are unavailable: not the
    client's fault), not 401; once the key server comes up, it is accepted
    by every worker within a few seconds, without a restart."""
    ctx.require_stack()
    keys = module_keys(ctx)
    port = free_port()
    url = f"http://127.0.0.1:{port}{JWKS_PATH}"
    with pool_with(ctx, **url_settings(url)):
        u = ba_user(ctx, keys[0])
        for _ in range(ctx.workers * 2):
            r = u.request("GET", u.tasks)
            body = expect_problem(r, 503)
            check("keys" in body["detail"], f"the 503 does not say the keys are unavailable: {r.describe()}")
        hs = ctx.user()
        accepted(hs, hs256_token(ctx.secret, hs.sub, iss=BASE_URL, aud=BASE_URL),
                 "a shared-secret token while JWKS_URL is down")
        with JwksServer(jwks_document(keys), port=port) as server:
            up = time.time()
            check(wait_until(lambda: u.request("GET", u.tasks).status == 200, 15),
                  f"a valid token is not accepted within 15 s of the key server coming up ({server.fetches})")
            took = time.time() - up
            for _ in range(ctx.workers * 3):
                accepted(u, u.token, "a valid token, once the keys are there")
            print(f"    accepted {took:.1f} s after the key server came up, {server.count()} fetch(es)")


def test_jwks_url_removed_key_is_refused_after_the_refresh(ctx):
    """Finding 4: a key removed from the served JWKS. Its token, accepted
    (and cached by every worker) before, is refused once the timer has
    refetched (JWKS_REFRESH_SECONDS=1 here), by every worker; the key that
    stayed is still accepted."""
    ctx.require_stack()
    keys = module_keys(ctx)
    kept, removed = keys[0], keys[1]
    settings = {"JWKS_REFRESH_SECONDS": "1"}
    with JwksServer(jwks_document([kept, removed])) as server, \
            pool_with(ctx, **url_settings(server.url), **settings):
        a, b = ba_user(ctx, kept), ba_user(ctx, removed)
        for _ in range(ctx.workers * 3):
            accepted(a, a.token, "the kept key, before")
            accepted(b, b.token, "the key to be removed, before")
        server.serve(jwks_document([kept]))
        changed = time.time()
        check(wait_until(lambda: b.request("GET", b.tasks).status == 401, 5),
              "the removed key's token is still accepted 5 s after it left the set")
        first = time.time() - changed
        time.sleep(max(0.0, changed + 3 - time.time()))  # every worker: a 1 s timer, a 1 s idle tick, slack
        for _ in range(ctx.workers * 3):
            r = b.request("GET", b.tasks)
            body = expect_problem(r, 401)
            check(body["detail"] == "unknown signing key", f"the removed key's token: {r.describe()}")
            accepted(a, a.token, "the kept key, after")
        print(f"    first refused {first:.1f} s after the key left the set")


def test_jwks_url_unknown_kid_with_a_hanging_key_server_is_answered_quickly(ctx):
    """Finding 5: the key server accepts connections but never answers. A
    token with an unknown kid is answered within a second, every time, for
    a few seconds: whether its worker refetches for the kid (300 ms at most)
    or its timer refetched first, failed, and the kid is 503 at once (the
    usual case here, as the timer and the kid's cooldown end together; the
    kid's own bound is tested in tests/unit/test_jwks.c)."""
    ctx.require_stack()
    keys = module_keys(ctx)
    settings = {"JWKS_REFRESH_SECONDS": "2"}
    with JwksServer(jwks_document(keys)) as server, \
            pool_with(ctx, **url_settings(server.url), **settings):
        server.hang()
        u = ba_user(ctx, keys[0])
        accepted(u, u.token, "a known kid while the key server hangs")
        time.sleep(max(0.0, server.fetches[0][0] + 2.2 - time.time()))  # the interval has passed
        slowest, answers, deadline = 0.0, set(), time.time() + 5
        while time.time() < deadline:
            token = ba_token(keys[0], u.sub, header={"alg": "EdDSA", "kid": better_auth_id()})
            started = time.monotonic()
            r = u.request("GET", u.tasks, token=token)
            took = time.monotonic() - started
            slowest = max(slowest, took)
            check(r.status in (401, 503), f"an unknown kid: {r.describe()}")
            expect_problem(r, r.status)
            answers.add(r.status)
            check(took < 1.0, f"an unknown kid held the request {took:.2f} s ({server.count()} fetches)")
        check(server.count() > 1, f"no refetch was tried: {server.fetches}")
        accepted(u, u.token, "a known kid after the refetches failed")
        print(f"    slowest answer {slowest:.2f} s, answers {sorted(answers)}, {server.count()} fetches")


# --- start-up refusals -------------------------------------------------------------


def start_directly(ctx, **settings):
    """Runs the binary without LISTEN or an inherited socket (stdin is
    /dev/null): it loads its configuration and keys, then exits. Returns
    (exit status, stderr text)."""
    env = bare_environment(ctx)
    env.update(DATABASE_URL="host=/nonexistent dbname=nothing", ENVIRONMENT="development")
    env.update({k: v for k, v in settings.items() if v is not None})
    p = subprocess.run([binary(ctx)], env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    return p.returncode, p.stderr.decode("utf-8", "replace")


def test_jwks_service_refuses_to_start_with_a_missing_or_bad_jwks_file(ctx):
    keys = module_keys(ctx)
    with key_directory() as d:
        good = write_jwks(d, keys)
        code, err = start_directly(ctx, BETTER_AUTH_SECRET="s" * 40, JWKS_FILE=good)
        # The control: good keys pass, and it stops only for want of a socket.
        check(code != 0 and "JWKS_FILE" not in err and "3 JWKS key(s)" in err and "no socket" in err,
              f"a good JWKS_FILE: exit {code}, {err!r}")

        def write(name, text):
            path = os.path.join(d, name)
            with open(path, "w") as f:
                f.write(text)
            return path

        small = os.path.join(d, "rsa1024.pem")
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", small)
        _, rsa, _ = der_element(spki_public_bits(openssl("pkey", "-in", small, "-pubout", "-outform", "DER")))
        (_, n), (_, e) = der_sequence(rsa)
        bad = {
            "missing file": os.path.join(d, "no-such-file.json"),
            "a directory": d,
            "empty file": write("empty.json", ""),
            "garbage": write("garbage.json", "this is not JSON \x01\x02"),
            "truncated JSON": write("truncated.json", jwks_document(keys)[:-7]),
            "JSON without keys": write("nokeys.json", '{"kty":"OKP"}'),
            "empty key set": write("emptyset.json", '{"keys":[]}'),
            "only a shared-secret key": write("oct.json", '{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"a"}]}'),
            "only an RSA key of 1024 bits": write("rsa1024.json", compact({"keys": [{
                "alg": "RS256", "kty": "RSA", "n": b64url(unsigned(n)), "e": b64url(unsigned(e)), "kid": "k"}]})),
            "only a key whose alg does not fit it": write("misfit.json", compact({"keys": [
                dict(keys[0].jwk, alg="RS256")]})),
        }
        for what, path in bad.items():
            code, err = start_directly(ctx, BETTER_AUTH_SECRET="s" * 40, JWKS_FILE=path)
            check(code != 0, f"JWKS_FILE {what}: exit status 0")
            check(f"JWKS_FILE {path}" in err and "configuration" in err and "no socket" not in err,
                  f"JWKS_FILE {what}: the message does not name JWKS_FILE: {err!r}")
            check("s" * 40 not in err, f"JWKS_FILE {what}: the secret is printed")


def test_jwks_service_refuses_to_start_without_a_key_source(ctx):
    for settings in ({}, {"BETTER_AUTH_SECRET": "", "JWKS_FILE": "", "JWKS_URL": ""}):
        code, err = start_directly(ctx, **settings)
        check(code != 0 and "no key source" in err and "no socket" not in err,
              f"no key source ({settings}): exit {code}, {err!r}")
    # JWKS_URL alone is a key source even when it cannot be fetched yet: the
    # service starts (and here stops for want of a socket), saying it will retry.
    code, err = start_directly(ctx, JWKS_URL="http://127.0.0.1:9/api/auth/jwks")
    check(code != 0 and "no key source" not in err and "will try again" in err and "no socket" in err,
          f"an unreachable JWKS_URL alone: exit {code}, {err!r}")
    # JWKS_ALGORITHMS may not name an HMAC algorithm or none.
    for algs in ("HS256", "none", "EdDSA,HS512", "XYZ"):
        code, err = start_directly(ctx, BETTER_AUTH_SECRET="s" * 40, JWKS_ALGORITHMS=algs)
        check(code != 0 and "JWKS_ALGORITHMS" in err, f"JWKS_ALGORITHMS={algs}: exit {code}, {err!r}")


def test_jwks_service_refuses_plain_http_jwks_url_in_production(ctx):
    """Finding 5: in production a JWKS_URL over plain http to another host
    (whose keys anyone on the way could replace) stops the start, saying
    why; https, and plain http to this host, start (and here stop for want
    of a socket)."""
    secret = "s" * 40
    for url in ("http://auth.example/api/auth/jwks", "http://10.1.2.3:3000/api/auth/jwks"):
        code, err = start_directly(ctx, ENVIRONMENT="production", BETTER_AUTH_SECRET=secret, JWKS_URL=url)
        check(code != 0 and "JWKS_URL must use https://" in err and "no socket" not in err,
              f"production, JWKS_URL={url}: exit {code}, {err!r}")
    for url in ("http://127.0.0.1:9/api/auth/jwks", "http://localhost:9/api/auth/jwks",
                "https://127.0.0.1:9/api/auth/jwks"):
        code, err = start_directly(ctx, ENVIRONMENT="production", BETTER_AUTH_SECRET=secret, JWKS_URL=url)
        check(code != 0 and "JWKS_URL must" not in err and "no socket" in err,
              f"production, JWKS_URL={url}: exit {code}, {err!r}")
    code, err = start_directly(ctx, BETTER_AUTH_SECRET=secret, JWKS_URL="http://auth.example/api/auth/jwks")
    check(code != 0 and "JWKS_URL must" not in err and "no socket" in err,
          f"development, plain http to another host: exit {code}, {err!r}")

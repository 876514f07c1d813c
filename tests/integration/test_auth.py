"""Bearer tokens: what is accepted, and every kind of token that is 401."""
import time

import client
from client import GARBAGE_TOKENS, Skip, check, expect_json, expect_problem


def rejected(ctx, u, tok):
    """The token is refused on the list route and on a task route."""
    expect_problem(u.request("GET", u.tasks, token=tok), 401)
    expect_problem(u.request("POST", u.tasks, {"title": "x"}, token=tok), 401)


def test_valid_hs256_token_is_accepted(ctx):
    u = ctx.user()
    check(expect_json(u.list(), 200) == [], "new user's list is not empty")


def test_missing_authorization_is_401(ctx):
    u = ctx.user()
    rejected(ctx, u, None)


def test_non_bearer_scheme_is_401(ctx):
    u = ctx.user()
    for value in ("Basic YWxpY2U6c2VjcmV0", f"Token {u.token}", u.token):
        expect_problem(u.request("GET", u.tasks, token=None, headers={"Authorization": value}), 401)


def test_empty_bearer_is_401(ctx):
    u = ctx.user()
    for value in ("Bearer", "Bearer ", "Bearer  "):
        expect_problem(u.request("GET", u.tasks, token=None, headers={"Authorization": value}), 401)


def test_garbage_tokens_are_401(ctx):
    u = ctx.user()
    for tok in GARBAGE_TOKENS:
        expect_problem(u.request("GET", u.tasks, token=tok), 401)


def test_alg_none_is_401(ctx):
    u = ctx.user()
    rejected(ctx, u, client.alg_none_token(u.sub, ctx.secret))


def test_wrong_secret_is_401(ctx):
    u = ctx.user()
    rejected(ctx, u, client.wrong_secret_token(u.sub, ctx.secret))


def test_tampered_payload_is_401(ctx):
    u = ctx.user()
    rejected(ctx, u, client.tampered_token(u.sub, ctx.secret))


def test_truncated_signature_is_401(ctx):
    u = ctx.user()
    rejected(ctx, u, u.token[:-4])
    rejected(ctx, u, u.token.rsplit(".", 1)[0] + ".")
    rejected(ctx, u, u.token.rsplit(".", 1)[0])


def test_other_hmac_algorithms_are_401(ctx):
    u = ctx.user()
    for alg in ("HS384", "HS512"):
        rejected(ctx, u, client.other_alg_token(u.sub, ctx.secret, alg))


def test_crit_header_is_401(ctx):
    """RFC 7515 4.1.11: a crit header names extensions the token needs
    understood; the service understands none, so a token carrying crit,
    well formed or not, is refused although its signature is good."""
    u = ctx.user()
    now = int(time.time())
    claims = {"sub": u.sub, "iat": now, "exp": now + 3600}
    for extra in ({"crit": ["exp"], "exp": now + 3600}, {"crit": ["urn:example:unknown"], "urn:example:unknown": 1},
                  {"crit": []}, {"crit": "exp"}, {"crit": None}):
        tok = client.sign({"alg": "HS256", "typ": "JWT", **extra}, claims, ctx.secret)
        body = expect_problem(u.request("GET", u.tasks, token=tok), 401)
        check(body["detail"] == "critical header parameter not understood", f"crit {extra}: {body}")
    check(expect_json(u.request("GET", u.tasks, token=client.sign({"alg": "HS256", "typ": "JWT"}, claims,
                                                                   ctx.secret)), 200) == [],
          "the same token without crit is refused")


def test_expired_beyond_leeway_is_401(ctx):
    u = ctx.user()
    rejected(ctx, u, client.expired_token(u.sub, ctx.secret))


def test_expired_within_leeway_is_accepted(ctx):
    u = ctx.user()
    expect_json(u.request("GET", u.tasks, token=ctx.token(u.sub, exp_delta=-30)), 200)


def test_missing_exp_is_401(ctx):
    u = ctx.user()
    rejected(ctx, u, client.missing_exp_token(u.sub, ctx.secret))


def test_exp_as_string_is_401(ctx):
    u = ctx.user()
    rejected(ctx, u, client.string_exp_token(u.sub, ctx.secret))


def test_exp_of_other_json_types_is_401(ctx):
    u = ctx.user()
    for exp in (True, None, [int(time.time()) + 3600], {"t": 1}):
        rejected(ctx, u, ctx.token(u.sub, exp=exp))


def test_nbf_or_iat_not_a_number_is_401(ctx):
    u = ctx.user()
    rejected(ctx, u, ctx.token(u.sub, iat="yesterday"))
    rejected(ctx, u, ctx.token(u.sub, nbf=str(int(time.time()))))


def test_nbf_in_future_beyond_leeway_is_401(ctx):
    u = ctx.user()
    rejected(ctx, u, client.future_nbf_token(u.sub, ctx.secret))


def test_nbf_within_leeway_is_accepted(ctx):
    u = ctx.user()
    expect_json(u.request("GET", u.tasks, token=ctx.token(u.sub, nbf=int(time.time()) + 30)), 200)


def test_iat_in_future_beyond_leeway_is_401(ctx):
    u = ctx.user()
    rejected(ctx, u, client.future_iat_token(u.sub, ctx.secret))


def test_missing_sub_is_401(ctx):
    u = ctx.user()
    rejected(ctx, u, client.missing_sub_token(ctx.secret))


def test_empty_sub_is_401(ctx):
    tok = client.empty_sub_token(ctx.secret)
    for path in ("/api/x/tasks", "/api/%20/tasks"):
        expect_problem(ctx.client.request("GET", path, token=tok), 401)


def test_non_string_sub_is_401(ctx):
    for sub in (12345, ["it-list"], None):
        tok = ctx.token(sub)
        expect_problem(ctx.client.request("GET", "/api/12345/tasks", token=tok), 401)


def test_iss_and_aud_are_ignored_when_not_configured(ctx):
    if ctx.stack_env is None:
        raise Skip("JWT_ISSUER/JWT_AUDIENCE of a stack given by --base are unknown")
    u = ctx.user()
    tok = ctx.token(u.sub, iss="http://elsewhere", aud="http://elsewhere")
    expect_json(u.request("GET", u.tasks, token=tok), 200)


def test_token_of_a_rejected_request_grants_nothing(ctx):
    u = ctx.user()
    t = u.create("mine")
    for tok in (client.expired_token(u.sub, ctx.secret), client.wrong_secret_token(u.sub, ctx.secret)):
        expect_problem(u.request("DELETE", u.task(t["id"]), token=tok), 401)
        expect_problem(u.request("PATCH", u.complete(t["id"]), token=tok), 401)
        expect_problem(u.request("PUT", u.task(t["id"]), {"title": "changed"}, token=tok), 401)
    check(u.fetch(t["id"]) == t, "a 401 request changed the task")

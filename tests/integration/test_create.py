"""POST /api/{user_id}/tasks: success shape, field rules, JSON and Content-Type."""
from client import (MAX_ID, UNICODE_WHITE_SPACE, check, expect_json, expect_problem, expect_status,
                    expect_task)

EMOJI = "\U0001F600"  # one code point, four UTF-8 bytes, two UTF-16 units


def post(u, body, **kw):
    return u.request("POST", u.tasks, body, **kw)


def test_create_is_201_with_location_and_task(ctx):
    u = ctx.user()
    r = post(u, {"title": "Buy milk", "description": "two litres"})
    t = expect_task(expect_json(r, 201), title="Buy milk", description="two litres", completed=False,
                    user_id=u.sub)
    check(r.header("Location") == f"{u.tasks}/{t['id']}", f"Location: {r.describe()}")
    check(t["created_at"] == t["updated_at"], f"new task: created_at != updated_at: {t}")
    check(u.fetch(t["id"]) == t, "GET differs from what POST returned")


def test_create_description_is_null_when_absent(ctx):
    u = ctx.user()
    expect_task(u.create("no description"), description=None)
    expect_task(u.create("null description", description=None), description=None)


def test_create_completed_defaults_false_and_true_is_kept(ctx):
    u = ctx.user()
    expect_task(u.create("default"), completed=False)
    expect_task(u.create("done", completed=True), completed=True)
    expect_task(u.create("not done", completed=False), completed=False)


def test_create_ignores_unknown_fields_and_server_fields(ctx):
    u, other = ctx.user(), ctx.user()
    t = u.create("owned", user_id=other.sub, id=MAX_ID - 7, created_at="2000-01-01T00:00:00.000000Z",
                 updated_at="2000-01-01T00:00:00.000000Z", extra={"a": [1, 2]}, tags=["home"])
    expect_task(t, user_id=u.sub)
    check(t["created_at"] > "2001", f"created_at taken from the body: {t}")
    check(t["id"] != MAX_ID - 7, f"id taken from the body: {t}")
    check(other.list_ids() == [], "the body's user_id got the task")


def test_create_ids_are_unique_and_never_reused(ctx):
    u, other = ctx.user(), ctx.user()
    first = u.create("first")["id"]
    expect_status(u.request("DELETE", u.task(first)), 204)
    ids = [u.create("again")["id"], other.create("other user")["id"], u.create("third")["id"]]
    check(first not in ids and len(set(ids)) == 3, f"ids {first} then {ids}")


def test_title_is_trimmed(ctx):
    u = ctx.user()
    expect_task(u.create("  Buy milk \t\n"), title="Buy milk")
    expect_task(u.create(" inner  spaces stay "), title="inner  spaces stay")


def test_title_trims_each_unicode_white_space(ctx):
    u = ctx.user()
    wrong = []
    for ws in UNICODE_WHITE_SPACE:
        t = u.create(f"{ws}{ws}x{ws}y{ws}")
        if t["title"] != f"x{ws}y":
            wrong.append(f"U+{ord(ws):04X}")
    check(not wrong, f"not trimmed (or inner one removed): {wrong}")


def test_zero_width_space_is_not_white_space(ctx):
    u = ctx.user()
    expect_task(u.create("\u200bx\u200b"), title="\u200bx\u200b")


def test_blank_title_is_400(ctx):
    u = ctx.user()
    for title in ("", " ", "\t\n", "".join(UNICODE_WHITE_SPACE)):
        expect_problem(post(u, {"title": title}), 400, field="title")
    check(u.list_ids() == [], "a blank title was stored")


def test_title_of_200_code_points_is_accepted(ctx):
    u = ctx.user()
    for title in ("x" * 200, "\u00e9" * 200, "\u4e2d" * 200, EMOJI * 200):
        expect_task(u.create(title), title=title)


def test_title_of_201_code_points_is_400(ctx):
    u = ctx.user()
    for title in ("x" * 201, "\u00e9" * 201, EMOJI * 201):
        expect_problem(post(u, {"title": title}), 400, field="title")


def test_title_length_counts_after_trimming(ctx):
    u = ctx.user()
    expect_task(u.create("   " + "x" * 200 + "\u3000\u3000"), title="x" * 200)


def test_title_with_escaped_surrogate_pairs_counts_code_points(ctx):
    u = ctx.user()
    body = '{"title":"' + "\\ud83d\\ude00" * 200 + '"}'
    expect_task(expect_json(post(u, body), 201), title=EMOJI * 200)
    expect_problem(post(u, '{"title":"' + "\\ud83d\\ude00" * 201 + '"}'), 400, field="title")


def test_utf8_text_round_trips(ctx):
    u = ctx.user()
    title, description = "caf\u00e9 \u4e2d\u6587 " + EMOJI + ' "quoted" \\ back/slash', "line1\nline2\ttab \u00fc"
    t = u.create(title, description=description)
    expect_task(t, title=title, description=description)
    check(u.fetch(t["id"]) == t, "stored text differs")


def test_description_of_1000_code_points_is_accepted(ctx):
    u = ctx.user()
    for description in ("d" * 1000, EMOJI * 1000):
        expect_task(u.create("x", description=description), description=description)


def test_description_of_1001_code_points_is_400(ctx):
    u = ctx.user()
    for description in ("d" * 1001, EMOJI * 1001):
        expect_problem(post(u, {"title": "x", "description": description}), 400, field="description")


def test_nul_character_is_400(ctx):
    u = ctx.user()
    expect_problem(post(u, {"title": "a\u0000b"}), 400, field="title")
    expect_problem(post(u, {"title": "\u0000"}), 400, field="title")
    expect_problem(post(u, {"title": "x", "description": "a\u0000"}), 400, field="description")
    check(u.list_ids() == [], "a string with U+0000 was stored")


def test_missing_title_is_400(ctx):
    u = ctx.user()
    expect_problem(post(u, {"description": "x"}), 400, field="title")
    expect_problem(post(u, {}), 400, field="title")


def test_wrong_title_types_are_400(ctx):
    u = ctx.user()
    for value in (5, 1.5e3, None, True, ["x"], {"x": 1}):
        expect_problem(post(u, {"title": value}), 400, field="title")


def test_wrong_description_types_are_400(ctx):
    u = ctx.user()
    for value in (1, False, ["x"], {"x": 1}):
        expect_problem(post(u, {"title": "x", "description": value}), 400, field="description")


def test_wrong_completed_types_are_400(ctx):
    u = ctx.user()
    for value in ("true", 1, 0, None, [], {}):
        expect_problem(post(u, {"title": "x", "completed": value}), 400, field="completed")
    check(u.list_ids() == [], "an invalid body was stored")


def test_invalid_json_is_400(ctx):
    u = ctx.user()
    bodies = [b"{nope", b"", b"{", b'{"title":"x",}', b"{'title':'x'}", b'{"title":"x"} trailing',
              b'{"title":"x"}{}', b'{"title": NaN}', b'{"title":"x","completed":Infinity}',
              b'\xef\xbb\xbf{"title":"bom"}', b'{"title":"\xff"}', b'{"title":"\xc3"}',
              b'{"title":"\\ud800"}', b'{"title":"\\udc00x"}', b'{"title":"a\tb"}', b'{"title":"\\x41"}']
    for body in bodies:
        expect_problem(post(u, body), 400)
    check(u.list_ids() == [], "an invalid body was stored")


def test_json_that_is_not_an_object_is_400(ctx):
    u = ctx.user()
    for body in ("[]", '[{"title":"x"}]', '"x"', "null", "5", "true"):
        expect_problem(post(u, body), 400)


def test_white_space_around_json_is_accepted(ctx):
    u = ctx.user()
    expect_task(expect_json(post(u, ' \n{"title":"ws"}\r\n\t'), 201), title="ws")


def test_deeply_nested_unknown_field_does_not_crash(ctx):
    u = ctx.user()
    depth = 20000
    r = post(u, '{"title":"deep","x":' + "[" * depth + "]" * depth + "}")
    check(r.status in (201, 400), f"nested JSON: {r.describe()}")
    if r.status == 400:
        expect_problem(r, 400)
    check(expect_json(ctx.client.request("GET", "/api/health"), 200) == {"status": "ok"}, "health after nested JSON")


def test_content_type_with_charset_and_any_case_is_accepted(ctx):
    u = ctx.user()
    for ctype in ("application/json; charset=utf-8", "application/json;charset=UTF-8", "Application/JSON"):
        expect_task(expect_json(post(u, {"title": ctype}, ctype=ctype), 201), title=ctype)


def test_text_plain_is_415(ctx):
    u = ctx.user()
    expect_problem(post(u, {"title": "x"}, ctype="text/plain"), 415)


def test_missing_content_type_is_415(ctx):
    u = ctx.user()
    expect_problem(post(u, {"title": "x"}, ctype=None), 415)
    expect_problem(u.request("POST", u.tasks, None), 415)


def test_json_lookalike_media_types_are_415(ctx):
    u = ctx.user()
    for ctype in ("application/jsonx", "application/problem+json", "application/x-www-form-urlencoded",
                  "text/json", "json"):
        expect_problem(post(u, {"title": "x"}, ctype=ctype), 415)
    check(u.list_ids() == [], "a 415 request created a task")


"""schema.sql on a database of contract v1 holding tasks: scripts/stack
(what scripts/start runs) migrates it in place, twice without a change, and
the service then serves the old tasks with their v1.1 defaults."""
import glob
import os
import shutil
import subprocess
import tempfile

from client import Client, check, expect_json, expect_task, free_port, token

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA_V1 = os.path.join(HERE, "fixtures", "schema-v1.sql")
V1_COLUMNS = "id, user_id, title, description, completed, created_at, updated_at"


class Database:
    """psql and pg_dump on the todo database of the stack in stack_dir, as
    the owner of its schema (scripts/stack maps the caller to it)."""

    def __init__(self, stack_dir):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2]))
        check(bins, "no PostgreSQL binaries under /usr/lib/postgresql")
        self.bin = bins[-1]
        self.where = ["-h", os.path.join(stack_dir, "pg", "run"), "-p", "5432", "-U", "todo_owner", "-d", "todo"]

    def _run(self, argv):
        p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        check(p.returncode == 0, f"{os.path.basename(argv[0])} exited {p.returncode}: {p.stderr[-800:]}")
        return p.stdout

    def sql(self, *args):
        return self._run([f"{self.bin}/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", *self.where, *args])

    def rows(self, query):
        return [line.split("|") for line in self.sql("-c", query).splitlines()]

    def schema_dump(self):
        """The schema as pg_dump writes it, less the random key of its
        \\restrict lines (PostgreSQL 15.14 and later)."""
        text = self._run([f"{self.bin}/pg_dump", "--schema-only", *self.where])
        return [line for line in text.splitlines() if not line.startswith(("\\restrict", "\\unrestrict"))]


def make_v1_database(db):
    """Replaces what pg-start made with schema v1 and three v1 tasks."""
    db.sql("-c", "DROP TABLE tasks, schema_version, task_counts")
    db.sql("-f", SCHEMA_V1)
    check(db.rows("SELECT count(*) FROM information_schema.columns "
                  "WHERE table_name = 'tasks' AND column_name IN ('due_date', 'priority')") == [["0"]],
          "the v1 schema has the v1.1 columns")
    db.sql("-c", "INSERT INTO tasks (user_id, title, description, completed) VALUES "
                 "('migrated-user', 'old one', 'with a description', false), "
                 "('migrated-user', 'old two', NULL, true), ('someone-else', 'theirs', 'x', false)")


def test_schema_v1_database_migrates_in_place_keeping_every_task(ctx):
    ctx.require_stack()
    stack_dir = tempfile.mkdtemp(prefix="task-migrate-")
    os.chmod(stack_dir, 0o755)  # the database server's user must reach it
    port = free_port()
    settings = {"STACK_DIR": stack_dir, "PORT": str(port), "WORKERS": "1"}
    try:
        ctx.stack("pg-start", settings=settings)
        db = Database(stack_dir)
        make_v1_database(db)
        before = db.rows(f"SELECT {V1_COLUMNS} FROM tasks ORDER BY id")

        ctx.stack("pg-start", settings=settings)  # applies schema.sql, as scripts/start does
        once = db.schema_dump()
        ctx.stack("pg-start", settings=settings)
        check(db.schema_dump() == once, "applying schema.sql a second time changed the schema")

        check(db.rows(f"SELECT {V1_COLUMNS} FROM tasks ORDER BY id") == before, "a v1 row changed")
        check(db.rows("SELECT DISTINCT priority, due_date IS NULL FROM tasks") == [["1", "t"]],
              "old tasks are not medium (1) and undated")
        check(db.rows("SELECT version FROM schema_version ORDER BY version") == [["1"], ["2"], ["3"]],
              "schema_version does not record versions 1, 2 and 3")
        check(db.rows("SELECT user_id, tasks FROM task_counts ORDER BY user_id")
              == [["migrated-user", "2"], ["someone-else", "1"]], "task_counts not filled from the v1 tasks")
        for index in ("tasks_user_due_asc_idx", "tasks_user_due_desc_idx", "tasks_user_priority_idx"):
            check(db.rows(f"SELECT count(*) FROM pg_indexes WHERE indexname = '{index}'") == [["1"]],
                  f"index {index} missing")

        ctx.stack("pool-start", settings=settings)
        ctx.stack("nginx-start", settings=settings)
        client = Client(f"http://127.0.0.1:{port}", hide=[ctx.secret])
        auth = token("migrated-user", ctx.secret)
        old = expect_json(client.request("GET", "/api/migrated-user/tasks?sort=created", token=auth), 200)
        check([t["title"] for t in old] == ["old one", "old two"], f"old tasks through the API: {old!r}")
        for t, (_, _, _, description, completed, _, _) in zip(old, before):
            expect_task(t, priority="medium", due_date=None, completed=completed == "t",
                        description=description or None)
        r = client.request("PUT", f"/api/migrated-user/tasks/{old[0]['id']}",
                           {"due_date": "2026-12-31", "priority": "high"}, token=auth)
        expect_task(expect_json(r, 200), title="old one", due_date="2026-12-31", priority="high")
        r = client.request("POST", "/api/migrated-user/tasks", {"title": "new"}, token=auth)
        check(expect_task(expect_json(r, 201))["id"] > max(int(row[0]) for row in before),
              "a new task reused an old id")
    finally:
        ctx.stack("down", settings=settings)
        shutil.rmtree(stack_dir, ignore_errors=True)

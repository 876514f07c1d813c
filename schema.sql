-- The task store. Applying this file again changes nothing; applied to a
-- database made by an earlier version, it brings it up to date in place,
-- keeping every row. scripts/stack applies it in one transaction.
--
-- schema_version holds one row per step applied, so that a later migration
-- can read where a database stands:
--   1  contract v1: tasks (id, user_id, title, description, completed, times)
--   2  contract v1.1: due_date, priority and the indexes of their sorts
--   3  task_counts: each user's number of tasks, for USER_TASK_LIMIT
CREATE TABLE IF NOT EXISTS schema_version (
    version    integer     PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- Version 1.
CREATE TABLE IF NOT EXISTS tasks (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     text        NOT NULL,
    title       text        NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    description text                 CHECK (char_length(description) <= 1000),
    completed   boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Every statement is scoped by user_id; the list is ordered by
-- (created_at DESC, id DESC) by default, which this index serves directly.
-- A single task is found by its primary key and checked against user_id.
CREATE INDEX IF NOT EXISTS tasks_user_created_idx ON tasks (user_id, created_at DESC, id DESC);

INSERT INTO schema_version (version) VALUES (1) ON CONFLICT DO NOTHING;

-- Version 2. priority is stored as its rank, 0 low, 1 medium, 2 high
-- (src/priority.h), so that it sorts in the contract's order and a task
-- answer reads it as a two-byte integer; the service writes the names.
-- A constant default fills existing rows without rewriting the table.
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS due_date date;
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS priority smallint NOT NULL DEFAULT 1
    CONSTRAINT tasks_priority_check CHECK (priority BETWEEN 0 AND 2);

-- Undated tasks come last in both directions, so each direction has its own
-- index: a backward scan of the first would put them first. Priority is
-- never null: one index serves both directions.
CREATE INDEX IF NOT EXISTS tasks_user_due_asc_idx
    ON tasks (user_id, due_date ASC NULLS LAST, id ASC);
CREATE INDEX IF NOT EXISTS tasks_user_due_desc_idx
    ON tasks (user_id, due_date DESC NULLS LAST, id DESC);
CREATE INDEX IF NOT EXISTS tasks_user_priority_idx ON tasks (user_id, priority, id);

INSERT INTO schema_version (version) VALUES (2) ON CONFLICT DO NOTHING;

-- Version 3. A per-user task limit (USER_TASK_LIMIT) that costs the same
-- whatever a user holds: task_counts holds each user's number of tasks.
-- The service's insert (src/db.c, task_insert) takes a slot here and
-- inserts the task in one statement: INSERT ... ON CONFLICT DO UPDATE
-- locks the user's row and checks the limit against its latest committed
-- count, so concurrent POSTs at limit - 1 give one task, not two. (A
-- count(*) of the user's tasks in the INSERT's WHERE would see the
-- statement's snapshot, taken before any lock: both would insert.)
-- Deletes give the slot back by trigger, whoever makes them; so does
-- TRUNCATE. A task inserted by hand, not through the service, is not
-- counted: the limit errs on the side of letting a user create.
-- The counts are filled from the tasks once, under a lock that keeps
-- writers out meanwhile.
CREATE TABLE IF NOT EXISTS task_counts (
    user_id text   PRIMARY KEY,
    tasks   bigint NOT NULL CHECK (tasks >= 0)
);

CREATE OR REPLACE FUNCTION task_counts_release() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM task_counts;
    ELSE
        UPDATE task_counts SET tasks = tasks - 1 WHERE user_id = OLD.user_id AND tasks > 0;
    END IF;
    RETURN NULL;
END
$$;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM schema_version WHERE version = 3) THEN
        LOCK TABLE tasks IN SHARE ROW EXCLUSIVE MODE;
        INSERT INTO task_counts (user_id, tasks)
            SELECT user_id, count(*) FROM tasks GROUP BY user_id
            ON CONFLICT (user_id) DO UPDATE SET tasks = EXCLUDED.tasks;
    END IF;
END
$$;

CREATE OR REPLACE TRIGGER tasks_count_release AFTER DELETE ON tasks
    FOR EACH ROW EXECUTE FUNCTION task_counts_release();
CREATE OR REPLACE TRIGGER tasks_count_truncate AFTER TRUNCATE ON tasks
    FOR EACH STATEMENT EXECUTE FUNCTION task_counts_release();

INSERT INTO schema_version (version) VALUES (3) ON CONFLICT DO NOTHING;

-- The service's role, when it is not the owner (scripts/stack applies this
-- file as todo_owner with -v app_role=todo): the rows of tasks to read and
-- write, and its users' counts (the insert takes a slot, a delete's trigger,
-- run with the deleter's rights, gives it back); nothing else. Applied
-- without app_role, the file grants nothing.
\if :{?app_role}
GRANT SELECT, INSERT, UPDATE, DELETE ON tasks TO :"app_role";
GRANT USAGE ON SEQUENCE tasks_id_seq TO :"app_role";
GRANT SELECT, INSERT, UPDATE ON task_counts TO :"app_role";
\endif

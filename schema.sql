-- The task store. Applying this file again changes nothing; applied to a
-- database made by an earlier version, it brings it up to date in place,
-- keeping every row. scripts/stack applies it in one transaction.
--
-- schema_version holds one row per step applied, so that a later migration
-- can read where a database stands:
--   1  contract v1: tasks (id, user_id, title, description, completed, times)
--   2  contract v1.1: due_date, priority and the indexes of their sorts
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

-- The service's role, when it is not the owner (scripts/stack applies this
-- file as todo_owner with -v app_role=todo): the rows of tasks to read and
-- write, and nothing else; it needs no other table. Applied without
-- app_role, the file grants nothing.
\if :{?app_role}
GRANT SELECT, INSERT, UPDATE, DELETE ON tasks TO :"app_role";
GRANT USAGE ON SEQUENCE tasks_id_seq TO :"app_role";
\endif

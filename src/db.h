/*
 * db: the worker's one PostgreSQL connection and every statement the
 * service runs. It owns the SQL text, preparing it once per connection,
 * reconnecting with backoff when the database went away, and telling an
 * unavailable database (503) from a failed statement (500). Every statement
 * names user_id in its WHERE clause. It knows nothing of HTTP.
 */
#ifndef DB_H
#define DB_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "list_query.h"
#include "priority.h"

enum stmt {
    STMT_HEALTH,
    STMT_GET,
    STMT_INSERT,
    STMT_UPDATE,
    STMT_DELETE,
    STMT_TOGGLE,
    STMT_COUNT,
    STMT_LIST, /* first of the list statements: each enum list_sort x (asc, desc) */
    STMT_LIST_LAST = STMT_LIST + 2 * SORT_COUNT - 1,
    STMT_MAX
};

/* Columns of every statement that returns tasks, in this order. */
enum task_column {
    COL_ID,
    COL_USER_ID,
    COL_TITLE,
    COL_DESCRIPTION,
    COL_COMPLETED,
    COL_DUE_DATE,
    COL_PRIORITY,
    COL_CREATED_AT,
    COL_UPDATED_AT,
    COL_TOTAL /* list statements only */
};

/* DB_TIMEOUT: cancelled by statement_timeout (SQLSTATE 57014). */
enum db_status { DB_OK, DB_UNAVAILABLE, DB_FAILED, DB_TIMEOUT };

struct db {
    PGconn *conn; /* NULL while disconnected */
    const char *url;
    int use_prepared; /* 0: unnamed statements (PgBouncer < 1.21 in transaction mode) */
    char options[64]; /* the startup options: statement_timeout, or empty */
    long backoff_ms;  /* wait before the next connection attempt */
    long long retry_at_ms;
    long long used_at_ms; /* end of the last statement */
};

/* Connects once; a failure here is not fatal, db_exec retries.
 * statement_timeout_ms 0 leaves the server's (or the role's) setting. */
void db_init(struct db *db, const char *url, int use_prepared, long statement_timeout_ms);
void db_close(struct db *db);
/* Runs one statement with text parameters. On DB_OK *res holds the result,
 * which the caller clears with PQclear. */
enum db_status db_exec(struct db *db, enum stmt s, const char *const *params, PGresult **res);
enum stmt db_list_stmt(const struct list_query *q);
/* One task of a result; strings point into the result. */
struct task_row {
    int64_t id;
    const char *user_id, *title, *description; /* description NULL when null */
    size_t user_id_len, title_len, description_len;
    int completed;
    int has_due_date;
    int32_t due_date; /* PostgreSQL days, see timestamp.h */
    enum priority priority;
    int64_t created_at, updated_at; /* PostgreSQL microseconds, see timestamp.h */
};

/* Results come in binary: no text formatting on the server, no parsing here. */
void db_task(const PGresult *res, int row, struct task_row *task);
/* A bigint column (binary), or the row count of PQcmdTuples when col is -1. */
int64_t db_integer(const PGresult *res, int row, int col);

#endif

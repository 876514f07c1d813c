/*
 * db: connection, prepared statements, reconnect. See db.h.
 */
#include "db.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define TASK_COLUMNS \
    "id, user_id, title, description, completed, due_date, priority, created_at, updated_at"

/* $2: the completed value to match, $3 the priority; NULL matches any. */
#define LIST_WHERE                                                             \
    "WHERE user_id = $1 AND ($2::boolean IS NULL OR completed = $2::boolean) " \
    "AND ($3::smallint IS NULL OR priority = $3::smallint)"
#define LIST(order)                                                                       \
    "SELECT " TASK_COLUMNS ", count(*) OVER () FROM tasks " LIST_WHERE " ORDER BY " order \
    " LIMIT $4 OFFSET $5"

static const struct {
    const char *name;
    int nparams;
    int read_only; /* safe to run again after a reconnect */
    const char *sql;
} stmts[STMT_MAX] = {
    [STMT_HEALTH] = {"health", 0, 1, "SELECT 1"},
    [STMT_GET] = {"task_get", 2, 1,
                  "SELECT " TASK_COLUMNS " FROM tasks WHERE id = $1 AND user_id = $2"},
    /* A slot in task_counts, then the task; no row: the user holds $7
     * tasks already ($7 NULL: no limit). Why this is atomic: schema.sql. */
    [STMT_INSERT] =
        {"task_insert", 7, 0,
         "WITH slot AS (INSERT INTO task_counts (user_id, tasks) VALUES ($1, 1) "
         "ON CONFLICT (user_id) DO UPDATE SET tasks = task_counts.tasks + 1 "
         "WHERE $7::bigint IS NULL OR task_counts.tasks < $7::bigint RETURNING 1) "
         "INSERT INTO tasks (user_id, title, description, completed, due_date, priority) "
         "SELECT $1, $2, $3, $4::boolean, $5::date, $6::smallint FROM slot "
         "RETURNING " TASK_COLUMNS},
    /* $4 and $7 say whether description and due_date were given: null clears them */
    [STMT_UPDATE] = {"task_update", 9, 0,
                     "UPDATE tasks SET title = COALESCE($3, title), "
                     "description = CASE WHEN $4::boolean THEN $5 ELSE description END, "
                     "completed = COALESCE($6::boolean, completed), "
                     "due_date = CASE WHEN $7::boolean THEN $8::date ELSE due_date END, "
                     "priority = COALESCE($9::smallint, priority), updated_at = now() "
                     "WHERE id = $1 AND user_id = $2 RETURNING " TASK_COLUMNS},
    [STMT_DELETE] = {"task_delete", 2, 0, "DELETE FROM tasks WHERE id = $1 AND user_id = $2"},
    [STMT_TOGGLE] = {"task_toggle", 2, 0,
                     "UPDATE tasks SET completed = NOT completed, updated_at = now() "
                     "WHERE id = $1 AND user_id = $2 RETURNING " TASK_COLUMNS},
    [STMT_COUNT] = {"task_count", 3, 1, "SELECT count(*) FROM tasks " LIST_WHERE},
    /* in the order of enum list_sort; undated tasks last both ways (schema.sql) */
    [STMT_LIST + 0] = {"list_created_asc", 5, 1, LIST("created_at ASC, id ASC")},
    [STMT_LIST + 1] = {"list_created_desc", 5, 1, LIST("created_at DESC, id DESC")},
    [STMT_LIST + 2] = {"list_title_asc", 5, 1, LIST("title COLLATE \"C\" ASC, id ASC")},
    [STMT_LIST + 3] = {"list_title_desc", 5, 1, LIST("title COLLATE \"C\" DESC, id DESC")},
    [STMT_LIST + 4] = {"list_updated_asc", 5, 1, LIST("updated_at ASC, id ASC")},
    [STMT_LIST + 5] = {"list_updated_desc", 5, 1, LIST("updated_at DESC, id DESC")},
    [STMT_LIST + 6] = {"list_due_asc", 5, 1, LIST("due_date ASC NULLS LAST, id ASC")},
    [STMT_LIST + 7] = {"list_due_desc", 5, 1, LIST("due_date DESC NULLS LAST, id DESC")},
    [STMT_LIST + 8] = {"list_priority_asc", 5, 1, LIST("priority ASC, id ASC")},
    [STMT_LIST + 9] = {"list_priority_desc", 5, 1, LIST("priority DESC, id DESC")},
};

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define IDLE_CHECK_MS 1000

enum stmt db_list_stmt(const struct list_query *q)
{
    return (enum stmt)(STMT_LIST + (int)q->sort * 2 + (q->descending ? 1 : 0));
}

/* A big-endian integer column of size bytes (8: bigint, timestamptz; 4: date;
 * 2: smallint). */
static uint64_t uint_at(const PGresult *res, int row, int col, int size)
{
    const unsigned char *p = (const unsigned char *)PQgetvalue(res, row, col);
    uint64_t v = 0;
    if (PQgetlength(res, row, col) != size)
        return 0; /* not of that type: cannot happen with our statements */
    for (int i = 0; i < size; i++)
        v = v << 8 | p[i];
    return v;
}

static int64_t int8_at(const PGresult *res, int row, int col)
{
    return (int64_t)uint_at(res, row, col, 8);
}

int64_t db_integer(const PGresult *res, int row, int col)
{
    if (col >= 0)
        return int8_at(res, row, col);
    /* PQcmdTuples takes a non-const result but only reads it */
    const char *text = PQcmdTuples((PGresult *)res);
    char *end;
    long long v = strtoll(text, &end, 10);
    return end == text ? 0 : v;
}

void db_task(const PGresult *res, int row, struct task_row *t)
{
    t->id = int8_at(res, row, COL_ID);
    t->user_id = PQgetvalue(res, row, COL_USER_ID);
    t->user_id_len = (size_t)PQgetlength(res, row, COL_USER_ID);
    t->title = PQgetvalue(res, row, COL_TITLE);
    t->title_len = (size_t)PQgetlength(res, row, COL_TITLE);
    t->description =
        PQgetisnull(res, row, COL_DESCRIPTION) ? NULL : PQgetvalue(res, row, COL_DESCRIPTION);
    t->description_len = (size_t)PQgetlength(res, row, COL_DESCRIPTION);
    t->completed = PQgetvalue(res, row, COL_COMPLETED)[0] != 0;
    t->has_due_date = !PQgetisnull(res, row, COL_DUE_DATE);
    t->due_date = t->has_due_date ? (int32_t)(uint32_t)uint_at(res, row, COL_DUE_DATE, 4) : 0;
    uint64_t priority = uint_at(res, row, COL_PRIORITY, 2);
    /* the schema's CHECK keeps it in range; a row it did not check reads as the default */
    t->priority = priority < PRIORITY_COUNT ? (enum priority)priority : PRIORITY_DEFAULT;
    t->created_at = int8_at(res, row, COL_CREATED_AT);
    t->updated_at = int8_at(res, row, COL_UPDATED_AT);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void db_close(struct db *db)
{
    if (db->conn)
        PQfinish(db->conn);
    db->conn = NULL;
}

static int prepare_all(struct db *db)
{
    for (int i = 0; i < STMT_MAX && db->use_prepared; i++) {
        PGresult *res = PQprepare(db->conn, stmts[i].name, stmts[i].sql, stmts[i].nparams, NULL);
        int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        if (!ok)
            log_error("db: preparing %s failed: %s", stmts[i].name, PQerrorMessage(db->conn));
        PQclear(res);
        if (!ok)
            return -1;
    }
    return 0;
}

/* One connection attempt, unless the backoff says to wait. */
static int connect_now(struct db *db)
{
    /* Keywords before dbname are defaults that the URL may override. */
    static const char *const keys[] = {"connect_timeout", "application_name", "options", "dbname",
                                       NULL};
    const char *values[] = {"5", "todo-api", db->options[0] ? db->options : NULL, db->url, NULL};
    long long now = now_ms();

    if (now < db->retry_at_ms)
        return -1;
    db->conn = PQconnectdbParams(keys, values, 1);
    if (db->conn && PQstatus(db->conn) == CONNECTION_OK && prepare_all(db) == 0) {
        if (db->backoff_ms > BACKOFF_MIN_MS)
            log_info("db: connected again");
        db->backoff_ms = BACKOFF_MIN_MS;
        return 0;
    }
    log_warn("db: cannot connect, next attempt in %ld ms: %s", db->backoff_ms,
             db->conn ? PQerrorMessage(db->conn) : "out of memory");
    db_close(db);
    db->retry_at_ms = now + db->backoff_ms;
    db->backoff_ms = db->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : db->backoff_ms * 2;
    return -1;
}

void db_init(struct db *db, const char *url, int use_prepared, long statement_timeout_ms)
{
    memset(db, 0, sizeof *db);
    db->url = url;
    if (statement_timeout_ms > 0)
        snprintf(db->options, sizeof db->options, "-c statement_timeout=%ld", statement_timeout_ms);
    db->use_prepared = use_prepared;
    db->backoff_ms = BACKOFF_MIN_MS;
    connect_now(db);
}

static PGresult *run(struct db *db, enum stmt s, const char *const *params)
{
    if (db->use_prepared)
        return PQexecPrepared(db->conn, stmts[s].name, stmts[s].nparams, params, NULL, NULL, 1);
    return PQexecParams(db->conn, stmts[s].sql, stmts[s].nparams, NULL, params, NULL, NULL, 1);
}

/* SQLSTATE classes that mean the server, not the statement, is the problem. */
static int server_gone(const PGresult *res)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    return state == NULL || strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0;
}

/* statement_timeout (or a cancel from outside): the database is there but
 * did not answer in time; worth a retry later, unlike a failed statement. */
static int is_timeout(const PGresult *res)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    return state && strcmp(state, "57014") == 0;
}

/* Between statements the server has nothing to say; if the socket is
 * readable, it is saying goodbye (a restart, Neon suspending, a pooler's
 * idle timeout). Reconnect now rather than send a write into a dead
 * socket and answer 503 while the database is up. A connection used in
 * the last second is not asked: a busy worker saves the system call, and
 * a server lost in between fails the statement, handled below. */
static void drop_if_closed(struct db *db)
{
    if (db->conn == NULL || now_ms() - db->used_at_ms < IDLE_CHECK_MS)
        return;
    struct pollfd p = {.fd = PQsocket(db->conn), .events = POLLIN};
    int ready;
    while ((ready = poll(&p, 1, 0)) < 0 && errno == EINTR) /* a stop signal */
        ;
    if (p.fd >= 0 && ready == 0)
        return;
    log_warn("db: the server closed the idle connection, reconnecting");
    db_close(db);
    db->retry_at_ms = 0;
}

enum db_status db_exec(struct db *db, enum stmt s, const char *const *params, PGresult **res)
{
    drop_if_closed(db);
    for (int attempt = 0;; attempt++) {
        if (db->conn == NULL && connect_now(db) < 0)
            return DB_UNAVAILABLE;
        *res = run(db, s, params);
        ExecStatusType st = PQresultStatus(*res);
        db->used_at_ms = now_ms();
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
            return DB_OK;
        int gone = PQstatus(db->conn) != CONNECTION_OK || server_gone(*res);
        if (!gone && is_timeout(*res)) {
            log_warn("db: %s cancelled after the statement timeout: SQLSTATE 57014", stmts[s].name);
            PQclear(*res);
            *res = NULL;
            return DB_TIMEOUT;
        }
        if (!gone) {
            /* the primary message only: the detail may quote row data */
            log_error("db: %s failed: SQLSTATE %s: %s", stmts[s].name,
                      PQresultErrorField(*res, PG_DIAG_SQLSTATE),
                      PQresultErrorField(*res, PG_DIAG_MESSAGE_PRIMARY));
            PQclear(*res);
            *res = NULL;
            return DB_FAILED;
        }
        PQclear(*res);
        *res = NULL;
        log_warn("db: connection lost during %s", stmts[s].name);
        db_close(db);
        db->retry_at_ms = 0; /* the first reconnect is immediate */
        /* A write may have been applied before the connection broke: only
         * a read is safe to run again. */
        if (attempt > 0 || !stmts[s].read_only)
            return DB_UNAVAILABLE;
    }
}

/*
 * task_json: row -> {"id":..,"user_id":..,...}. See task_json.h.
 *
 * The database already gives every value in its JSON spelling (the id as
 * digits, the timestamps as RFC 3339 text), so this only quotes strings.
 */
#include "task_json.h"

#include "db.h"

static void string_value(struct buf *out, const PGresult *res, int row, int col)
{
    buf_json_string(out, PQgetvalue(res, row, col), (size_t)PQgetlength(res, row, col));
}

void task_json_append(struct buf *out, const PGresult *res, int row)
{
    buf_puts(out, "{\"id\":");
    buf_puts(out, PQgetvalue(res, row, COL_ID));
    buf_puts(out, ",\"user_id\":");
    string_value(out, res, row, COL_USER_ID);
    buf_puts(out, ",\"title\":");
    string_value(out, res, row, COL_TITLE);
    buf_puts(out, ",\"description\":");
    if (PQgetisnull(res, row, COL_DESCRIPTION))
        buf_puts(out, "null");
    else
        string_value(out, res, row, COL_DESCRIPTION);
    buf_puts(out, PQgetvalue(res, row, COL_COMPLETED)[0] == 't' ? ",\"completed\":true"
                                                                : ",\"completed\":false");
    buf_puts(out, ",\"created_at\":");
    string_value(out, res, row, COL_CREATED_AT);
    buf_puts(out, ",\"updated_at\":");
    string_value(out, res, row, COL_UPDATED_AT);
    buf_puts(out, "}");
}

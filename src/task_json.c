/*
 * task_json: task row -> {"id":..,"user_id":..,...}. See task_json.h.
 */
#include "task_json.h"

#include <string.h>

#include "priority.h"
#include "timestamp.h"

/* Text known to need no escaping, in quotes. */
static void quoted(struct buf *out, const char *text, size_t n)
{
    buf_append(out, "\"", 1);
    buf_append(out, text, n);
    buf_append(out, "\"", 1);
}

static void timestamp_value(struct buf *out, int64_t t)
{
    char text[TIMESTAMP_TEXT_MAX];
    quoted(out, text, (size_t)timestamp_format(t, text));
}

static void date_value(struct buf *out, const struct task_row *t)
{
    if (t->has_due_date) {
        char text[DATE_TEXT_LEN + 1];
        quoted(out, text, (size_t)date_format(t->due_date, text));
    } else {
        buf_puts(out, "null");
    }
}

void task_json_append(struct buf *out, const struct task_row *t)
{
    buf_puts(out, "{\"id\":");
    buf_int(out, t->id);
    buf_puts(out, ",\"user_id\":");
    buf_json_string(out, t->user_id, t->user_id_len);
    buf_puts(out, ",\"title\":");
    buf_json_string(out, t->title, t->title_len);
    buf_puts(out, ",\"description\":");
    if (t->description)
        buf_json_string(out, t->description, t->description_len);
    else
        buf_puts(out, "null");
    buf_puts(out, t->completed ? ",\"completed\":true,\"due_date\":"
                               : ",\"completed\":false,\"due_date\":");
    date_value(out, t);
    buf_puts(out, ",\"priority\":");
    const char *priority = priority_name(t->priority);
    quoted(out, priority, strlen(priority));
    buf_puts(out, ",\"created_at\":");
    timestamp_value(out, t->created_at);
    buf_puts(out, ",\"updated_at\":");
    timestamp_value(out, t->updated_at);
    buf_puts(out, "}");
}

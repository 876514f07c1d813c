/*
 * task_json: task row -> {"id":..,"user_id":..,...}. See task_json.h.
 */
#include "task_json.h"

#include "timestamp.h"

static void timestamp_value(struct buf *out, int64_t t)
{
    char text[TIMESTAMP_TEXT_MAX];
    int n = timestamp_format(t, text);
    buf_append(out, "\"", 1);
    buf_append(out, text, (size_t)n);
    buf_append(out, "\"", 1);
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
    buf_puts(out, t->completed ? ",\"completed\":true,\"created_at\":"
                               : ",\"completed\":false,\"created_at\":");
    timestamp_value(out, t->created_at);
    buf_puts(out, ",\"updated_at\":");
    timestamp_value(out, t->updated_at);
    buf_puts(out, "}");
}

/*
 * task_json: a task row -> its JSON object, as the contract shapes it. It owns the field names and
 * types of the task resource.
 */
#ifndef TASK_JSON_H
#define TASK_JSON_H

#include "buf.h"
#include "db.h"

void task_json_append(struct buf *out, const struct task_row *task);

#endif

/*
 * task_json: a task row of a db result -> its JSON object, as the contract
 * shapes it. It owns the field names and types of the task resource.
 */
#ifndef TASK_JSON_H
#define TASK_JSON_H

#include <libpq-fe.h>

#include "buf.h"

void task_json_append(struct buf *out, const PGresult *res, int row);

#endif

/*
 * priority: names of the task priorities. See priority.h.
 */
#include "priority.h"

#include <string.h>

static const char *const names[PRIORITY_COUNT] = {"low", "medium", "high"};

int priority_parse(const char *s, size_t n)
{
    for (int i = 0; i < PRIORITY_COUNT; i++)
        if (strlen(names[i]) == n && memcmp(s, names[i], n) == 0)
            return i;
    return -1;
}

const char *priority_name(enum priority p)
{
    return names[p];
}

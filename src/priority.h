/*
 * priority: the three priorities of a task, their names as the contract
 * spells them, in the order they sort. The schema stores a priority as its
 * number here (0 low, 1 medium, 2 high).
 * Shared by the body (task_body) and the list filter (list_query); it knows
 * nothing of either.
 */
#ifndef PRIORITY_H
#define PRIORITY_H

#include <stddef.h>

enum priority { PRIORITY_LOW, PRIORITY_MEDIUM, PRIORITY_HIGH, PRIORITY_COUNT };

#define PRIORITY_DEFAULT PRIORITY_MEDIUM
#define PRIORITY_RULE "must be one of low, medium, high"

/* The priority named exactly s[0..n) (lower case, nothing around it), or -1. */
int priority_parse(const char *s, size_t n);
const char *priority_name(enum priority p);

#endif

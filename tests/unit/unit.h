/*
 * unit: the smallest test harness that does the job. CHECK counts and
 * reports; unit_report prints "NAME: N passed, M failed" (scripts/test adds
 * these up) and gives the exit status.
 */
#ifndef UNIT_H
#define UNIT_H

#include <stdio.h>

static int unit_passed, unit_failed;

#define CHECK(cond, ...)                                           \
    do {                                                           \
        if (cond) {                                                \
            unit_passed++;                                         \
        } else {                                                   \
            unit_failed++;                                         \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            printf(__VA_ARGS__);                                   \
            printf("\n");                                          \
        }                                                          \
    } while (0)

static inline int unit_report(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, unit_passed, unit_failed);
    return unit_failed ? 1 : 0;
}

#endif

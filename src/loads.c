/*
 * loads: the shared connection counts. See loads.h.
 *
 * Each count has one writer (its worker) and is read by the others without
 * a lock: a count a moment old only makes a choice a moment old.
 */
#include "loads.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "log.h"

struct loads {
    int n;
    atomic_int open[]; /* per worker */
};

static size_t loads_size(int n)
{
    return sizeof(struct loads) + (size_t)n * sizeof(atomic_int);
}

struct loads *loads_create(int n)
{
    struct loads *l =
        mmap(NULL, loads_size(n), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (l == MAP_FAILED) {
        log_error("loads: mmap failed: %s", strerror(errno));
        return NULL;
    }
    l->n = n;
    for (int i = 0; i < n; i++)
        atomic_init(&l->open[i], 0);
    return l;
}

void loads_destroy(struct loads *l)
{
    if (l && munmap(l, loads_size(l->n)) < 0)
        log_warn("loads: munmap failed: %s", strerror(errno));
}

void loads_set(struct loads *l, int i, int open)
{
    atomic_store_explicit(&l->open[i], open, memory_order_relaxed);
}

void loads_forget(struct loads *l, int i)
{
    loads_set(l, i, INT_MAX); /* never the fewest */
}

bool loads_is_least(const struct loads *l, int i)
{
    int mine = atomic_load_explicit(&l->open[i], memory_order_relaxed);
    for (int j = 0; j < l->n; j++)
        if (atomic_load_explicit(&l->open[j], memory_order_relaxed) < mine)
            return false;
    return true;
}

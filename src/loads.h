/*
 * loads: how many FastCGI connections each worker of a pool holds, in
 * memory the master maps before forking and its workers share, so that a
 * new connection goes to a worker holding the fewest. It owns that memory
 * and nothing else; accepting is connections', forking pool's.
 *
 * Why: nginx sends each request on a connection it keeps, so a worker's
 * share of the load is its share of the connections. Taken by whichever
 * worker wakes first, a burst of new connections can leave one worker
 * with four times another's, and its requests queue four times as long.
 */
#ifndef LOADS_H
#define LOADS_H

#include <stdbool.h>

struct loads;

/* For a pool of n workers; NULL (after logging why) when out of memory. */
struct loads *loads_create(int n);
void loads_destroy(struct loads *l);

/* Worker i now holds open connections. */
void loads_set(struct loads *l, int i, int open);
/* Worker i is gone. Its last count stays until its successor reports, and
 * if low it would keep every busy worker from taking a new connection. */
void loads_forget(struct loads *l, int i);
/* Whether no other worker holds fewer connections than worker i. */
bool loads_is_least(const struct loads *l, int i);

#endif

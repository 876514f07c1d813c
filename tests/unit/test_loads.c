/* Unit tests of loads: who holds the fewest connections, seen across fork. */
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/loads.h"
#include "unit.h"

int main(void)
{
    struct loads *l = loads_create(3);
    CHECK(l != NULL, "loads_create failed");
    if (l == NULL)
        return unit_report("test_loads");

    CHECK(loads_is_least(l, 0) && loads_is_least(l, 1) && loads_is_least(l, 2),
          "at the start every worker holds the fewest");
    loads_set(l, 0, 5);
    loads_set(l, 1, 3);
    loads_set(l, 2, 3);
    CHECK(!loads_is_least(l, 0), "5 against 3 is not the fewest");
    CHECK(loads_is_least(l, 1) && loads_is_least(l, 2), "a tie at the fewest counts for both");

    /* A worker's count, set in the child, is what the master and the other
     * workers read. */
    pid_t pid = fork();
    if (pid == 0) {
        loads_set(l, 1, 9);
        _exit(0);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status), "fork failed");
    CHECK(!loads_is_least(l, 1), "the child's count is not seen by the parent");
    CHECK(loads_is_least(l, 2), "3 against 5 and 9 is the fewest");
    loads_set(l, 2, 10);
    CHECK(loads_is_least(l, 0), "5 against 9 and 10 is the fewest");

    /* A dead worker's low count must not make the living ones wait. */
    loads_set(l, 1, 0);
    CHECK(!loads_is_least(l, 0), "5 against a live 0 is not the fewest");
    loads_forget(l, 1);
    CHECK(loads_is_least(l, 0), "a forgotten worker is never the fewest");
    CHECK(!loads_is_least(l, 1), "nor is the forgotten one itself");

    loads_destroy(l);
    return unit_report("test_loads");
}

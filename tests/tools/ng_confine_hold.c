/* Test and benchmark driver (never installed): copies the confinement of
 * process PID N times, as enter does before each session (confine.h), and
 * prints how long the target was held each time, in microseconds, then a
 * summary line:
 *   ng_confine_hold PID N
 *   -> "filters F hash HEX" once, then "hold_us N" per copy, then
 *      "summary n=N min=.. median=.. p99=.. max=.. (us)"
 * Exit 0, 1 when a copy failed (its reason on standard error). */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsgate/confine.h"
#include "nsgate/target.h"

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    struct ng_target t;
    struct ng_confine cf;
    enum ng_confine_fail fail;
    const char *why;
    char hex[2 * NG_CONFINE_HASH_LEN + 1];

    if (argc != 3 || sodium_init() < 0)
        return fprintf(stderr, "usage: ng_confine_hold PID N\n"), 2;
    int n = atoi(argv[2]);
    double *us = calloc(n > 0 ? (size_t)n : 1, sizeof(*us));
    if (!us || n <= 0 || ng_target_open(atoi(argv[1]), "", &t) < 0)
        return fprintf(stderr, "ng_confine_hold: no such target\n"), 1;
    for (int i = 0; i < n; i++) {
        if (ng_confine_capture(&t, &cf, &fail, &why) < 0)
            return fprintf(stderr, "ng_confine_hold: %s\n", why ? why : "failed"), 1;
        if (i == 0) {
            sodium_bin2hex(hex, sizeof(hex), cf.hash, sizeof(cf.hash));
            printf("filters %zu hash %s\n", cf.nfilters, cf.nfilters ? hex : "-");
        }
        us[i] = cf.hold_ns / 1000.0;
        printf("hold_us %.1f\n", us[i]);
        ng_confine_free(&cf);
    }
    qsort(us, (size_t)n, sizeof(*us), cmp);
    printf("summary n=%d min=%.1f median=%.1f p99=%.1f max=%.1f (us)\n", n, us[0], us[n / 2],
           us[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1], us[n - 1]);
    ng_target_close(&t);
    free(us);
    return 0;
}

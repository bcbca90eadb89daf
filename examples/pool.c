/* A pool of warm interpreters from C: map a pure-Python function over a
 * batch on every core, then stop a runaway call with a deadline and reuse
 * the worker it ran on.
 *
 *   pool [workers]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <subinterp.h>

static const char *const kInit =
    "def count_primes(limit):\n"
    "    return sum(all(n % d for d in range(2, int(n ** 0.5) + 1)) for n in range(2, limit))\n"
    "def runaway():\n"
    "    while True:\n"
    "        pass\n";

static double seconds_now(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static int fail(const char *what, subinterp_error *err) {
    fprintf(stderr, "%s: %s\n", what, subinterp_error_message(err));
    subinterp_error_free(err);
    return 1;
}

/* [(limit,), (limit,), ...] as the arg_lists of subinterp_pool_map(). */
static subinterp_data *batch(int count, int64_t limit) {
    subinterp_data **calls = calloc((size_t)count, sizeof *calls);
    subinterp_data *list = NULL;
    for (int i = 0; i < count; ++i) {
        subinterp_data *n = NULL;
        subinterp_data_new_int(limit, &n, NULL);
        subinterp_data_new_tuple((const subinterp_data *const *)&n, 1, &calls[i], NULL);
        subinterp_data_free(n);
    }
    subinterp_data_new_list((const subinterp_data *const *)calls, (size_t)count, &list, NULL);
    for (int i = 0; i < count; ++i) subinterp_data_free(calls[i]);
    free(calls);
    return list;
}

int main(int argc, char **argv) {
    subinterp_error *err = NULL;
    subinterp_pool_options options;
    subinterp_pool_options_init(&options);
    options.workers = argc > 1 ? (uint32_t)atoi(argv[1]) : 0; /* 0: one per core */
    options.init_source = kInit;                               /* run once per worker */

    double start = seconds_now();
    subinterp_pool *pool = NULL;
    if (subinterp_pool_create(&options, &pool, &err)) return fail("pool_create", err);
    subinterp_pool_stats stats = SUBINTERP_POOL_STATS_INIT;
    subinterp_pool_get_stats(pool, &stats, NULL);
    printf("pool of %u warm interpreters ready in %.1f ms\n", stats.workers, (seconds_now() - start) * 1e3);

    subinterp_data *calls = batch(8, 30000), *results = NULL;
    start = seconds_now();
    if (subinterp_pool_map(pool, "count_primes", calls, NULL, &results, &err)) return fail("pool_map", err);
    size_t count = 0;
    subinterp_data_get_len(results, &count, NULL);
    int64_t first = 0;
    const subinterp_data *item = NULL; /* borrowed from results */
    subinterp_data_get_item(results, 0, &item, NULL);
    subinterp_data_get_int(item, &first, NULL);
    printf("map: %zu results in order (primes below 30000 = %lld) in %.0f ms\n", count, (long long)first,
           (seconds_now() - start) * 1e3);
    subinterp_data_free(results), subinterp_data_free(calls);

    subinterp_run_options deadline;
    subinterp_run_options_init(&deadline);
    deadline.timeout = 0.1;
    start = seconds_now();
    subinterp_data *result = NULL;
    subinterp_status status = subinterp_pool_call(pool, "runaway", NULL, NULL, &deadline, &result, NULL, &err);
    printf("runaway call with a 100 ms deadline: %s after %.0f ms\n", subinterp_status_name(status),
           (seconds_now() - start) * 1e3);
    subinterp_error_free(err), err = NULL;

    subinterp_data *again = batch(1, 100);
    if (subinterp_pool_map(pool, "count_primes", again, NULL, &results, &err)) return fail("pool_map", err);
    subinterp_data_get_item(results, 0, &item, NULL);
    subinterp_data_get_int(item, &first, NULL);
    printf("the workers still answer: primes below 100 = %lld\n", (long long)first);
    subinterp_data_free(results), subinterp_data_free(again);

    subinterp_pool_get_stats(pool, &stats, NULL);
    printf("stats: %llu submitted, %llu succeeded, %llu timed out, %u live workers\n",
           (unsigned long long)stats.submitted, (unsigned long long)stats.succeeded,
           (unsigned long long)stats.timed_out, stats.live_workers);
    subinterp_pool_free(pool);
    if (status != SUBINTERP_ERR_TIMEOUT || first != 25) return 1;
    printf("pool example: ok\n");
    return 0;
}

/* Runs one CPU-bound pure-Python function in N isolated interpreters, one OS
 * thread each, and prints the speedup over running it in one interpreter.
 *
 *   parallel_speedup [N] [WORK] [ROUNDS]
 *
 * N defaults to the number of cores, ROUNDS to 5; the speedup printed is the
 * median over the rounds.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "subinterp.h"

static const char *kSource =
    "def work(n):\n"
    "    total = 0\n"
    "    for i in range(n):\n"
    "        total += i * i % 7\n"
    "    return total\n";

typedef struct {
    int64_t interpreter;
    int64_t work;
    int64_t result;
    subinterp_status status;
} job;

static int fail(const char *what, subinterp_error *err) {
    fprintf(stderr, "%s failed: %s: %s\n", what, subinterp_status_name(subinterp_error_code(err)),
            subinterp_error_message(err));
    subinterp_error_free(err);
    return 1;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *run_job(void *arg) {
    job *j = arg;
    subinterp_data *n = NULL, *args = NULL, *result = NULL;
    j->status = subinterp_data_new_int(j->work, &n, NULL);
    if (j->status == SUBINTERP_OK) j->status = subinterp_data_new_tuple((const subinterp_data *const *)&n, 1, &args, NULL);
    if (j->status == SUBINTERP_OK) j->status = subinterp_call(j->interpreter, "work", args, NULL, NULL, &result, NULL, NULL);
    if (j->status == SUBINTERP_OK) j->status = subinterp_data_get_int(result, &j->result, NULL);
    subinterp_data_free(result);
    subinterp_data_free(args);
    subinterp_data_free(n);
    return NULL;
}

/* Runs `count` jobs at once, one thread each; returns wall seconds or -1. */
static double run_parallel(job *jobs, int count) {
    pthread_t threads[256];
    double start = now();
    for (int i = 0; i < count; i++) pthread_create(&threads[i], NULL, run_job, &jobs[i]);
    for (int i = 0; i < count; i++) pthread_join(threads[i], NULL);
    double elapsed = now() - start;
    for (int i = 0; i < count; i++) {
        if (jobs[i].status != SUBINTERP_OK || jobs[i].result != jobs[0].result) return -1;
    }
    return elapsed;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *values, int count) {
    qsort(values, count, sizeof *values, compare_doubles);
    return count % 2 ? values[count / 2] : (values[count / 2 - 1] + values[count / 2]) / 2;
}

int main(int argc, char **argv) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int n = argc > 1 ? atoi(argv[1]) : (int)(cores > 0 ? cores : 2);
    int64_t work = argc > 2 ? atoll(argv[2]) : 2000000;
    int rounds = argc > 3 ? atoi(argv[3]) : 5;
    if (n < 1 || n > 256 || rounds < 1 || rounds > 100) {
        fprintf(stderr, "usage: parallel_speedup [N 1..256] [WORK] [ROUNDS 1..100]\n");
        return 2;
    }
    subinterp_error *err = NULL;
    job jobs[256];
    for (int i = 0; i < n; i++) {
        jobs[i] = (job){0, work, 0, SUBINTERP_OK};
        if (subinterp_create(NULL, &jobs[i].interpreter, &err) != SUBINTERP_OK) return fail("create", err);
        if (subinterp_exec(jobs[i].interpreter, kSource, NULL, NULL, &err) != SUBINTERP_OK) return fail("exec", err);
    }
    printf("subinterp %s on CPython %s: %d isolated interpreters, %ld cores, work(%lld), %d rounds\n",
           subinterp_version_string(), subinterp_python_version_string(), n, cores, (long long)work, rounds);

    /* Warm up every interpreter once, then alternate 1-at-a-time and
     * N-at-once rounds so machine noise hits both alike. */
    if (run_parallel(jobs, n) < 0) {
        fprintf(stderr, "a job failed\n");
        return 1;
    }
    double one[100], all[100], speedup[100];
    for (int r = 0; r < rounds; r++) {
        one[r] = run_parallel(jobs, 1);
        all[r] = run_parallel(jobs, n);
        if (one[r] < 0 || all[r] < 0) {
            fprintf(stderr, "a job failed\n");
            return 1;
        }
        speedup[r] = n * one[r] / all[r];
        printf("  round %d: 1 call %.3f s, %d calls at once %.3f s, speedup %.2fx\n", r + 1, one[r], n, all[r],
               speedup[r]);
    }
    double speedup_median = median(speedup, rounds);
    double one_median = median(one, rounds);
    double all_median = median(all, rounds);
    printf("median: 1 interpreter %.3f s per call; %d interpreters %.3f s for %d calls\n", one_median, n, all_median, n);
    printf("parallel speedup: %.2fx with %d interpreters (ideal %dx, efficiency %.0f%%)\n", speedup_median, n, n,
           100.0 * speedup_median / n);

    for (int i = 0; i < n; i++) {
        if (subinterp_destroy(jobs[i].interpreter, &err) != SUBINTERP_OK) return fail("destroy", err);
    }
    if (subinterp_runtime_finalize(&err) != SUBINTERP_OK) return fail("finalize", err);
    return 0;
}

/* Runs one CPU-bound pure-Python function in N isolated interpreters, one OS
 * thread each, and prints the speedup over running it in one interpreter.
 *
 *   parallel_speedup [N] [WORK]    N defaults to the number of cores
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

int main(int argc, char **argv) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int n = argc > 1 ? atoi(argv[1]) : (int)(cores > 0 ? cores : 2);
    int64_t work = argc > 2 ? atoll(argv[2]) : 3000000;
    if (n < 1 || n > 256) {
        fprintf(stderr, "N must be 1..256\n");
        return 2;
    }
    subinterp_error *err = NULL;
    job jobs[256];
    for (int i = 0; i < n; i++) {
        jobs[i] = (job){0, work, 0, SUBINTERP_OK};
        if (subinterp_create(NULL, &jobs[i].interpreter, &err) != SUBINTERP_OK) return fail("create", err);
        if (subinterp_exec(jobs[i].interpreter, kSource, NULL, NULL, &err) != SUBINTERP_OK) return fail("exec", err);
    }
    printf("subinterp %s on CPython %s: %d isolated interpreters, %d cores, work(%lld)\n",
           subinterp_version_string(), subinterp_python_version_string(), n, (int)cores, (long long)work);

    double one = run_parallel(jobs, 1);
    double all = run_parallel(jobs, n);
    if (one < 0 || all < 0) {
        fprintf(stderr, "a job failed\n");
        return 1;
    }
    printf("1 interpreter : %.3f s for 1 call\n", one);
    printf("%d interpreters: %.3f s for %d calls at once\n", n, all, n);
    printf("parallel speedup: %.2fx (ideal %dx; throughput %.2f calls/s vs %.2f)\n", n * one / all, n, n / all,
           1 / one);

    for (int i = 0; i < n; i++) {
        if (subinterp_destroy(jobs[i].interpreter, &err) != SUBINTERP_OK) return fail("destroy", err);
    }
    if (subinterp_runtime_finalize(&err) != SUBINTERP_OK) return fail("finalize", err);
    return 0;
}

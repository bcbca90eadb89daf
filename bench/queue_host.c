/* Queue benchmarks from C, with no Python involved: the host side of
 * bench/queues.py (which runs this program and parses its JSON).
 *
 *   queue_host [--pairs N] [--prodcons N] [--maxsize M] [--latency SAMPLES] [--repeat R]
 *
 * Measures, on the process-wide queues of libsubinterp (subinterp_queue_*):
 *
 *   pairs     one thread doing N subinterp_queue_put + subinterp_queue_get
 *             pairs of the same int data item, per repeat;
 *   prodcons  a producer host thread putting N int items and a consumer host
 *             thread getting them, with an unbounded queue and with one of
 *             at most M items, per repeat (the two rounds alternate);
 *   latency   a consumer host thread blocked in subinterp_queue_get; once it is
 *             known to be blocked (5-15 ms after it handed back the previous
 *             sample) the producer puts the CLOCK_MONOTONIC time in ns and the
 *             consumer answers now - that, SAMPLES times.
 *
 * Every repeat is verified (each get succeeds and returns the item put, in
 * order; the queues end empty): any failure prints the error and exits 1.
 * Prints one JSON object on stdout: per-repeat rates (items per second) and
 * the latency samples in ns. The Python runtime is never started.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep, rand_r, pthread barriers */

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "subinterp.h"

#define KEYS 1024 /* distinct items the producer cycles through */

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ns(int64_t ns) {
    struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Reports a failed call and exits: a benchmark that went wrong has no result. */
static void die(const char *what, subinterp_status status, subinterp_error *err) {
    fprintf(stderr, "queue_host: %s failed: %s (%d): %s\n", what, subinterp_status_name(status), (int)status,
            err ? subinterp_error_message(err) : "(no error object)");
    subinterp_error_free(err);
    exit(1);
}

static void check(const char *what, subinterp_status status, subinterp_error *err) {
    if (status != SUBINTERP_OK) die(what, status, err);
}

static void fail(const char *message) {
    fprintf(stderr, "queue_host: verification failed: %s\n", message);
    exit(1);
}

static int64_t make_queue(size_t maxsize) {
    subinterp_queue_options opts = SUBINTERP_QUEUE_OPTIONS_INIT;
    opts.maxsize = maxsize;
    int64_t id = -1;
    subinterp_error *err = NULL;
    check("subinterp_queue_create", subinterp_queue_create(&opts, &id, &err), err);
    return id;
}

static subinterp_data *make_int(int64_t value) {
    subinterp_data *data = NULL;
    subinterp_error *err = NULL;
    check("subinterp_data_new_int", subinterp_data_new_int(value, &data, &err), err);
    return data;
}

static int64_t read_int(const subinterp_data *data) {
    int64_t value = 0;
    subinterp_error *err = NULL;
    if (!data) fail("got an unbound (NULL) item");
    check("subinterp_data_get_int", subinterp_data_get_int(data, &value, &err), err);
    return value;
}

static void expect_empty(int64_t queue, const char *what) {
    size_t size = 0;
    subinterp_error *err = NULL;
    check("subinterp_queue_size", subinterp_queue_size(queue, &size, &err), err);
    if (size != 0) {
        fprintf(stderr, "queue_host: verification failed: %s: %zu items left in the queue\n", what, size);
        exit(1);
    }
}

/* --- pairs: put + get in one thread ---------------------------------------------------- */

/* N put+get pairs of `item`; returns pairs per second. */
static double run_pairs(int64_t queue, subinterp_data *item, int64_t n) {
    subinterp_error *err = NULL;
    subinterp_data *got = NULL;
    int64_t start = now_ns();
    for (int64_t i = 0; i < n; i++) {
        subinterp_status status = subinterp_queue_put(queue, item, SUBINTERP_NO_WAIT, &err);
        if (status != SUBINTERP_OK) die("subinterp_queue_put", status, err);
        status = subinterp_queue_get(queue, SUBINTERP_NO_WAIT, &got, &err);
        if (status != SUBINTERP_OK) die("subinterp_queue_get", status, err);
        /* The queue hands back the value it was given (one more reference to
         * it); anything else must at least read back as the same int. */
        if (got != item && read_int(got) != read_int(item)) fail("pairs: got a different item");
        subinterp_data_free(got);
    }
    int64_t elapsed = now_ns() - start;
    expect_empty(queue, "pairs");
    return n / (elapsed / 1e9);
}

/* --- prodcons: two host threads ------------------------------------------------------------ */

typedef struct {
    int64_t queue;
    int64_t n;
    subinterp_data **items; /* KEYS items, item k holding the int k */
    pthread_barrier_t *start;
    int64_t received;
    int64_t checksum;
    int in_order;
    /* Taken by the workers, not the main thread: on a loaded 2-core machine the main
     * thread may run only after both workers have finished. */
    int64_t first_put_ns;
    int64_t last_get_ns;
} prodcons_job;

static void *producer(void *arg) {
    prodcons_job *job = arg;
    subinterp_error *err = NULL;
    pthread_barrier_wait(job->start);
    job->first_put_ns = now_ns();
    for (int64_t i = 0; i < job->n; i++) {
        subinterp_status status = subinterp_queue_put(job->queue, job->items[i % KEYS], SUBINTERP_WAIT_FOREVER, &err);
        if (status != SUBINTERP_OK) die("subinterp_queue_put (producer)", status, err);
    }
    return NULL;
}

static void *consumer(void *arg) {
    prodcons_job *job = arg;
    subinterp_error *err = NULL;
    subinterp_data *got = NULL;
    int64_t checksum = 0;
    int in_order = 1;
    pthread_barrier_wait(job->start);
    for (int64_t i = 0; i < job->n; i++) {
        subinterp_status status = subinterp_queue_get(job->queue, SUBINTERP_WAIT_FOREVER, &got, &err);
        if (status != SUBINTERP_OK) die("subinterp_queue_get (consumer)", status, err);
        int64_t value = read_int(got);
        if (value != i % KEYS) in_order = 0;
        checksum += value;
        subinterp_data_free(got);
        job->received = i + 1;
    }
    job->last_get_ns = now_ns();
    job->checksum = checksum;
    job->in_order = in_order;
    return NULL;
}

/* One producer and one consumer moving n items; returns items per second. */
static double run_prodcons(int64_t queue, subinterp_data **items, int64_t n) {
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, 3);
    prodcons_job job = {queue, n, items, &start, 0, 0, 0, 0, 0};
    pthread_t threads[2];
    if (pthread_create(&threads[0], NULL, consumer, &job) || pthread_create(&threads[1], NULL, producer, &job)) {
        fail("pthread_create");
    }
    pthread_barrier_wait(&start);
    pthread_join(threads[1], NULL);
    pthread_join(threads[0], NULL);
    int64_t elapsed = job.last_get_ns - job.first_put_ns;
    pthread_barrier_destroy(&start);

    int64_t expected = 0;
    for (int64_t i = 0; i < n; i++) expected += i % KEYS;
    if (job.received != n) fail("prodcons: wrong number of items received");
    if (job.checksum != expected) fail("prodcons: wrong checksum");
    if (!job.in_order) fail("prodcons: items out of order");
    expect_empty(queue, "prodcons");
    return n / (elapsed / 1e9);
}

/* --- latency: a blocked get woken by a put --------------------------------------------- */

typedef struct {
    int64_t data_queue;  /* timestamps in, -1 to stop */
    int64_t reply_queue; /* delays out */
} latency_job;

static void *latency_consumer(void *arg) {
    latency_job *job = arg;
    subinterp_error *err = NULL;
    for (;;) {
        subinterp_data *got = NULL;
        subinterp_status status = subinterp_queue_get(job->data_queue, SUBINTERP_WAIT_FOREVER, &got, &err);
        int64_t woke = now_ns();
        if (status != SUBINTERP_OK) die("subinterp_queue_get (latency consumer)", status, err);
        int64_t sent = read_int(got);
        subinterp_data_free(got);
        if (sent < 0) return NULL;
        subinterp_data *delay = make_int(woke - sent);
        status = subinterp_queue_put(job->reply_queue, delay, SUBINTERP_WAIT_FOREVER, &err);
        subinterp_data_free(delay);
        if (status != SUBINTERP_OK) die("subinterp_queue_put (latency reply)", status, err);
    }
}

static void run_latency(int samples, int64_t *delays) {
    latency_job job = {make_queue(0), make_queue(0)};
    pthread_t thread;
    if (pthread_create(&thread, NULL, latency_consumer, &job)) fail("pthread_create");
    subinterp_error *err = NULL;
    unsigned seed = 12345;
    for (int i = 0; i < samples; i++) {
        /* The consumer is blocked in get well before this sleep ends: it went
         * back to get() right after replying to the previous sample (or at start). */
        sleep_ns(5000000 + (int64_t)(rand_r(&seed) % 10000) * 1000);
        subinterp_data *stamp = make_int(now_ns());
        subinterp_status status = subinterp_queue_put(job.data_queue, stamp, SUBINTERP_WAIT_FOREVER, &err);
        subinterp_data_free(stamp);
        if (status != SUBINTERP_OK) die("subinterp_queue_put (latency)", status, err);
        subinterp_data *reply = NULL;
        status = subinterp_queue_get(job.reply_queue, SUBINTERP_WAIT_FOREVER, &reply, &err);
        if (status != SUBINTERP_OK) die("subinterp_queue_get (latency reply)", status, err);
        delays[i] = read_int(reply);
        subinterp_data_free(reply);
        if (delays[i] < 0 || delays[i] > 60 * (int64_t)1000000000) fail("latency: implausible delay");
    }
    subinterp_data *stop = make_int(-1);
    check("subinterp_queue_put (stop)", subinterp_queue_put(job.data_queue, stop, SUBINTERP_WAIT_FOREVER, &err), err);
    subinterp_data_free(stop);
    pthread_join(thread, NULL);
    expect_empty(job.data_queue, "latency");
    expect_empty(job.reply_queue, "latency replies");
    check("subinterp_queue_release", subinterp_queue_release(job.data_queue, &err), err);
    check("subinterp_queue_release", subinterp_queue_release(job.reply_queue, &err), err);
}

/* --- main ------------------------------------------------------------------------------ */

static void print_rates(const char *name, const double *rates, int count) {
    printf("\"%s\": [", name);
    for (int i = 0; i < count; i++) printf("%s%.1f", i ? ", " : "", rates[i]);
    printf("]");
}

static int64_t parse_count(const char *option, const char *text) {
    char *end = NULL;
    long long value = strtoll(text ? text : "", &end, 10);
    if (!text || *end || value < 0) {
        fprintf(stderr, "queue_host: %s needs a non-negative integer\n", option);
        exit(2);
    }
    return value;
}

int main(int argc, char **argv) {
    int64_t pairs_n = 2000000, prodcons_n = 1000000, maxsize = 1000, latency_samples = 100, repeat = 7;
    for (int i = 1; i < argc; i++) {
        const char *option = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(option, "--pairs")) pairs_n = parse_count(option, value);
        else if (!strcmp(option, "--prodcons")) prodcons_n = parse_count(option, value);
        else if (!strcmp(option, "--maxsize")) maxsize = parse_count(option, value);
        else if (!strcmp(option, "--latency")) latency_samples = parse_count(option, value);
        else if (!strcmp(option, "--repeat")) repeat = parse_count(option, value);
        else {
            fprintf(stderr,
                    "usage: queue_host [--pairs N] [--prodcons N] [--maxsize M] [--latency SAMPLES] [--repeat R]\n");
            return 2;
        }
        i++;
    }
    if (repeat < 1 || maxsize < 1) {
        fprintf(stderr, "queue_host: --repeat and --maxsize must be >= 1\n");
        return 2;
    }

    double *pairs = calloc(repeat, sizeof *pairs), *unbounded = calloc(repeat, sizeof *unbounded),
           *bounded = calloc(repeat, sizeof *bounded);
    int64_t *delays = calloc(latency_samples ? latency_samples : 1, sizeof *delays);
    subinterp_data *items[KEYS];
    for (int k = 0; k < KEYS; k++) items[k] = make_int(k);
    int64_t pairs_queue = make_queue(0), unbounded_queue = make_queue(0), bounded_queue = make_queue(maxsize);

    /* Warm up (code, allocator, thread start-up), verified like the rest. */
    if (pairs_n) run_pairs(pairs_queue, items[7], pairs_n / 10 + 1);
    if (prodcons_n) run_prodcons(unbounded_queue, items, prodcons_n / 10 + 1);
    /* Round-robin: every repeat takes one sample of each measurement. */
    for (int r = 0; r < repeat; r++) {
        if (pairs_n) pairs[r] = run_pairs(pairs_queue, items[7], pairs_n);
        if (prodcons_n) unbounded[r] = run_prodcons(unbounded_queue, items, prodcons_n);
        if (prodcons_n) bounded[r] = run_prodcons(bounded_queue, items, prodcons_n);
    }
    if (latency_samples) run_latency((int)latency_samples, delays);

    printf("{\"pairs_n\": %lld, \"prodcons_n\": %lld, \"maxsize\": %lld, \"repeat\": %lld, ", (long long)pairs_n,
           (long long)prodcons_n, (long long)maxsize, (long long)repeat);
    print_rates("pairs_per_s", pairs, pairs_n ? (int)repeat : 0);
    printf(", ");
    print_rates("prodcons_unbounded_per_s", unbounded, prodcons_n ? (int)repeat : 0);
    printf(", ");
    print_rates("prodcons_bounded_per_s", bounded, prodcons_n ? (int)repeat : 0);
    printf(", \"latency_ns\": [");
    for (int64_t i = 0; i < latency_samples; i++) printf("%s%lld", i ? ", " : "", (long long)delays[i]);
    printf("]}\n");

    subinterp_error *err = NULL;
    check("subinterp_queue_release", subinterp_queue_release(pairs_queue, &err), err);
    check("subinterp_queue_release", subinterp_queue_release(unbounded_queue, &err), err);
    check("subinterp_queue_release", subinterp_queue_release(bounded_queue, &err), err);
    for (int k = 0; k < KEYS; k++) subinterp_data_free(items[k]);
    free(pairs);
    free(unbounded);
    free(bounded);
    free(delays);
    return 0;
}

/*
 * host_thread.c -- a C host for test_host_thread.py: real pthreads that use
 * subinterp's queues through the C ABI only (no Python, no GIL), sharing them
 * with Python interpreters of the same process.
 *
 * Built by the test at run time:
 *   cc -shared -fPIC -O1 -I<repo>/capi/include host_thread.c -o libhost_thread.so \
 *      <pkg>/libsubinterp.so.1 -Wl,-rpath,<pkg> -lpthread
 *
 * Each start_* function starts one thread (a "job") and returns its handle
 * (>= 0), or a negative number if the thread could not be started. The thread
 * retains the queue while it works. wait_started() returns once the thread is
 * about to make its (first) blocking queue call; join_job() waits for the
 * thread, with a deadline, and returns the subinterp_status of its last queue
 * call (SUBINTERP_OK if everything worked), or -1 if the deadline passed;
 * free_job() then frees its slot.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "subinterp.h"

#define MAX_JOBS 64
#define JOIN_TIMED_OUT (-1)
#define NOT_AN_INT (-2)

enum job_kind { PRODUCER, CONSUMER, GETTER, PUTTER };

typedef struct {
    enum job_kind kind;
    int64_t queue_id;
    int64_t first;       /* PRODUCER: first value; PUTTER: the value */
    int64_t count;       /* PRODUCER/CONSUMER: how many items */
    double timeout;      /* per queue call */
    pthread_t thread;
    int in_use;
    /* results, written by the job's thread before `done` */
    subinterp_status status;
    int64_t sum;         /* CONSUMER: sum of the items; GETTER: the item */
    int64_t processed;   /* items put or got */
    int64_t out_of_order;/* CONSUMER: items not one more than the previous */
    int64_t first_seen;  /* CONSUMER: the first item */
    int item_kind;       /* GETTER: subinterp_data_kind of the item, -1 for an unbound item (NULL) */
    char message[256];   /* the error message of a failed call */
    /* handshakes */
    int started;
    int done;
    int joined;          /* pthread_join done (by join_job) */
} job;

static job jobs[MAX_JOBS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;

static void set_flag(int *flag) {
    pthread_mutex_lock(&lock);
    *flag = 1;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

static void record_error(job *j, subinterp_status status, subinterp_error *err) {
    j->status = status;
    if (err != NULL) {
        strncpy(j->message, subinterp_error_message(err), sizeof j->message - 1);
        subinterp_error_free(err);
    }
}

static void run_producer(job *j) {
    for (int64_t i = 0; i < j->count; i++) {
        subinterp_data *item = NULL;
        subinterp_error *err = NULL;
        subinterp_status status = subinterp_data_new_int(j->first + i, &item, &err);
        if (status != SUBINTERP_OK) {
            record_error(j, status, err);
            return;
        }
        if (i == 0) set_flag(&j->started);
        status = subinterp_queue_put(j->queue_id, item, j->timeout, &err);
        subinterp_data_free(item);
        if (status != SUBINTERP_OK) {
            record_error(j, status, err);
            return;
        }
        j->processed++;
    }
}

/* One get: *value receives the int (or NOT_AN_INT), *kind the item's kind. */
static subinterp_status get_one(job *j, int64_t *value, int *kind) {
    subinterp_data *item = NULL;
    subinterp_error *err = NULL;
    subinterp_status status = subinterp_queue_get(j->queue_id, j->timeout, &item, &err);
    if (status != SUBINTERP_OK) {
        record_error(j, status, err);
        return status;
    }
    if (item == NULL) { /* an unbound item (SUBINTERP_UNBOUND_REPLACE) */
        *kind = -1;
        *value = NOT_AN_INT;
        return SUBINTERP_OK;
    }
    *kind = subinterp_data_get_kind(item);
    if (subinterp_data_get_int(item, value, NULL) != SUBINTERP_OK) *value = NOT_AN_INT;
    subinterp_data_free(item);
    return SUBINTERP_OK;
}

static void run_consumer(job *j) {
    int64_t previous = 0;
    for (int64_t i = 0; i < j->count; i++) {
        int64_t value;
        int kind;
        if (i == 0) set_flag(&j->started);
        if (get_one(j, &value, &kind) != SUBINTERP_OK) return;
        if (kind != SUBINTERP_DATA_INT) {
            j->status = SUBINTERP_ERR_TYPE;
            strncpy(j->message, "an item that is not an int", sizeof j->message - 1);
            return;
        }
        if (i == 0) {
            j->first_seen = value;
        } else if (value != previous + 1) {
            j->out_of_order++;
        }
        previous = value;
        j->sum += value;
        j->processed++;
    }
}

static void *run(void *arg) {
    job *j = arg;
    subinterp_error *err = NULL;
    int retained = subinterp_queue_retain(j->queue_id, &err) == SUBINTERP_OK;
    if (!retained) {
        record_error(j, SUBINTERP_ERR_NOT_FOUND, err);
        set_flag(&j->started);
        set_flag(&j->done);
        return NULL;
    }
    switch (j->kind) {
    case PRODUCER:
        run_producer(j);
        break;
    case CONSUMER:
        run_consumer(j);
        break;
    case GETTER:
        set_flag(&j->started);
        if (get_one(j, &j->sum, &j->item_kind) == SUBINTERP_OK) j->processed = 1;
        break;
    case PUTTER: {
        subinterp_data *item = NULL;
        subinterp_status status = subinterp_data_new_int(j->first, &item, &err);
        if (status != SUBINTERP_OK) {
            record_error(j, status, err);
            break;
        }
        set_flag(&j->started);
        status = subinterp_queue_put(j->queue_id, item, j->timeout, &err);
        subinterp_data_free(item);
        if (status != SUBINTERP_OK) record_error(j, status, err);
        else j->processed = 1;
        break;
    }
    }
    subinterp_queue_release(j->queue_id, NULL); /* NOT_FOUND once destroyed: fine */
    set_flag(&j->started); /* in case it failed before its first call */
    set_flag(&j->done);
    return NULL;
}

static int start(enum job_kind kind, int64_t queue_id, int64_t first, int64_t count, double timeout) {
    pthread_mutex_lock(&lock);
    int handle = -1;
    for (int i = 0; i < MAX_JOBS; i++) {
        if (!jobs[i].in_use) {
            handle = i;
            break;
        }
    }
    if (handle < 0) {
        pthread_mutex_unlock(&lock);
        return -EAGAIN;
    }
    job *j = &jobs[handle];
    memset(j, 0, sizeof *j);
    j->in_use = 1;
    j->kind = kind;
    j->queue_id = queue_id;
    j->first = first;
    j->count = count;
    j->timeout = timeout;
    j->status = SUBINTERP_OK;
    pthread_mutex_unlock(&lock);
    int rc = pthread_create(&j->thread, NULL, run, j);
    if (rc != 0) {
        pthread_mutex_lock(&lock);
        j->in_use = 0;
        pthread_mutex_unlock(&lock);
        return -rc;
    }
    return handle;
}

/* Puts first, first + 1, ..., first + count - 1, each waiting up to `timeout`. */
int start_producer(int64_t queue_id, int64_t first, int64_t count, double timeout) {
    return start(PRODUCER, queue_id, first, count, timeout);
}

/* Gets `count` ints, each waiting up to `timeout`; sums them and counts the
 * items that do not follow the previous one. */
int start_consumer(int64_t queue_id, int64_t count, double timeout) {
    return start(CONSUMER, queue_id, 0, count, timeout);
}

/* One get, waiting up to `timeout` (negative: forever). */
int start_getter(int64_t queue_id, double timeout) {
    return start(GETTER, queue_id, 0, 1, timeout);
}

/* One put of `value`, waiting up to `timeout` (negative: forever). */
int start_putter(int64_t queue_id, int64_t value, double timeout) {
    return start(PUTTER, queue_id, value, 1, timeout);
}

static int valid(int handle) {
    return handle >= 0 && handle < MAX_JOBS && jobs[handle].in_use;
}

static void deadline_after(double seconds, struct timespec *deadline) {
    clock_gettime(CLOCK_REALTIME, deadline);
    time_t whole = (time_t)seconds;
    long nanos = (long)((seconds - (double)whole) * 1e9);
    deadline->tv_sec += whole;
    deadline->tv_nsec += nanos;
    if (deadline->tv_nsec >= 1000000000L) {
        deadline->tv_sec += 1;
        deadline->tv_nsec -= 1000000000L;
    }
}

/* Waits until `flag` is set, at most `seconds`. 1 if set, 0 on timeout. */
static int wait_flag(int *flag, double seconds) {
    struct timespec deadline;
    deadline_after(seconds, &deadline);
    pthread_mutex_lock(&lock);
    int rc = 0;
    while (!*flag && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&changed, &lock, &deadline);
    int set = *flag;
    pthread_mutex_unlock(&lock);
    return set;
}

/* 1 once the job's thread is about to make its first blocking queue call
 * (or has ended), 0 if that did not happen within `seconds`. */
int wait_started(int handle, double seconds) {
    if (!valid(handle)) return 0;
    return wait_flag(&jobs[handle].started, seconds);
}

/* 1 if the job's thread has ended (without waiting). */
int job_done(int handle) {
    if (!valid(handle)) return 0;
    pthread_mutex_lock(&lock);
    int done = jobs[handle].done;
    pthread_mutex_unlock(&lock);
    return done;
}

/* Waits up to `seconds` for the job to end. Returns JOIN_TIMED_OUT (the job
 * stays, join again later) or the status of its last queue call; then
 * *value receives the consumer's sum or the getter's item, *processed the
 * items done, *out_of_order the consumer's out-of-order count, *kind the
 * getter's item kind (-1: unbound). Any out-pointer may be NULL. */
int join_job(int handle, double seconds, int64_t *value, int64_t *processed, int64_t *out_of_order,
             int *kind) {
    if (!valid(handle)) return SUBINTERP_ERR_INVALID_ARGUMENT;
    job *j = &jobs[handle];
    if (!wait_flag(&j->done, seconds)) return JOIN_TIMED_OUT;
    if (!j->joined) pthread_join(j->thread, NULL);
    if (value) *value = j->sum;
    if (processed) *processed = j->processed;
    if (out_of_order) *out_of_order = j->out_of_order;
    if (kind) *kind = j->item_kind;
    j->joined = 1;
    return j->status;
}

/* The first item a consumer saw; valid until free_job(). */
int64_t consumer_first_seen(int handle) {
    return valid(handle) ? jobs[handle].first_seen : NOT_AN_INT;
}

/* The message of the job's failed call ("" if none); valid until free_job(). */
const char *job_message(int handle) {
    return valid(handle) ? jobs[handle].message : "";
}

/* Frees a joined job's slot. 0, or -1 if the job was not joined. */
int free_job(int handle) {
    if (!valid(handle) || !jobs[handle].joined) return -1;
    pthread_mutex_lock(&lock);
    jobs[handle].in_use = 0;
    pthread_mutex_unlock(&lock);
    return 0;
}

/* C ABI calls the tests make from the Python thread (no Python needed either). */
int destroy_queue(int64_t queue_id) {
    return subinterp_queue_destroy(queue_id, NULL);
}

int close_queue(int64_t queue_id) {
    return subinterp_queue_close(queue_id, NULL);
}

/* A queue made by the host: *id receives it; the host holds it once. */
int create_queue(int64_t maxsize, int64_t *id) {
    subinterp_queue_options opts = SUBINTERP_QUEUE_OPTIONS_INIT;
    opts.maxsize = (size_t)maxsize;
    return subinterp_queue_create(&opts, id, NULL);
}

int release_queue(int64_t queue_id) {
    return subinterp_queue_release(queue_id, NULL);
}

int queue_size(int64_t queue_id, int64_t *size) {
    size_t n = 0;
    subinterp_status status = subinterp_queue_size(queue_id, &n, NULL);
    if (status == SUBINTERP_OK) *size = (int64_t)n;
    return status;
}

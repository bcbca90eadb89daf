#include <stdio.h>
#include <subinterp.h>

int main(void) {
    int64_t id, total;
    subinterp_data *n, *args, *result;
    subinterp_error *err = NULL;
    subinterp_data_new_int(1000000, &n, NULL);
    subinterp_data_new_tuple((const subinterp_data *const *)&n, 1, &args, NULL);
    if (subinterp_create(NULL, &id, &err) ||                       /* isolated, own GIL */
        subinterp_exec(id, "def f(n): return sum(range(n))", NULL, NULL, &err) ||
        subinterp_call(id, "f", args, NULL, NULL, &result, NULL, &err) ||
        subinterp_data_get_int(result, &total, &err)) {
        fprintf(stderr, "%s\n", subinterp_error_message(err));    /* type, message, traceback */
        return 1;
    }
    printf("sum(range(1000000)) = %lld\n", (long long)total);
    subinterp_data_free(result), subinterp_data_free(args), subinterp_data_free(n);
    return subinterp_destroy(id, NULL);
}

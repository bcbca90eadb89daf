/* Check macros shared by the plain-C tests (test_header.c, test_dlopen.c),
 * which use no test framework on purpose: they are what a C consumer writes.
 * Each test defines report_failure(), since one links the library and the
 * other reaches it only through dlsym(). */
#ifndef SUBINTERP_TEST_CHECK_H
#define SUBINTERP_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

#include "subinterp.h"

static int checks = 0;

/* Prints the failed expression and, if given, the library's error; returns 1. */
static int report_failure(const char *file, int line, const char *what, const subinterp_error *err);

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        checks++;                                                                         \
        if (!(cond)) return report_failure(__FILE__, __LINE__, #cond, NULL);              \
    } while (0)

/* Also prints the error of the last call (the variable `err` in scope). */
#define CHECK_OK(call)                                                                    \
    do {                                                                                  \
        subinterp_status check_status_ = (call);                                          \
        checks++;                                                                         \
        if (check_status_ != SUBINTERP_OK) return report_failure(__FILE__, __LINE__, #call, err); \
    } while (0)

#define CHECK_STR(actual, expected)                                                        \
    do {                                                                                  \
        const char *check_actual_ = (actual);                                             \
        checks++;                                                                         \
        if (!check_actual_ || strcmp(check_actual_, (expected)) != 0) {                   \
            fprintf(stderr, "  got \"%s\", expected \"%s\"\n",                            \
                    check_actual_ ? check_actual_ : "(NULL)", (expected));                \
            return report_failure(__FILE__, __LINE__, #actual " == \"" expected "\"", NULL); \
        }                                                                                 \
    } while (0)

#define CHECK_CONTAINS(haystack, needle)                                                   \
    do {                                                                                  \
        const char *check_haystack_ = (haystack);                                         \
        checks++;                                                                         \
        if (!check_haystack_ || !strstr(check_haystack_, (needle))) {                     \
            fprintf(stderr, "  \"%s\" not found in:\n%s\n", (needle),                     \
                    check_haystack_ ? check_haystack_ : "(NULL)");                        \
            return report_failure(__FILE__, __LINE__, #haystack " contains \"" needle "\"", NULL); \
        }                                                                                 \
    } while (0)

#endif

/* check.h - a tiny test harness for the C ABI tests (C99, no dependencies).
 *
 * CHECK(cond) records a failure and goes on; REQUIRE(cond) stops the test. main() returns
 * the failure count, so ctest fails on any. Paths come from argv (see tests/capi.cmake). */
#ifndef EMBER_TEST_CHECK_H
#define EMBER_TEST_CHECK_H

#include <ember/ember.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures = 0;

#define CHECK(cond)                                                                              \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "%s:%d: CHECK(%s) failed (last error: %s)\n", __FILE__, __LINE__, #cond, \
                    ember_last_error());                                                         \
            ++check_failures;                                                                    \
        }                                                                                        \
    } while (0)

#define REQUIRE(cond)                                                                            \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "%s:%d: REQUIRE(%s) failed (last error: %s)\n", __FILE__, __LINE__,  \
                    #cond, ember_last_error());                                                  \
            exit(1);                                                                             \
        }                                                                                        \
    } while (0)

/* The status and a fragment the thread's message must contain. */
#define CHECK_ERROR(call, status, fragment)                                                      \
    do {                                                                                         \
        ember_status s_ = (call);                                                                \
        if (s_ != (status) || !strstr(ember_last_error(), (fragment))) {                         \
            fprintf(stderr, "%s:%d: %s gave %s \"%s\", expected %s with \"%s\"\n", __FILE__,      \
                    __LINE__, #call, ember_status_name(s_), ember_last_error(),                   \
                    ember_status_name(status), (fragment));                                      \
            ++check_failures;                                                                    \
        }                                                                                        \
    } while (0)

static int check_report(const char *name) {
    if (check_failures) fprintf(stderr, "%s: %d check(s) failed\n", name, check_failures);
    else fprintf(stderr, "%s: all checks passed\n", name);
    return check_failures ? 1 : 0;
}

#endif /* EMBER_TEST_CHECK_H */

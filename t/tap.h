#ifndef TAP_H
#define TAP_H
/*
 * SUMMARY
 *    tap - a minimal TAP producer for the C unit tests
 * DESCRIPTION
 *    plan(n), ok(cond, name...), is_int(got, want, name...),
 *    is_str(got, want, name...), is_mem(got, glen, want, wlen, name...),
 *    diag(fmt...), done_testing(). The program's exit status is the
 *    number of failures (capped at 254), so prove sees a failure twice.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_fail, tap_planned;

__attribute__((format(printf, 2, 0)))
static void tap_vres(int pass, const char *fmt, va_list ap)
{
    tap_n++;
    if (!pass)
        tap_fail++;
    printf("%sok %d - ", pass ? "" : "not ", tap_n);
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
}

static inline void plan(int n)
{
    tap_planned = n;
    printf("1..%d\n", n);
}

static inline void diag(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static inline void diag(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("# ", stdout);
    vprintf(fmt, ap);
    fputs("\n", stdout);
    va_end(ap);
    fflush(stdout);
}

static inline int ok(int pass, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline int ok(int pass, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    tap_vres(pass, fmt, ap);
    va_end(ap);
    return pass;
}

static inline int is_int(long long got, long long want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline int is_int(long long got, long long want, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    tap_vres(got == want, fmt, ap);
    va_end(ap);
    if (got != want)
        diag("got %lld, want %lld", got, want);
    return got == want;
}

static inline int is_mem(const void *got, size_t glen, const void *want,
                         size_t wlen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static inline int is_mem(const void *got, size_t glen, const void *want,
                         size_t wlen, const char *fmt, ...)
{
    va_list ap;
    int pass = glen == wlen && (glen == 0 || memcmp(got, want, glen) == 0);

    va_start(ap, fmt);
    tap_vres(pass, fmt, ap);
    va_end(ap);
    if (!pass)
        diag("got \"%.*s\" (%zu bytes)\n# want \"%.*s\" (%zu bytes)",
             (int)glen, got ? (const char *)got : "", glen, (int)wlen,
             want ? (const char *)want : "", wlen);
    return pass;
}

static inline int is_str(const char *got, const char *want,
                         const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline int is_str(const char *got, const char *want,
                         const char *fmt, ...)
{
    va_list ap;
    int pass = got && want && strcmp(got, want) == 0;

    va_start(ap, fmt);
    tap_vres(pass, fmt, ap);
    va_end(ap);
    if (!pass)
        diag("got \"%s\", want \"%s\"", got ? got : "(null)",
             want ? want : "(null)");
    return pass;
}

/* done_testing - print the plan if none was given; exit status */
static inline int done_testing(void)
{
    if (!tap_planned)
        printf("1..%d\n", tap_n);
    else if (tap_planned != tap_n)
        diag("planned %d tests, ran %d", tap_planned, tap_n);
    fflush(stdout);
    return tap_fail > 254 ? 254 : tap_fail;
}

#endif

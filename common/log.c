/*
 * SUMMARY
 *    log - leveled logging to stderr or syslog
 * DESCRIPTION
 *    See log.h. One write(2) per line on stderr, so lines of different
 *    threads and processes sharing the descriptor never interleave. The
 *    level threshold is read with a relaxed load from an int that may
 *    sit in shared memory (mid's MI "debug" writes it).
 * PROTOCOL
 *    None.
 * DIAGNOSTICS
 *    A failing write to stderr is ignored: there is nowhere to report it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static char log_name[32] = "sipstage";
static int log_syslog;
static int log_local_level = LOG_L_NOTICE;
static volatile int *log_level_p = &log_local_level;
static _Thread_local const char *log_ctx;

static const struct {
    const char *name;
    int value;
} log_facilities[] = {
    {"AUTH", LOG_AUTH},     {"AUTHPRIV", LOG_AUTHPRIV},
    {"CRON", LOG_CRON},     {"DAEMON", LOG_DAEMON},
    {"FTP", LOG_FTP},       {"KERN", LOG_KERN},
    {"LOCAL0", LOG_LOCAL0}, {"LOCAL1", LOG_LOCAL1},
    {"LOCAL2", LOG_LOCAL2}, {"LOCAL3", LOG_LOCAL3},
    {"LOCAL4", LOG_LOCAL4}, {"LOCAL5", LOG_LOCAL5},
    {"LOCAL6", LOG_LOCAL6}, {"LOCAL7", LOG_LOCAL7},
    {"LPR", LOG_LPR},       {"MAIL", LOG_MAIL},
    {"NEWS", LOG_NEWS},     {"SYSLOG", LOG_SYSLOG},
    {"USER", LOG_USER},     {"UUCP", LOG_UUCP},
};

/* log_facility_parse - "LOG_LOCAL0" or "local0" to its value, or -1 */
int log_facility_parse(const char *name)
{
    size_t i;

    if (strncasecmp(name, "LOG_", 4) == 0)
        name += 4;
    for (i = 0; i < sizeof(log_facilities) / sizeof(log_facilities[0]); i++)
        if (strcasecmp(name, log_facilities[i].name) == 0)
            return log_facilities[i].value;
    return -1;
}

void log_set_name(const char *name)
{
    snprintf(log_name, sizeof(log_name), "%s", name);
}

void log_init(const char *name, int use_syslog, const char *facility)
{
    int fac = facility ? log_facility_parse(facility) : LOG_DAEMON;

    log_set_name(name);
    if (use_syslog) {
        openlog(log_name, LOG_PID | LOG_NDELAY, fac < 0 ? LOG_DAEMON : fac);
        log_syslog = 1;
    }
}

void log_level_ptr(volatile int *level)
{
    log_level_p = level ? level : &log_local_level;
}

void log_level_set(int level)
{
    __atomic_store_n(log_level_p, level, __ATOMIC_RELAXED);
}

int log_level_get(void)
{
    return __atomic_load_n(log_level_p, __ATOMIC_RELAXED);
}

void log_ctx_set(const char *ctx)
{
    log_ctx = ctx;
}

static const char *log_level_name(int level)
{
    switch (level) {
    case LOG_L_ALERT:
        return "alert";
    case LOG_L_CRIT:
        return "crit";
    case LOG_L_ERR:
        return "error";
    case LOG_L_WARN:
        return "warning";
    case LOG_L_NOTICE:
        return "notice";
    case LOG_L_INFO:
        return "info";
    default:
        return "debug";
    }
}

static int log_syslog_prio(int level)
{
    switch (level) {
    case LOG_L_ALERT:
        return LOG_ALERT;
    case LOG_L_CRIT:
        return LOG_CRIT;
    case LOG_L_ERR:
        return LOG_ERR;
    case LOG_L_WARN:
        return LOG_WARNING;
    case LOG_L_NOTICE:
        return LOG_NOTICE;
    case LOG_L_INFO:
        return LOG_INFO;
    default:
        return LOG_DEBUG;
    }
}

/* log_emit - format and write one line; lname overrides the level name */
__attribute__((format(printf, 4, 0)))
static void log_emit(int level, const char *lname, const char *func,
                     const char *fmt, va_list ap)
{
    char buf[2048];
    int n, m;

    if (log_syslog) {
        n = vsnprintf(buf, sizeof(buf), fmt, ap);
        syslog(log_syslog_prio(level), "%s: %s: %s%s%s", lname, func,
               log_ctx ? log_ctx : "", log_ctx ? ": " : "", buf);
        return;
    }
    n = snprintf(buf, sizeof(buf), "%s[%ld]: %s: %s: %s%s", log_name,
                 (long)getpid(), lname, func, log_ctx ? log_ctx : "",
                 log_ctx ? ": " : "");
    if (n < 0 || (size_t)n >= sizeof(buf) - 2)
        n = 0;
    m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
    if (m < 0)
        m = 0;
    n += m;
    if ((size_t)n > sizeof(buf) - 2)
        n = (int)sizeof(buf) - 2;
    buf[n++] = '\n';
    (void)!write(STDERR_FILENO, buf, (size_t)n);
}

void log_msg(int level, const char *func, const char *fmt, ...)
{
    va_list ap;

    if (level > log_level_get())
        return;
    va_start(ap, fmt);
    log_emit(level, log_level_name(level), func, fmt, ap);
    va_end(ap);
}

/*
 * log_msg_rl - rate-limited: LOG_RL_BURST lines per second per call
 * site. The window state is racy between threads on purpose: an
 * occasional extra or missing line is cheaper than a lock here.
 */
void log_msg_rl(struct log_rl *rl, int level, const char *func,
                const char *fmt, ...)
{
    struct timespec ts;
    va_list ap;
    int64_t now;
    int dropped;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    now = ts.tv_sec;
    if (__atomic_load_n(&rl->sec, __ATOMIC_RELAXED) != now) {
        dropped = __atomic_exchange_n(&rl->suppressed, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&rl->sec, now, __ATOMIC_RELAXED);
        __atomic_store_n(&rl->count, 0, __ATOMIC_RELAXED);
        if (dropped > 0)
            log_msg(level, func, "%d similar messages suppressed", dropped);
    }
    if (__atomic_add_fetch(&rl->count, 1, __ATOMIC_RELAXED) > LOG_RL_BURST) {
        __atomic_add_fetch(&rl->suppressed, 1, __ATOMIC_RELAXED);
        return;
    }
    va_start(ap, fmt);
    log_emit(level, log_level_name(level), func, fmt, ap);
    va_end(ap);
}

void log_fatal_(const char *func, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_emit(LOG_L_CRIT, "fatal", func, fmt, ap);
    va_end(ap);
    exit(1);
}

#ifndef LOG_H
#define LOG_H
/*
 * SUMMARY
 *    log - leveled logging to stderr or syslog
 * DESCRIPTION
 *    Line format on stderr: "daemon[pid]: level: func: text". Levels are
 *    the seed's (OpenSIPS) numbers: 4 debug, 3 info, 2 notice, 1 warn,
 *    -1 error, -2 crit, -3 alert. The threshold lives in an int that the
 *    caller may point into shared memory (log_level_ptr), so that mid's
 *    MI "debug" command changes every stage at once without a message.
 *
 *    log_fatal() is for a process that cannot go on (bad config, ring map
 *    failure): it exits 1 and mid restarts the stage. Network input never
 *    reaches it. STYLE's log_panic() (a bug: "panic:" line, abort) is
 *    not here because nothing would call it: the one self-check that
 *    aborts, ring_shrink(), sits in a module that does not log.
 *
 *    log_warn_rl() and friends rate-limit per call site: at most
 *    LOG_RL_BURST lines a second, then one line saying how many were
 *    suppressed. Use them for everything the network can trigger.
 *
 *    A thread may set a context string (Call-ID, branch) with
 *    log_ctx_set(); it is printed after the function name.
 */
#include <stdarg.h>
#include <stdint.h>

#define LOG_L_ALERT (-3)
#define LOG_L_CRIT (-2)
#define LOG_L_ERR (-1)
#define LOG_L_WARN 1
#define LOG_L_NOTICE 2
#define LOG_L_INFO 3
#define LOG_L_DBG 4

#define LOG_RL_BURST 10

struct log_rl {
    int64_t sec;                        /* current one-second window */
    int count;                          /* lines in this window */
    int suppressed;                     /* lines dropped in last window */
};

extern void log_init(const char *name, int use_syslog, const char *facility);
extern void log_set_name(const char *name);
extern void log_level_ptr(volatile int *level);
extern void log_level_set(int level);
extern int log_level_get(void);
extern int log_facility_parse(const char *name);
extern void log_ctx_set(const char *ctx);
extern void log_msg(int level, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
extern void log_msg_rl(struct log_rl *rl, int level, const char *func,
                       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
extern void log_fatal_(const char *func, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

#define LOG_ON(lvl) ((lvl) <= log_level_get())

#define log_debug(...) \
    do { if (LOG_ON(LOG_L_DBG)) log_msg(LOG_L_DBG, __func__, __VA_ARGS__); \
    } while (0)
#define log_info(...) log_msg(LOG_L_INFO, __func__, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_L_NOTICE, __func__, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_L_WARN, __func__, __VA_ARGS__)
#define log_error(...) log_msg(LOG_L_ERR, __func__, __VA_ARGS__)
#define log_crit(...) log_msg(LOG_L_CRIT, __func__, __VA_ARGS__)
#define log_fatal(...) log_fatal_(__func__, __VA_ARGS__)

/* Rate-limited variants: one static window per call site. */
#define LOG_RL_(lvl, ...)                                       \
    do {                                                        \
        static struct log_rl log_rl_site_;                      \
        if (LOG_ON(lvl))                                        \
            log_msg_rl(&log_rl_site_, lvl, __func__, __VA_ARGS__); \
    } while (0)
#define log_warn_rl(...) LOG_RL_(LOG_L_WARN, __VA_ARGS__)
#define log_info_rl(...) LOG_RL_(LOG_L_INFO, __VA_ARGS__)
#define log_notice_rl(...) LOG_RL_(LOG_L_NOTICE, __VA_ARGS__)

#endif

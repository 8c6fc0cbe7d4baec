#ifndef SIPD_RCU_H
#define SIPD_RCU_H
/*
 * SUMMARY
 *    sipd_rcu - liburcu (urcu-memb) as sipd uses it, and what
 *    ThreadSanitizer has to be told about it
 * DESCRIPTION
 *    The alias cache (sipd_cache.c) and the address table
 *    (sipd_allow.c, sipd_allow_load.c, sipd_db.c) are read under RCU:
 *    readers inside urcu_memb_read_lock()/unlock(), objects published
 *    with rcu_assign_pointer() or by rculfhash, freed by call_rcu after
 *    a grace period. Every thread that reads or calls call_rcu is
 *    registered (urcu_memb_register_thread()).
 *
 *    ThreadSanitizer (make check, SAN=thread) cannot see any of those
 *    orderings: liburcu is not instrumented, its grace periods are
 *    membarrier and futex calls, and rcu_assign_pointer() is a barrier
 *    and a volatile store. It would report every free after a grace
 *    period, and every read of a published object, as a data race. So,
 *    in a ThreadSanitizer build only (the compiler defines
 *    __SANITIZE_THREAD__; this is not a feature switch, the code and
 *    its orderings are the same), the macros below state those orderings
 *    to TSan: SIPD_RCU_SET/GET use the __atomic builtins with
 *    release/acquire order (what rcu_assign_pointer() and rcu_dereference()
 *    give on every CPU sipstage builds for, and what liburcu itself uses
 *    from 0.14 on with CONFIG_RCU_USE_ATOMIC_BUILTINS); SIPD_RCU_PUBLISH(o)
 *    before an object becomes visible and SIPD_RCU_SEEN(o) when a reader
 *    finds it; SIPD_RCU_LEFT(o) when a reader is done with it and
 *    SIPD_RCU_RECLAIM(o) in the call_rcu callback before it is freed.
 *    In every other build they are rcu_assign_pointer(),
 *    rcu_dereference() and nothing.
 */
#include <urcu/urcu-memb.h>

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define SIPD_RCU_SET(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define SIPD_RCU_GET(p) __atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#define SIPD_RCU_PUBLISH(o) __tsan_release((void *)(o))
#define SIPD_RCU_SEEN(o) __tsan_acquire((void *)(o))
#define SIPD_RCU_LEFT(o) __tsan_release((void *)(o))
#define SIPD_RCU_RECLAIM(o) __tsan_acquire((void *)(o))
#else
#define SIPD_RCU_SET(p, v) rcu_assign_pointer(p, v)
#define SIPD_RCU_GET(p) rcu_dereference(p)
#define SIPD_RCU_PUBLISH(o) ((void)0)
#define SIPD_RCU_SEEN(o) ((void)0)
#define SIPD_RCU_LEFT(o) ((void)0)
#define SIPD_RCU_RECLAIM(o) ((void)0)
#endif

#endif

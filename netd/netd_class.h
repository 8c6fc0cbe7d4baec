#ifndef NETD_CLASS_H
#define NETD_CLASS_H
/*
 * SUMMARY
 *      netd_class - what an incoming message is, for shedding
 * DESCRIPTION
 *      See netd_class.c. netd sorts a message into one of three classes
 *      without parsing it, so that under overload it can drop new work
 *      and keep what finishes work already begun.
 */
#include <stddef.h>

enum netd_class {
    NETD_CLASS_NEW = 0,                 /* a request that starts new work,
                                         * and anything unrecognised */
    NETD_CLASS_DIALOG,                  /* a request within a dialog or
                                         * transaction already begun */
    NETD_CLASS_REPLY,                   /* a response */
};

#define NETD_CLASS_N 3

/*
 * netd_class_of - the class of the message buf[0..len): a response
 *      starts "SIP/2.0 " (after any leading CRLFs); a request (its first
 *      line "token SP ... SP SIP/2.0") is
 *      in-dialog when its method is ACK, BYE, CANCEL, PRACK, UPDATE or
 *      INFO (case-sensitive, RFC 3261 section 7.1), or when its To
 *      header (To: or t:) carries a non-empty tag parameter; everything
 *      else, garbage included, is NETD_CLASS_NEW. Reads only the start
 *      line and the header lines up to the To header; never fails.
 */
extern enum netd_class netd_class_of(const char *buf, size_t len);

/* netd_class_name - "new", "dialog", "reply" */
extern const char *netd_class_name(enum netd_class c);

#endif

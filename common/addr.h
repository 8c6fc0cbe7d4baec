#ifndef ADDR_H
#define ADDR_H
/*
 * SUMMARY
 *      addr - IP address text to struct msg_addr
 * DESCRIPTION
 *      The one parser of an IP literal for every daemon: sipd (a
 *      Request-URI, Route or Via host), netd (the top Via of a TCP
 *      connection, RFC 5923 alias) and dnsd (a query whose name is
 *      already an address) all call addr_parse().
 */
#include <stddef.h>

#include "msg.h"

/*
 * addr_parse - IP text s/len (need not be NUL-terminated) and a port
 *      (host order) to *a.
 *      Accepted: an IPv4 dotted quad ("192.0.2.1"), an IPv6 address
 *      ("2001:db8::1", "::ffff:192.0.2.1"), or an IPv6 address in
 *      brackets ("[::1]"). Rejected: host names, a port or scope
 *      ("%eth0") inside the text, blanks, an IPv4 address in brackets,
 *      a port outside 0..65535.
 *      Returns 0 with *a filled (family AF_INET or AF_INET6, port in
 *      network order, scope 0), or -EINVAL with *a zeroed.
 */
extern int addr_parse(struct msg_addr *a, const char *s, size_t len,
                      int port);

#endif

/*
 * SUMMARY
 *      sipblast - stateless SIP load through a proxy, for make bench
 * SYNOPSIS
 *      sipblast -p PROXY_PORT [-n TRANSACTIONS] [-w WINDOW] [-t SECONDS]
 *               [-m invite|options|mixed] [-s UAS_PORT] [-U URI [-u N]]
 *      sipblast -p PROXY_PORT -r RATE -d SECONDS [-m ...] [-s UAS_PORT]
 *               [-U URI [-u N]]
 *      sipblast -R LISTEN_PORT -s UAS_PORT [-t SECONDS]
 * DESCRIPTION
 *      One process, two threads, both on 127.0.0.1:
 *
 *        UAC  sends requests for sip:uas@127.0.0.1:UAS_PORT (or -U) to the
 *             proxy, each with its own Call-ID and branch, and counts the
 *             200s that come back (other responses apart);
 *        UAS  answers every request it receives, but ACK, with a 200
 *             built from it (all Via headers, From, To with a tag,
 *             Call-ID, CSeq, X-Blast), sent back to where the request
 *             came from: the proxy.
 *
 *      Closed loop (no -r): at most WINDOW transactions open; stops after
 *      TRANSACTIONS answers or SECONDS, then drains what is still open
 *      (as below). What the proxy sustains: rate is over the time until
 *      the stop, without the drain.
 *
 *      Open loop (-r RATE): requests leave at RATE per second, paced by
 *      the clock and never by answers, for SECONDS (-d); then the
 *      answers still in flight are drained (until 300 ms of silence, at
 *      most 2 s). The generator does not slow down when the proxy does:
 *      what the proxy cannot take is lost and counted. A generator that
 *      fell behind (it lost the CPU) sends what was due in batches as
 *      soon as it runs again, for at most a tenth of SECONDS (1 s) past
 *      the end; past that, "sent" stays below "offered". send_secs says
 *      how long sending took.
 *
 *      Latency. Every request carries "X-Blast: T", T its send time
 *      (CLOCK_MONOTONIC, ns, one clock_gettime per sendmmsg batch).
 *        req  (the added latency): from the UAC's sendmmsg to the UAS's
 *             recvmmsg of the copy the proxy relayed: one pass through
 *             the proxy plus the generator's own wake-up;
 *        rtt  from the UAC's sendmmsg to its recvmmsg of the 200: two
 *             passes through the proxy and the UAS's turn.
 *      Both go into log-linear histograms (32 sub-buckets per power of
 *      two, about 3% resolution, exact below 64 ns), one per thread,
 *      fixed arrays: no allocation per message.
 *
 *      Traffic (-m): "invite" (default), a new INVITE with an SDP body
 *      per transaction; "options", OPTIONS; "mixed", calls of INVITE,
 *      ACK (To tag), BYE (To tag) in turn with one Call-ID per call:
 *      one third new requests, two thirds in-dialog; the UAS answers
 *      INVITE and BYE. For mixed, the report splits what got through:
 *      new requests, in-dialog requests, responses.
 *
 *      Request-URI (-U URI): the Request-URI and the To URI of every
 *      request instead of sip:uas@127.0.0.1:UAS_PORT; the first "%u" in
 *      it becomes the call's number modulo N (-u, default 1000), e.g.
 *      -U 'sip:a%u@alias.test' -u 1000 runs over a0 ... a999, one after
 *      the other (consecutive calls, consecutive numbers). For the
 *      database bench: a proxy must look each one up, and a table of N
 *      aliases points them at the UAS. The URI is split at "%u" once at
 *      start; a request takes one more snprintf, into a stack buffer.
 *
 *      Relay (-R): a zero-work relay, no SIP parsing: a datagram on
 *      LISTEN_PORT that starts with "SIP/2.0 " goes to the last address
 *      a request came from, anything else to 127.0.0.1:UAS_PORT; one
 *      thread, recvmmsg/sendmmsg in batches of 64. Runs SECONDS (default
 *      60) or until SIGTERM. The ceiling of a single-reactor UDP relay.
 *
 *      Both sides batch with recvmmsg/sendmmsg, so the generator costs
 *      few syscalls per message.
 * OUTPUT
 *      One line of "key value" pairs:
 *        mode open|closed offered N sent N uas_recv N rsp_sent N
 *        answered N lost_req N lost N seconds S rate R
 *        req_p50 req_p99 req_p999 req_max rtt_p50 rtt_p99 rtt_p999
 *        rtt_max (microseconds) new_sent new_recv dlg_sent dlg_recv
 *        gen_drops (datagrams the generator's own sockets dropped: a
 *        loss that is the generator's, not the proxy's; should be 0)
 *        uas_drops (of those, requests the proxy relayed that the UAS
 *        socket dropped) send_secs (open loop: first send to last)
 *      rate is answered transactions per second of the load; lost_req is
 *      sent - uas_recv (requests the proxy did not relay), lost is
 *      answers expected but missing.
 * DIAGNOSTICS
 *      Exits 1 on a socket error, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BLAST_BATCH 64
#define BLAST_MSG 1400
#define BLAST_HBUCKETS (64 + 40 * 32)

enum { BLAST_M_INVITE, BLAST_M_OPTIONS, BLAST_M_MIXED };

struct blast_hist {
    uint64_t b[BLAST_HBUCKETS];
    uint64_t n, max;
};

static int blast_proxy_port;
static int blast_uac_fd, blast_uas_fd;
static int blast_uac_port, blast_uas_port;
static int blast_mode = BLAST_M_INVITE;
static const char *blast_ruri;          /* -U: text before "%u", or all */
static const char *blast_ruri_post;     /* text after "%u"; NULL: none */
static size_t blast_ruri_len;           /* of blast_ruri before "%u" */
static unsigned blast_ruri_n = 1000;    /* -u: %u is the call modulo this */
static atomic_int blast_stop;
static volatile sig_atomic_t blast_term;
static uint64_t blast_closed_end;
static double blast_send_secs;          /* open loop: first to last send */

/* UAS counters and histogram: written by the UAS thread only. */
static struct blast_hist blast_req_h, blast_rtt_h;
static long blast_uas_recv, blast_uas_new, blast_uas_dlg, blast_rsp_sent;

/* UAC thread only: responses other than 200 */
static long blast_other;

static uint64_t blast_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int blast_hidx(uint64_t v)
{
    int b, i;

    if (v < 64)
        return (int)v;
    b = 63 - __builtin_clzll(v);
    i = 64 + (b - 6) * 32 + (int)((v >> (b - 5)) - 32);
    return i < BLAST_HBUCKETS ? i : BLAST_HBUCKETS - 1;
}

/* blast_hval - the middle of bucket i, ns */
static double blast_hval(int i)
{
    int b;
    uint64_t lo;

    if (i < 64)
        return i;
    b = (i - 64) / 32 + 6;
    lo = (uint64_t)((i - 64) % 32 + 32) << (b - 5);
    return (double)lo + (double)(1ull << (b - 5)) / 2;
}

static void blast_hadd(struct blast_hist *h, uint64_t v)
{
    h->b[blast_hidx(v)]++;
    h->n++;
    if (v > h->max)
        h->max = v;
}

/* blast_hq - quantile q of h, microseconds */
static double blast_hq(const struct blast_hist *h, double q)
{
    uint64_t want, seen = 0;
    int i;

    if (h->n == 0)
        return 0;
    want = (uint64_t)(q * (double)h->n);
    if (want >= h->n)
        want = h->n - 1;
    for (i = 0; i < BLAST_HBUCKETS; i++) {
        seen += h->b[i];
        if (seen > want)
            return blast_hval(i) / 1e3;
    }
    return (double)h->max / 1e3;
}

static int blast_socket(int *port)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd, buf = 8 << 20;
    struct timeval tv = {0, 100000};

    if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)*port);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0
        || getsockname(fd, (struct sockaddr *)&a, &len) < 0)
        return -1;
    *port = ntohs(a.sin_port);
    return fd;
}

static void blast_rm_init(struct mmsghdr *m, struct iovec *iov,
                          char (*buf)[BLAST_MSG], struct sockaddr_in *from)
{
    int i;

    memset(m, 0, sizeof(*m) * BLAST_BATCH);
    for (i = 0; i < BLAST_BATCH; i++) {
        iov[i] = (struct iovec){buf[i], BLAST_MSG};
        m[i].msg_hdr.msg_iov = &iov[i];
        m[i].msg_hdr.msg_iovlen = 1;
        if (from != NULL) {
            m[i].msg_hdr.msg_name = &from[i];
            m[i].msg_hdr.msg_namelen = sizeof(from[i]);
        }
    }
}

/* blast_stamp - the X-Blast send time of message p (len n), 0 if none */
static uint64_t blast_stamp(const char *p, int n)
{
    const char *h = memmem(p, (size_t)n, "\nX-Blast: ", 10);

    return h == NULL ? 0 : strtoull(h + 10, NULL, 10);
}

/* blast_reply - a 200 for request req (len n) into out; its length */
static int blast_reply(const char *req, int n, char *out)
{
    const char *p = req, *end = req + n, *nl;
    int o = snprintf(out, BLAST_MSG, "SIP/2.0 200 OK\r\n");

    /* Copy Via, From, To (tagged), Call-ID, CSeq, X-Blast. */
    for (; p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL;
         p = nl + 1) {
        int len = (int)(nl - p + 1), tagged;

        if (len <= 2)
            break;
        if (strncmp(p, "Via:", 4) == 0 || strncmp(p, "From:", 5) == 0
            || strncmp(p, "Call-ID:", 8) == 0 || strncmp(p, "CSeq:", 5) == 0
            || strncmp(p, "X-Blast:", 8) == 0) {
            if (o + len >= BLAST_MSG)
                return 0;
            memcpy(out + o, p, (size_t)len);
            o += len;
        } else if (strncmp(p, "To:", 3) == 0) {
            if (o + len + 16 >= BLAST_MSG)
                return 0;
            tagged = memmem(p, (size_t)len, ";tag=", 5) != NULL;
            memcpy(out + o, p, (size_t)len - 2);
            o += len - 2;
            o += sprintf(out + o, tagged ? "\r\n" : ";tag=uas\r\n");
        }
    }
    o += snprintf(out + o, (size_t)(BLAST_MSG - o),
                  "Content-Length: 0\r\n\r\n");
    return o;
}

/* blast_uas_one - count request in (len n) received at now; reply len */
static int blast_uas_one(const char *in, int n, char *out, uint64_t now)
{
    const char *to = memmem(in, (size_t)n, "\nTo:", 4);
    const char *tl = to == NULL ? NULL : memchr(to + 1, '\n',
                                                (size_t)(in + n - to - 1));
    uint64_t t = blast_stamp(in, n);

    if (n < 8 || memcmp(in, "SIP/2.0 ", 8) == 0)
        return 0;
    blast_uas_recv++;
    if (t != 0 && now >= t)
        blast_hadd(&blast_req_h, now - t);
    if (tl != NULL && memmem(to, (size_t)(tl - to), ";tag=", 5) != NULL)
        blast_uas_dlg++;
    else
        blast_uas_new++;
    if (memcmp(in, "ACK ", 4) == 0)
        return 0;
    return blast_reply(in, n, out);
}

static void *blast_uas(void *arg)
{
    static char in[BLAST_BATCH][BLAST_MSG], out[BLAST_BATCH][BLAST_MSG];
    struct mmsghdr rm[BLAST_BATCH], sm[BLAST_BATCH];
    struct iovec riov[BLAST_BATCH], siov[BLAST_BATCH];
    struct sockaddr_in from[BLAST_BATCH];
    uint64_t now;
    int i, n, k;

    (void)arg;
    while (!atomic_load(&blast_stop)) {
        blast_rm_init(rm, riov, in, from);
        n = recvmmsg(blast_uas_fd, rm, BLAST_BATCH, MSG_WAITFORONE, NULL);
        if (n <= 0)
            continue;
        now = blast_ns();
        memset(sm, 0, sizeof(sm));
        for (i = k = 0; i < n; i++) {
            int len = blast_uas_one(in[i], (int)rm[i].msg_len, out[k], now);

            if (len <= 0)
                continue;
            siov[k] = (struct iovec){out[k], (size_t)len};
            sm[k].msg_hdr.msg_iov = &siov[k];
            sm[k].msg_hdr.msg_iovlen = 1;
            sm[k].msg_hdr.msg_name = &from[i];
            sm[k].msg_hdr.msg_namelen = sizeof(from[i]);
            k++;
        }
        if (k > 0 && (n = sendmmsg(blast_uas_fd, sm, (unsigned)k, 0)) > 0)
            blast_rsp_sent += n;
    }
    return NULL;
}

static const char blast_sdp[] =
    "v=0\r\n"
    "o=blast 1 1 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "c=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\n"
    "m=audio 6000 RTP/AVP 0 8 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=sendrecv\r\n";

/* blast_uri - the Request-URI of call number call into out (cap) */
static void blast_uri(char *out, size_t cap, unsigned call)
{
    if (blast_ruri == NULL)
        snprintf(out, cap, "sip:uas@127.0.0.1:%d", blast_uas_port);
    else if (blast_ruri_post == NULL)
        snprintf(out, cap, "%s", blast_ruri);
    else
        snprintf(out, cap, "%.*s%u%s", (int)blast_ruri_len, blast_ruri,
                 call % blast_ruri_n, blast_ruri_post);
}

/* blast_request - request number seq, stamped t, into out; its length.
 * *dlg is set when it is an in-dialog request (To tag). */
static int blast_request(char *out, unsigned seq, uint64_t t, int *dlg)
{
    static const char *const mixed[] = {"INVITE", "ACK", "BYE"};
    const char *method = "INVITE", *body = blast_sdp;
    unsigned call = seq, cseq = 1;
    char uri[256];

    *dlg = 0;
    if (blast_mode == BLAST_M_OPTIONS) {
        method = "OPTIONS";
        body = "";
    } else if (blast_mode == BLAST_M_MIXED) {
        call = seq / 3;
        method = mixed[seq % 3];
        *dlg = seq % 3 != 0;
        cseq = seq % 3 == 2 ? 2 : 1;
        body = *dlg ? "" : blast_sdp;
    }
    blast_uri(uri, sizeof(uri), call);
    return snprintf(out, BLAST_MSG,
                    "%s %s SIP/2.0\r\n"
                    "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-b%u\r\n"
                    "Max-Forwards: 70\r\n"
                    "From: <sip:blast@127.0.0.1:%d>;tag=%u\r\n"
                    "To: <%s>%s\r\n"
                    "Call-ID: %u-blast@127.0.0.1\r\n"
                    "CSeq: %u %s\r\n"
                    "Contact: <sip:blast@127.0.0.1:%d>\r\n"
                    "X-Blast: %llu\r\n"
                    "%s"
                    "Content-Length: %zu\r\n\r\n%s",
                    method, uri, blast_uac_port, seq,
                    blast_uac_port, call, uri,
                    *dlg ? ";tag=uas" : "", call, cseq, method,
                    blast_uac_port, (unsigned long long)t,
                    *body ? "Content-Type: application/sdp\r\n" : "",
                    strlen(body), body);
}

struct blast_uac {
    unsigned seq;
    long sent, new_sent, dlg_sent, expect, answered;
};

/* blast_send - up to want requests, one sendmmsg; how many were sent */
static int blast_send(struct blast_uac *u, int want)
{
    static char out[BLAST_BATCH][BLAST_MSG];
    static int dlg[BLAST_BATCH];
    struct mmsghdr sm[BLAST_BATCH];
    struct iovec iov[BLAST_BATCH];
    struct sockaddr_in to;
    uint64_t t = blast_ns();
    int i, n;

    if (want > BLAST_BATCH)
        want = BLAST_BATCH;
    memset(&to, 0, sizeof(to));
    to.sin_family = AF_INET;
    to.sin_port = htons((uint16_t)blast_proxy_port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    memset(sm, 0, sizeof(sm));
    for (i = 0; i < want; i++) {
        iov[i] = (struct iovec){out[i], (size_t)blast_request(
                                            out[i], u->seq + (unsigned)i,
                                            t, &dlg[i])};
        sm[i].msg_hdr.msg_iov = &iov[i];
        sm[i].msg_hdr.msg_iovlen = 1;
        sm[i].msg_hdr.msg_name = &to;
        sm[i].msg_hdr.msg_namelen = sizeof(to);
    }
    n = sendmmsg(blast_uac_fd, sm, (unsigned)want, 0);
    for (i = 0; i < n; i++) {
        u->sent++;
        u->new_sent += !dlg[i];
        u->dlg_sent += dlg[i];
        /* ACK gets no answer */
        u->expect += !(blast_mode == BLAST_M_MIXED
                       && (u->seq + (unsigned)i) % 3 == 1);
    }
    u->seq += n > 0 ? (unsigned)n : 0;
    return n < 0 ? 0 : n;
}

/* blast_recv - count the answers waiting (up to a batch); flags are
 * recvmmsg's (MSG_WAITFORONE: wait up to the socket timeout) */
static int blast_recv(int flags)
{
    static char in[BLAST_BATCH][BLAST_MSG];
    struct mmsghdr rm[BLAST_BATCH];
    struct iovec iov[BLAST_BATCH];
    uint64_t now, t;
    int i, n, ok = 0;

    blast_rm_init(rm, iov, in, NULL);
    n = recvmmsg(blast_uac_fd, rm, BLAST_BATCH, flags, NULL);
    if (n <= 0)
        return 0;
    now = blast_ns();
    for (i = 0; i < n; i++) {
        if (rm[i].msg_len <= 12 || memcmp(in[i], "SIP/2.0 200 ", 12) != 0) {
            blast_other += rm[i].msg_len > 8
                           && memcmp(in[i], "SIP/2.0 ", 8) == 0;
            continue;
        }
        ok++;
        t = blast_stamp(in[i], (int)rm[i].msg_len);
        if (t != 0 && now >= t)
            blast_hadd(&blast_rtt_h, now - t);
    }
    return ok;
}

/* blast_drain - wait for the answers in flight: until 300 ms without
 * one, or 2 s, or all came */
static void blast_drain(struct blast_uac *u)
{
    uint64_t quiet = blast_ns() + 300000000u;
    uint64_t stop = blast_ns() + 2000000000u, now;

    while (u->answered < u->expect && (now = blast_ns()) < stop
           && now < quiet) {
        int got = blast_recv(MSG_WAITFORONE);

        u->answered += got;
        if (got > 0)
            quiet = blast_ns() + 300000000u;
    }
}

/* blast_closed - at most window open, until total answers or secs */
static void blast_closed(struct blast_uac *u, long total, long window,
                         double secs)
{
    uint64_t t0 = blast_ns(), end = t0 + (uint64_t)(secs * 1e9);
    long lost = 0;

    while (u->answered < total && blast_ns() < end) {
        long open = u->expect - u->answered - lost;
        int got;

        if (open < window && u->sent < total)
            blast_send(u, (int)(window - open < total - u->sent
                                    ? window - open
                                    : total - u->sent));
        got = blast_recv(MSG_WAITFORONE); /* waits up to 100 ms for one */
        u->answered += got;
        if (got > 0)
            continue;
        /* 100 ms of silence: what is still open is lost; reopen the
         * window, or stop when everything was sent. */
        lost = u->expect - u->answered;
        if (u->sent >= total)
            break;
    }
    blast_closed_end = blast_ns();      /* the rate's time: no drain */
    blast_drain(u);                     /* the window still open */
}

/* blast_open - rate requests per second for secs, then drain */
static void blast_open(struct blast_uac *u, double rate, double secs)
{
    uint64_t t0 = blast_ns(), end = t0 + (uint64_t)(secs * 1e9), now;
    struct pollfd pfd = {blast_uac_fd, POLLIN, 0};
    long total = (long)(secs * rate + 0.5), due, i;
    struct timespec ts;

    /* A generator that fell behind (it lost the CPU) catches up for at
     * most a tenth of the duration (1 s at most) past the end. */
    end += (uint64_t)(secs * 1e8 < 1e9 ? secs * 1e8 : 1e9);
    while (u->sent < total && (now = blast_ns()) < end) {
        due = (long)((double)(now - t0) * rate / 1e9) + 1 - u->sent;
        if (due > total - u->sent)
            due = total - u->sent;
        if (due > 0) {
            blast_send(u, (int)(due < BLAST_BATCH ? due : BLAST_BATCH));
            blast_send_secs = (double)(blast_ns() - t0) / 1e9;
        } else {
            uint64_t next = t0 + (uint64_t)((double)u->sent * 1e9 / rate);
            uint64_t wait = next > now ? next - now : 0;

            ts.tv_sec = (time_t)(wait / 1000000000u);
            ts.tv_nsec = (long)(wait % 1000000000u);
            if (ppoll(&pfd, 1, &ts, NULL) <= 0)
                continue;
        }
        for (i = 0; i < 4; i++) {       /* answers waiting, bounded */
            int got = blast_recv(MSG_DONTWAIT);

            u->answered += got;
            if (got < BLAST_BATCH)
                break;
        }
    }
    blast_drain(u);
}

static void blast_on_term(int sig)
{
    (void)sig;
    blast_term = 1;                     /* async-signal-safe */
}

/* blast_relay - the zero-work relay (see DESCRIPTION) */
static int blast_relay(int port, double secs)
{
    static char in[BLAST_BATCH][BLAST_MSG];
    struct mmsghdr rm[BLAST_BATCH], sm[BLAST_BATCH];
    struct iovec iov[BLAST_BATCH];
    struct sockaddr_in from[BLAST_BATCH], uas, uac;
    uint64_t end = blast_ns() + (uint64_t)(secs * 1e9);
    long relayed = 0;
    int fd, i, n;

    if ((fd = blast_socket(&port)) < 0) {
        perror("sipblast: relay socket");
        return 1;
    }
    signal(SIGTERM, blast_on_term);
    signal(SIGINT, blast_on_term);
    memset(&uas, 0, sizeof(uas));
    uas.sin_family = AF_INET;
    uas.sin_port = htons((uint16_t)blast_uas_port);
    uas.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    uac = uas;
    while (!blast_term && blast_ns() < end) {
        blast_rm_init(rm, iov, in, from);
        n = recvmmsg(fd, rm, BLAST_BATCH, MSG_WAITFORONE, NULL);
        if (n <= 0)
            continue;
        memset(sm, 0, sizeof(sm));
        for (i = 0; i < n; i++) {
            int rsp = rm[i].msg_len >= 8 && memcmp(in[i], "SIP/2.0 ", 8) == 0;

            if (!rsp)
                uac = from[i];
            iov[i].iov_len = rm[i].msg_len;
            sm[i].msg_hdr.msg_iov = &iov[i];
            sm[i].msg_hdr.msg_iovlen = 1;
            sm[i].msg_hdr.msg_name = rsp ? &uac : &uas;
            sm[i].msg_hdr.msg_namelen = sizeof(uas);
        }
        if ((n = sendmmsg(fd, sm, (unsigned)n, 0)) > 0)
            relayed += n;
    }
    printf("relayed %ld\n", relayed);
    return 0;
}

static int blast_usage(void)
{
    fprintf(stderr, "usage: sipblast -p PORT [-n N] [-w W] [-t S] "
                    "[-r RATE -d S] [-m invite|options|mixed] "
                    "[-s UAS_PORT] [-U URI [-u N]]\n"
                    "       sipblast -R PORT -s UAS_PORT [-t S]\n");
    return 2;
}

/* blast_drops - datagrams the kernel dropped on fd (receive buffer
 * full): the generator's own losses, not the proxy's */
static long blast_drops(int fd)
{
    uint32_t mi[SK_MEMINFO_VARS];
    socklen_t len = sizeof(mi);

    if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mi, &len) < 0)
        return -1;
    return (long)mi[SK_MEMINFO_DROPS];
}

static void blast_report(const struct blast_uac *u, double rate,
                         double dur, double secs)
{
    printf("mode %s offered %.0f sent %ld uas_recv %ld rsp_sent %ld "
           "answered %ld lost_req %ld lost %ld seconds %.2f rate %.0f "
           "req_p50 %.1f req_p99 %.1f req_p999 %.1f req_max %.1f "
           "rtt_p50 %.1f rtt_p99 %.1f rtt_p999 %.1f rtt_max %.1f "
           "new_sent %ld new_recv %ld dlg_sent %ld dlg_recv %ld "
           "gen_drops %ld uas_drops %ld send_secs %.3f other %ld\n",
           rate > 0 ? "open" : "closed", rate > 0 ? rate * dur : 0.0,
           u->sent, blast_uas_recv, blast_rsp_sent, u->answered,
           u->sent > blast_uas_recv ? u->sent - blast_uas_recv : 0,
           u->expect > u->answered ? u->expect - u->answered : 0, secs,
           (double)u->answered / secs, blast_hq(&blast_req_h, 0.50),
           blast_hq(&blast_req_h, 0.99), blast_hq(&blast_req_h, 0.999),
           (double)blast_req_h.max / 1e3, blast_hq(&blast_rtt_h, 0.50),
           blast_hq(&blast_rtt_h, 0.99), blast_hq(&blast_rtt_h, 0.999),
           (double)blast_rtt_h.max / 1e3, u->new_sent, blast_uas_new,
           u->dlg_sent, blast_uas_dlg,
           blast_drops(blast_uac_fd) + blast_drops(blast_uas_fd),
           blast_drops(blast_uas_fd), blast_send_secs, blast_other);
}

int main(int argc, char **argv)
{
    long total = 200000, window = 256;
    double secs = 20, rate = 0, dur = 10, t;
    int relay = 0, c;
    struct blast_uac u = {0};
    uint64_t t0, t1;
    pthread_t uas;

    while ((c = getopt(argc, argv, "p:n:w:t:r:d:m:s:R:U:u:")) != -1) {
        switch (c) {
        case 'p': blast_proxy_port = atoi(optarg); break;
        case 'n': total = atol(optarg); break;
        case 'w': window = atol(optarg); break;
        case 't': secs = atof(optarg); break;
        case 'r': rate = atof(optarg); break;
        case 'd': dur = atof(optarg); break;
        case 's': blast_uas_port = atoi(optarg); break;
        case 'R': relay = atoi(optarg); break;
        case 'U': blast_ruri = optarg; break;
        case 'u': blast_ruri_n = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'm':
            if (strcmp(optarg, "invite") == 0)
                blast_mode = BLAST_M_INVITE;
            else if (strcmp(optarg, "options") == 0)
                blast_mode = BLAST_M_OPTIONS;
            else if (strcmp(optarg, "mixed") == 0)
                blast_mode = BLAST_M_MIXED;
            else
                return blast_usage();
            break;
        default:
            return blast_usage();
        }
    }
    if (blast_ruri != NULL) {
        const char *u = strstr(blast_ruri, "%u");

        if (strlen(blast_ruri) > 200 || blast_ruri_n == 0)
            return blast_usage();
        if (u != NULL) {
            blast_ruri_len = (size_t)(u - blast_ruri);
            blast_ruri_post = u + 2;
        }
    }
    if (relay > 0)
        return blast_uas_port > 0 ? blast_relay(relay, secs)
                                  : blast_usage();
    if (blast_proxy_port <= 0 || total <= 0 || window <= 0 || rate < 0
        || dur <= 0 || dur > 600 || secs > 600)
        return blast_usage();
    prctl(PR_SET_TIMERSLACK, 1UL);      /* pace to the microsecond */
    if ((blast_uac_fd = blast_socket(&blast_uac_port)) < 0
        || (blast_uas_fd = blast_socket(&blast_uas_port)) < 0) {
        perror("sipblast: socket");
        return 1;
    }
    u.seq = (unsigned)getpid() << 16;
    if (blast_mode == BLAST_M_MIXED)
        u.seq -= u.seq % 3;
    pthread_create(&uas, NULL, blast_uas, NULL);
    t0 = blast_ns();
    if (rate > 0)
        blast_open(&u, rate, dur);
    else
        blast_closed(&u, total, window, secs);
    t1 = rate > 0 ? blast_ns() : blast_closed_end;
    atomic_store(&blast_stop, 1);
    pthread_join(uas, NULL);
    /* open loop: the rate is over the sending time, not the drain */
    t = rate > 0 ? (blast_send_secs > dur ? blast_send_secs : dur)
                 : (double)(t1 - t0) / 1e9;
    blast_report(&u, rate, dur, t);
    return 0;
}

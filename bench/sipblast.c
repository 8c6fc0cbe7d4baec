/*
 * SUMMARY
 *      sipblast - stateless SIP load through a proxy, for make bench
 * SYNOPSIS
 *      sipblast -p PROXY_PORT [-n TRANSACTIONS] [-w WINDOW] [-t SECONDS]
 * DESCRIPTION
 *      One process, two threads, both on 127.0.0.1:
 *
 *        UAC  sends OPTIONS sip:uas@127.0.0.1:UAS_PORT to the proxy, each
 *             with its own Call-ID and branch, keeping at most WINDOW
 *             transactions open, and counts the 200s that come back;
 *        UAS  answers every request it receives with a 200 built from it
 *             (all Via headers, From, To with a tag, Call-ID, CSeq), sent
 *             back to where the request came from: the proxy.
 *
 *      Both sides batch with recvmmsg/sendmmsg, so the generator costs
 *      far fewer syscalls per message than the proxy under test and the
 *      proxy, not the generator, is what saturates. Every transaction is
 *      two messages through the proxy (request and response). A lost
 *      message (the window is open-ended in time) is given up after the
 *      run; the report says how many were lost.
 *
 *      Bounded: stops after TRANSACTIONS answers or SECONDS, whichever
 *      comes first. Prints one line:
 *        sent N answered N lost N seconds S rate R transactions/s
 * DIAGNOSTICS
 *      Exits 1 on a socket error, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BLAST_BATCH 64
#define BLAST_MSG 1024

static int blast_proxy_port;
static int blast_uac_fd, blast_uas_fd;
static int blast_uac_port, blast_uas_port;
static atomic_int blast_stop;

static double blast_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int blast_socket(int *port)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd, buf = 8 << 20;
    struct timeval tv = {0, 100000};

    if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0
        || getsockname(fd, (struct sockaddr *)&a, &len) < 0)
        return -1;
    *port = ntohs(a.sin_port);
    return fd;
}

/* blast_reply - a 200 for request req (len n) into out; its length */
static int blast_reply(const char *req, int n, char *out)
{
    const char *p = req, *end = req + n, *nl;
    int o = snprintf(out, BLAST_MSG, "SIP/2.0 200 OK\r\n");

    /* Copy Via, From, To (tagged), Call-ID, CSeq; end the headers. */
    for (; p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL;
         p = nl + 1) {
        int len = (int)(nl - p + 1);

        if (len <= 2)
            break;
        if (strncmp(p, "Via:", 4) == 0 || strncmp(p, "From:", 5) == 0
            || strncmp(p, "Call-ID:", 8) == 0 || strncmp(p, "CSeq:", 5) == 0) {
            if (o + len >= BLAST_MSG)
                return 0;
            memcpy(out + o, p, (size_t)len);
            o += len;
        } else if (strncmp(p, "To:", 3) == 0) {
            if (o + len + 16 >= BLAST_MSG)
                return 0;
            memcpy(out + o, p, (size_t)len - 2);
            o += len - 2;
            o += sprintf(out + o, ";tag=uas\r\n");
        }
    }
    o += snprintf(out + o, (size_t)(BLAST_MSG - o),
                  "Content-Length: 0\r\n\r\n");
    return o;
}

static void *blast_uas(void *arg)
{
    static char in[BLAST_BATCH][BLAST_MSG], out[BLAST_BATCH][BLAST_MSG];
    struct mmsghdr rm[BLAST_BATCH], sm[BLAST_BATCH];
    struct iovec riov[BLAST_BATCH], siov[BLAST_BATCH];
    struct sockaddr_in from[BLAST_BATCH];
    int i, n, k;

    (void)arg;
    while (!atomic_load(&blast_stop)) {
        memset(rm, 0, sizeof(rm));
        for (i = 0; i < BLAST_BATCH; i++) {
            riov[i] = (struct iovec){in[i], BLAST_MSG};
            rm[i].msg_hdr.msg_iov = &riov[i];
            rm[i].msg_hdr.msg_iovlen = 1;
            rm[i].msg_hdr.msg_name = &from[i];
            rm[i].msg_hdr.msg_namelen = sizeof(from[i]);
        }
        n = recvmmsg(blast_uas_fd, rm, BLAST_BATCH, MSG_WAITFORONE, NULL);
        if (n <= 0)
            continue;
        memset(sm, 0, sizeof(sm));
        for (i = k = 0; i < n; i++) {
            int len = blast_reply(in[i], (int)rm[i].msg_len, out[k]);

            if (len <= 0)
                continue;
            siov[k] = (struct iovec){out[k], (size_t)len};
            sm[k].msg_hdr.msg_iov = &siov[k];
            sm[k].msg_hdr.msg_iovlen = 1;
            sm[k].msg_hdr.msg_name = &from[i];
            sm[k].msg_hdr.msg_namelen = sizeof(from[i]);
            k++;
        }
        if (k > 0)
            sendmmsg(blast_uas_fd, sm, (unsigned)k, 0);
    }
    return NULL;
}

static int blast_request(char *out, unsigned seq)
{
    return snprintf(out, BLAST_MSG,
                    "OPTIONS sip:uas@127.0.0.1:%d SIP/2.0\r\n"
                    "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-b%u\r\n"
                    "Max-Forwards: 70\r\n"
                    "From: <sip:blast@127.0.0.1:%d>;tag=%u\r\n"
                    "To: <sip:uas@127.0.0.1:%d>\r\n"
                    "Call-ID: %u-blast@127.0.0.1\r\n"
                    "CSeq: 1 OPTIONS\r\n"
                    "Content-Length: 0\r\n\r\n",
                    blast_uas_port, blast_uac_port, seq, blast_uac_port, seq,
                    blast_uas_port, seq);
}

/* blast_send - up to want requests, one sendmmsg; how many were sent */
static int blast_send(unsigned *seq, int want)
{
    static char out[BLAST_BATCH][BLAST_MSG];
    struct mmsghdr sm[BLAST_BATCH];
    struct iovec iov[BLAST_BATCH];
    struct sockaddr_in to;
    int i, n;

    if (want > BLAST_BATCH)
        want = BLAST_BATCH;
    memset(&to, 0, sizeof(to));
    to.sin_family = AF_INET;
    to.sin_port = htons((uint16_t)blast_proxy_port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    memset(sm, 0, sizeof(sm));
    for (i = 0; i < want; i++) {
        iov[i] = (struct iovec){out[i], (size_t)blast_request(out[i], ++*seq)};
        sm[i].msg_hdr.msg_iov = &iov[i];
        sm[i].msg_hdr.msg_iovlen = 1;
        sm[i].msg_hdr.msg_name = &to;
        sm[i].msg_hdr.msg_namelen = sizeof(to);
    }
    n = sendmmsg(blast_uac_fd, sm, (unsigned)want, 0);
    return n < 0 ? 0 : n;
}

/* blast_recv - count answers waiting (up to a batch) */
static int blast_recv(void)
{
    static char in[BLAST_BATCH][BLAST_MSG];
    struct mmsghdr rm[BLAST_BATCH];
    struct iovec iov[BLAST_BATCH];
    int i, n, ok = 0;

    memset(rm, 0, sizeof(rm));
    for (i = 0; i < BLAST_BATCH; i++) {
        iov[i] = (struct iovec){in[i], BLAST_MSG};
        rm[i].msg_hdr.msg_iov = &iov[i];
        rm[i].msg_hdr.msg_iovlen = 1;
    }
    n = recvmmsg(blast_uac_fd, rm, BLAST_BATCH, MSG_WAITFORONE, NULL);
    for (i = 0; i < n; i++)
        ok += rm[i].msg_len > 12 && memcmp(in[i], "SIP/2.0 200 ", 12) == 0;
    return ok;
}

int main(int argc, char **argv)
{
    long total = 200000, window = 256, answered = 0, sent = 0, lost = 0;
    double secs = 20, t0, t1;
    unsigned seq = (unsigned)getpid() << 16;
    pthread_t uas;
    int c;

    while ((c = getopt(argc, argv, "p:n:w:t:")) != -1) {
        switch (c) {
        case 'p': blast_proxy_port = atoi(optarg); break;
        case 'n': total = atol(optarg); break;
        case 'w': window = atol(optarg); break;
        case 't': secs = atof(optarg); break;
        default:
            fprintf(stderr, "usage: sipblast -p PORT [-n N] [-w W] [-t S]\n");
            return 2;
        }
    }
    if (blast_proxy_port <= 0 || total <= 0 || window <= 0) {
        fprintf(stderr, "usage: sipblast -p PORT [-n N] [-w W] [-t S]\n");
        return 2;
    }
    if ((blast_uac_fd = blast_socket(&blast_uac_port)) < 0
        || (blast_uas_fd = blast_socket(&blast_uas_port)) < 0) {
        perror("sipblast: socket");
        return 1;
    }
    pthread_create(&uas, NULL, blast_uas, NULL);
    t0 = blast_now();
    while (answered < total && blast_now() - t0 < secs) {
        long open = sent - answered - lost;
        int got;

        if (open < window && sent < total)
            sent += blast_send(&seq, (int)(window - open < total - sent
                                               ? window - open
                                               : total - sent));
        got = blast_recv();             /* waits up to 100 ms for one */
        answered += got;
        if (got > 0)
            continue;
        /* 100 ms of silence: what is still open is lost; reopen the
         * window, or stop when everything was sent. */
        lost = sent - answered;
        if (sent >= total)
            break;
    }
    t1 = blast_now();
    atomic_store(&blast_stop, 1);
    pthread_join(uas, NULL);
    printf("sent %ld answered %ld lost %ld seconds %.2f rate %.0f "
           "transactions/s\n", sent, answered,
           sent > answered ? sent - answered : 0, t1 - t0,
           (double)answered / (t1 - t0));
    return 0;
}

/*
 * The events benchmark's stream reader (bench/events_bench.py builds and drives it).
 *
 * Why C: the reader stands for 500 dashboards that would run on other machines, but here it
 * shares the 2 CPUs with the server it measures. The Python reader it replaces spent 66 % of
 * a core on 4.7 GB of Server-Sent Events and so took that CPU from the server; this one
 * does the same work (reads every byte, undoes the chunked coding, finds every frame) for
 * a fraction of that, so the phase measures the server rather than its client.
 *
 *   sse_reader PORT STREAMS STALLED STALLED_RCVBUF ARRIVALS_FILE
 *
 * Opens STREAMS `GET /v1/events` streams on 127.0.0.1:PORT (read continuously, epoll) and
 * STALLED more with a small SO_RCVBUF that are not read until the end. Protocol on
 * stdin/stdout with the Python harness:
 *   -> "ready OPEN BAD RCVBUF..."      once every read stream has its `hello` (or 60 s)
 *   <- any line or EOF on stdin         stop: read what is still on its way (until every
 *                                       stream was quiet for 1 s, at most 30 s), then the
 *                                       stalled streams (at most 10 s)
 *   -> "stream INDEX STATUS BYTES EVENTS CREATED RESETS HELLO ENDED_AT REASON" per stream
 *      (INDEX < 0: a stalled one; ENDED_AT -1: still open; REASON the rest of the line)
 *   -> "cpu CPU_S WALL_S DRAIN_S"       the reader's own CPU between ready and the drain's end
 * ARRIVALS_FILE gets one 40-byte record per `run.created` read on a read stream: the run id
 * (32 bytes, NUL-padded) and the CLOCK_MONOTONIC time (a double, seconds) just after the
 * recv() that completed its frame: the same clock as Python's time.monotonic().
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_BUFFER (256 * 1024)
#define STDIN_KEY 0xffffffffu
static const char CREATED[] = "event: run.created\ndata: ";
static const char ID_KEY[] = "\"id\":\"";

struct stream {
    int fd, index, measured;
    char head[8192];
    size_t head_len;
    int headers_done, status, chunked;
    /* chunked decoding: 0 size line, 1 data, 2 the CRLF after data */
    int chunk_state;
    size_t remaining;
    char size_line[64];
    size_t size_len;
    char *text; /* decoded body not yet cut into frames */
    size_t text_len, text_cap;
    long long bytes, events, created, resets;
    int hello;
    double ended_at;
    char ended[96];
};

static struct stream *streams;
static int n_read, n_stalled, epfd;
static char *arrivals;
static size_t arrivals_len, arrivals_cap;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *what) {
    fprintf(stderr, "sse_reader: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void end_stream(struct stream *s, const char *reason, double t) {
    if (s->ended[0]) return;
    snprintf(s->ended, sizeof s->ended, "%s", reason);
    s->ended_at = t;
}

static void grow(char **buffer, size_t *cap, size_t need) {
    if (need <= *cap) return;
    size_t cap2 = *cap ? *cap : 65536;
    while (cap2 < need) cap2 *= 2;
    *buffer = realloc(*buffer, cap2);
    if (!*buffer) die("realloc");
    *cap = cap2;
}

static size_t count(const char *text, size_t len, const char *needle) {
    size_t n = 0, k = strlen(needle);
    const char *p = text, *end = text + len;
    while ((p = memmem(p, end - p, needle, k))) {
        n++;
        p += k;
    }
    return n;
}

/* Frames complete in s->text (up to its last blank line): counted, run.created recorded. */
static void frames(struct stream *s, double t) {
    if (s->text_len < 2) return;
    size_t cut = 0;
    for (size_t i = s->text_len - 1; i >= 1; i--) {
        if (s->text[i] == '\n' && s->text[i - 1] == '\n') {
            cut = i + 1;
            break;
        }
    }
    if (!cut) return;
    const char *text = s->text, *end = text + cut;
    s->events += count(text, cut, "event: ");
    if (!s->hello && memmem(text, cut, "event: hello", 12)) s->hello = 1;
    s->resets += count(text, cut, "event: reset");
    const char *p = text;
    while ((p = memmem(p, end - p, CREATED, sizeof CREATED - 1))) {
        p += sizeof CREATED - 1;
        /* The run id: the first "id":" of the data line (a run summary; no key before
         * `id` holds an object with an id). */
        const char *id = memmem(p, end - p, ID_KEY, sizeof ID_KEY - 1);
        if (!id) break;
        id += sizeof ID_KEY - 1;
        const char *q = memchr(id, '"', end - id);
        if (!q) break;
        s->created++;
        if (s->measured) {
            grow(&arrivals, &arrivals_cap, arrivals_len + 40);
            char *record = arrivals + arrivals_len;
            memset(record, 0, 32);
            memcpy(record, id, q - id < 32 ? (size_t)(q - id) : 32);
            memcpy(record + 32, &t, 8);
            arrivals_len += 40;
        }
        p = q;
    }
    memmove(s->text, s->text + cut, s->text_len - cut);
    s->text_len -= cut;
}

static void body(struct stream *s, const char *data, size_t n) {
    grow(&s->text, &s->text_cap, s->text_len + n);
    memcpy(s->text + s->text_len, data, n);
    s->text_len += n;
}

static void dechunk(struct stream *s, const char *data, size_t n, double t) {
    size_t i = 0;
    while (i < n && !s->ended[0]) {
        if (s->chunk_state == 1) {
            size_t take = n - i < s->remaining ? n - i : s->remaining;
            body(s, data + i, take);
            i += take;
            s->remaining -= take;
            if (!s->remaining) s->chunk_state = 2;
        } else if (s->chunk_state == 2) {
            if (data[i++] == '\n') s->chunk_state = 0;
        } else {
            char c = data[i++];
            if (c != '\n') {
                if (s->size_len < sizeof s->size_line - 1) s->size_line[s->size_len++] = c;
                continue;
            }
            s->size_line[s->size_len] = 0;
            s->size_len = 0;
            size_t size = strtoul(s->size_line, NULL, 16);
            if (!size) {
                end_stream(s, "ended by the server", t);
                return;
            }
            s->remaining = size;
            s->chunk_state = 1;
        }
    }
}

static void feed(struct stream *s, const char *data, size_t n, double t) {
    s->bytes += n;
    if (!s->headers_done) {
        size_t take = n < sizeof s->head - 1 - s->head_len ? n : sizeof s->head - 1 - s->head_len;
        memcpy(s->head + s->head_len, data, take);
        s->head_len += take;
        s->head[s->head_len] = 0;
        char *blank = strstr(s->head, "\r\n\r\n");
        if (!blank) return;
        s->headers_done = 1;
        s->status = atoi(s->head + 9); /* "HTTP/1.1 200 ..." */
        *blank = 0;
        for (char *c = s->head; *c; c++)
            if (*c >= 'A' && *c <= 'Z') *c += 32;
        s->chunked = strstr(s->head, "transfer-encoding: chunked") != NULL;
        size_t used = (blank + 4 - s->head) - (s->head_len - take);
        data += used;
        n -= used;
        if (s->status != 200) {
            char reason[32];
            snprintf(reason, sizeof reason, "HTTP %d", s->status);
            end_stream(s, reason, t);
            return;
        }
    }
    if (s->chunked) {
        dechunk(s, data, n, t);
    } else {
        body(s, data, n);
    }
    frames(s, t);
}

/* One epoll_wait: reads once from each ready stream; returns the bytes read (-1: stdin
 * spoke). */
static long long read_ready(int timeout_ms, char *buffer) {
    struct epoll_event ready[256];
    int count = epoll_wait(epfd, ready, 256, timeout_ms);
    long long total = 0;
    int stop = 0;
    for (int k = 0; k < count; k++) {
        if (ready[k].data.u32 == STDIN_KEY) {
            char line[64];
            (void)!read(0, line, sizeof line);
            epoll_ctl(epfd, EPOLL_CTL_DEL, 0, NULL);
            stop = 1;
            continue;
        }
        struct stream *s = &streams[ready[k].data.u32];
        ssize_t got = recv(s->fd, buffer, READ_BUFFER, 0);
        double t = now();
        if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (got <= 0) {
            char reason[96];
            if (got < 0) snprintf(reason, sizeof reason, "error %s", strerror(errno));
            end_stream(s, got < 0 ? reason : "closed by the server (EOF)", t);
            epoll_ctl(epfd, EPOLL_CTL_DEL, s->fd, NULL);
            continue;
        }
        total += got;
        feed(s, buffer, got, t);
        if (s->ended[0]) epoll_ctl(epfd, EPOLL_CTL_DEL, s->fd, NULL);
    }
    return stop ? -1 : total;
}

static int open_stream(int port, const char *request, int rcvbuf) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0) die("connect");
    size_t length = strlen(request);
    if (send(fd, request, length, 0) != (ssize_t)length) die("send");
    return fd;
}

static void watch(int fd, uint32_t key) {
    struct epoll_event event = {.events = EPOLLIN, .data.u32 = key};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event) < 0) die("epoll_ctl");
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: sse_reader PORT STREAMS STALLED STALLED_RCVBUF ARRIVALS_FILE\n");
        return 2;
    }
    int port = atoi(argv[1]), rcvbuf = atoi(argv[4]);
    n_read = atoi(argv[2]);
    n_stalled = atoi(argv[3]);
    struct rlimit limit = {n_read + n_stalled + 64, n_read + n_stalled + 64};
    struct rlimit current;
    getrlimit(RLIMIT_NOFILE, &current);
    if (current.rlim_cur < limit.rlim_cur) setrlimit(RLIMIT_NOFILE, &limit);
    char request[256];
    snprintf(request, sizeof request,
             "GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: text/event-stream\r\n"
             "Cache-Control: no-cache\r\n\r\n",
             port);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) die("epoll_create1");
    streams = calloc(n_read + n_stalled, sizeof *streams);
    char *buffer = malloc(READ_BUFFER);
    /* streams[0 .. n_read): read; then the stalled ones (index -1, -2, ...). */
    for (int i = 0; i < n_stalled; i++) {
        struct stream *s = &streams[n_read + i];
        s->index = -1 - i;
        s->fd = open_stream(port, request, rcvbuf);
        s->ended_at = -1;
    }
    for (int i = 0; i < n_read; i++) {
        struct stream *s = &streams[i];
        s->index = i;
        s->measured = 1;
        s->ended_at = -1;
        s->fd = open_stream(port, request, 0);
        fcntl(s->fd, F_SETFL, O_NONBLOCK);
        watch(s->fd, i);
    }
    double deadline = now() + 60;
    for (;;) {
        int waiting = 0;
        for (int i = 0; i < n_read; i++) waiting += !streams[i].hello && !streams[i].ended[0];
        if (!waiting || now() > deadline) break;
        read_ready(500, buffer);
    }
    int open = 0, bad = 0;
    for (int i = 0; i < n_read; i++) {
        open += streams[i].hello && !streams[i].ended[0];
        bad += !streams[i].hello;
    }
    printf("ready %d %d", open, bad);
    for (int i = 0; i < n_stalled; i++) {
        int size = 0;
        socklen_t length = sizeof size;
        getsockopt(streams[n_read + i].fd, SOL_SOCKET, SO_RCVBUF, &size, &length);
        printf(" %d", size);
    }
    printf("\n");
    fflush(stdout);

    watch(0, STDIN_KEY);
    double cpu0 = cpu_seconds(), w0 = now();
    while (read_ready(1000, buffer) >= 0) {
    }
    /* Read until every stream has been quiet for 1 s (at most 30 s): what is on its way. */
    double t_stop = now();
    while (now() - t_stop < 30 && read_ready(1000, buffer) > 0) {
    }
    double cpu1 = cpu_seconds(), w1 = now();

    /* The stalled streams: what they got, until the server ends them or they are quiet
     * for 1 s (at most 10 s). */
    for (int i = 0; i < n_stalled; i++) {
        struct stream *s = &streams[n_read + i];
        fcntl(s->fd, F_SETFL, O_NONBLOCK);
        watch(s->fd, n_read + i);
    }
    double t_stalled = now();
    while (n_stalled && now() - t_stalled < 10) {
        int open_stalled = 0;
        for (int i = 0; i < n_stalled; i++) open_stalled += !streams[n_read + i].ended[0];
        if (!open_stalled || read_ready(1000, buffer) == 0) break;
    }

    FILE *out = fopen(argv[5], "wb");
    if (!out || fwrite(arrivals, 1, arrivals_len, out) != arrivals_len || fclose(out) != 0) die(argv[5]);
    for (int i = 0; i < n_read + n_stalled; i++) {
        struct stream *s = &streams[i];
        printf("stream %d %d %lld %lld %lld %lld %d %.6f %s\n", s->index, s->status, s->bytes, s->events,
               s->created, s->resets, s->hello, s->ended[0] ? s->ended_at : -1.0, s->ended);
    }
    printf("cpu %.6f %.6f %.6f\n", cpu1 - cpu0, w1 - w0, w1 - t_stop);
    fflush(stdout);
    return 0;
}

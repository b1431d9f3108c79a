#ifndef BATON_CMICROHTTPD_SHIM_H
#define BATON_CMICROHTTPD_SHIM_H
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <linux/sockios.h>
#include <microhttpd.h>

/*
 * Why this shim exists: libmicrohttpd's `MHD_start_daemon` and `MHD_get_daemon_info` are C
 * variadic functions, which Swift cannot call. The `baton_` functions below give them a
 * fixed arity with typed parameters, so every option the server uses is spelled out here
 * once and type-checked on both sides.
 */

/*
 * Leaves the URL path and query arguments percent-encoded.
 *
 * libmicrohttpd's default unescaper decodes "%HH" in the path before the access handler
 * sees it, so "/tasks/a%2Fb/log" would arrive as "/tasks/a/b/log" and the segment boundary
 * would be lost. Baton decodes per segment in Swift instead. The contract
 * (MHD_OPTION_UNESCAPE_CALLBACK): "the return value must be the length of the value left in
 * s (without the 0-terminator)". Note that libmicrohttpd still turns '+' into ' ' in query
 * arguments before calling this (MHD_unescape_plus), which is the form-encoding rule anyway.
 */
static inline size_t baton_mhd_unescape_identity(void *cls, struct MHD_Connection *connection,
                                                 char *s) {
    (void)cls;
    (void)connection;
    return strlen(s);
}

/*
 * Starts a daemon bound to `bind_address` (a `struct sockaddr_in`, or `sockaddr_in6` when
 * `flags` contains MHD_USE_IPv6) with the options Baton uses.
 *
 * `thread_pool_size` below 2 means "no pool" (libmicrohttpd warns about 0 and 1, so the
 * option is then left out). `logger` is registered first, as MHD_OPTION_EXTERNAL_LOGGER asks
 * ("should be specified as the first option"). Returns NULL on failure; the reason went to
 * `logger`.
 */
static inline struct MHD_Daemon *baton_mhd_start_daemon(
    unsigned int flags,
    const struct sockaddr *bind_address,
    unsigned int thread_pool_size,
    unsigned int connection_limit,
    unsigned int connection_timeout_seconds,
    unsigned int listen_backlog,
    unsigned int per_ip_connection_limit,
    MHD_AccessHandlerCallback access_handler, void *access_handler_cls,
    MHD_RequestCompletedCallback completed, void *completed_cls,
    MHD_NotifyConnectionCallback notify_connection, void *notify_connection_cls,
    MHD_LogCallback logger, void *logger_cls) {
    struct MHD_OptionItem options[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)logger, logger_cls},
        {MHD_OPTION_SOCK_ADDR, 0, (void *)bind_address},
        {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)connection_limit, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)connection_timeout_seconds, NULL},
        {MHD_OPTION_LISTEN_BACKLOG_SIZE, (intptr_t)listen_backlog, NULL},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, (intptr_t)per_ip_connection_limit, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)completed, completed_cls},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)notify_connection, notify_connection_cls},
        {MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)&baton_mhd_unescape_identity, NULL},
        {thread_pool_size > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
         (intptr_t)thread_pool_size, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    return MHD_start_daemon(flags, 0, NULL, NULL, access_handler, access_handler_cls,
                            MHD_OPTION_ARRAY, options, MHD_OPTION_END);
}

/*
 * The port the daemon's listen socket is bound to (host byte order), or 0 when unknown.
 * Wraps the variadic MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT).
 */
static inline uint16_t baton_mhd_bind_port(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info == NULL ? 0 : info->port;
}

/*
 * The number of open connections (all worker threads), or 0 when unknown. Wraps the
 * variadic MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS).
 */
static inline unsigned int baton_mhd_connection_count(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return info == NULL ? 0 : info->num_connections;
}

/*
 * A response whose body comes from `reader` as it becomes available, of unknown length
 * (chunked). libmicrohttpd's end markers are casts in macros, which Swift does not import:
 * the reader returns baton_mhd_stream_end() or baton_mhd_stream_error() instead.
 */
static inline struct MHD_Response *baton_mhd_create_stream_response(
    size_t block_size, MHD_ContentReaderCallback reader, void *reader_cls,
    MHD_ContentReaderFreeCallback free_reader) {
    return MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, block_size, reader, reader_cls,
                                             free_reader);
}

/*
 * The socket of a connection, or -1. Wraps the variadic MHD_get_connection_info. Used to
 * notice a client that hung up while its stream was suspended (libmicrohttpd does not
 * watch suspended connections).
 */
static inline int baton_mhd_connection_fd(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    return info == NULL ? -1 : info->connect_fd;
}

/*
 * Writes `count` bytes to `fd` as ONE HTTP/1.1 chunk ("<hex size>\r\n", the bytes, "\r\n"),
 * in one sendmsg that never blocks, for a suspended stream whose connection libmicrohttpd is
 * not touching (see ConnectionWaker.sendChunk).
 *
 * A chunk must go out whole or not at all: half a chunk would leave the stream's framing to
 * whoever writes next. So nothing is written unless the socket's queue (SIOCOUTQ: bytes
 * not yet acknowledged) plus the chunk stays within `room`, which the caller keeps well
 * under the socket's send buffer (baton_fix_send_buffer).
 *
 * Returns 1 when the chunk was written whole; 0 when nothing was written (no room, or the
 * socket would block): try later or let libmicrohttpd write; -1 when the write failed or
 * was partial: the socket is then shut down, and the connection must be ended.
 */
static inline int baton_send_chunk(int fd, const void *bytes, size_t count, size_t room) {
    int queued = 0;
    if (ioctl(fd, SIOCOUTQ, &queued) != 0 || queued < 0) return 0;
    if ((size_t)queued + count > room) return 0;
    char head[24];
    int head_length = snprintf(head, sizeof head, "%zx\r\n", count);
    static const char tail[] = "\r\n";
    struct iovec pieces[3] = {
        {head, (size_t)head_length}, {(void *)bytes, count}, {(void *)tail, 2}};
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_iov = pieces;
    message.msg_iovlen = 3;
    ssize_t total = head_length + (ssize_t)count + 2;
    ssize_t sent;
    do {
        sent = sendmsg(fd, &message, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    if (sent == total) return 1;
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    shutdown(fd, SHUT_RDWR);
    return -1;
}

/*
 * Asks for a fixed send buffer of `bytes` on `fd` and returns the one the kernel granted
 * (it caps the request at net.core.wmem_max, 212,992 bytes on a stock kernel, and doubles
 * it for its bookkeeping), or -1. A fixed buffer, because an autotuned one starts at
 * 16 KiB and grows only as the peer acknowledges: baton_send_chunk's `room` is taken as a
 * fraction of the granted size, so that the kernel, which charges each packet's overhead
 * too, takes a whole chunk whenever the room is there.
 */
static inline int baton_fix_send_buffer(int fd, int bytes) {
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes) != 0) return -1;
    int granted = 0;
    socklen_t length = sizeof granted;
    if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &granted, &length) != 0) return -1;
    return granted;
}

static inline ssize_t baton_mhd_stream_end(void) { return MHD_CONTENT_READER_END_OF_STREAM; }
static inline ssize_t baton_mhd_stream_error(void) { return MHD_CONTENT_READER_END_WITH_ERROR; }

#endif

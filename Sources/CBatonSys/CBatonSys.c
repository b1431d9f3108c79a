#define _GNU_SOURCE
#include "CBatonSys.h"
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <string.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

int baton_pidfd_open(pid_t pid) {
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

int baton_pipe_cloexec(int fds[2]) {
    if (pipe2(fds, O_CLOEXEC) != 0) return -1;
    // A fresh pipe's read end has no status flag but its access mode, which F_SETFL
    // ignores: no F_GETFL needed.
    if (fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0) {
        int saved = errno;
        close(fds[0]);
        close(fds[1]);
        errno = saved;
        return -1;
    }
    return 0;
}

int baton_eventfd(void) {
    return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

int baton_peek_exited(pid_t pid) {
    siginfo_t info;
    // waitid(2): "zero out the si_pid field before the call and check for a nonzero value
    // in this field after the call returns" to tell "no child in a waitable state" apart.
    memset(&info, 0, sizeof info);
    int rc;
    do {
        rc = waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) return -1;
    return info.si_pid == pid ? 1 : 0;
}

int baton_set_dumpable(int dumpable) {
    return prctl(PR_SET_DUMPABLE, (unsigned long)dumpable, 0, 0, 0);
}

int baton_set_child_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0, 0, 0);
}

int baton_limit_malloc_arenas(int arenas) {
    return mallopt(M_ARENA_MAX, arenas);
}

int baton_set_thread_nice(int nice) {
    return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice);
}

extern char **environ;

void baton_scrub_environment(const char *name) {
    size_t length = strlen(name);
    for (char **entry = environ; entry != NULL && *entry != NULL; entry++) {
        if (strncmp(*entry, name, length) == 0 && (*entry)[length] == '=') {
            // Overwrite the bytes where they live (for the initial environment: the block
            // /proc/PID/environ shows), then drop the variable.
            char *value = *entry + length + 1;
            memset(value, 'x', strlen(value));
        }
    }
    unsetenv(name);
}

int baton_input_pipe(int fds[2], const void *data, size_t length) {
    if (pipe2(fds, O_CLOEXEC) != 0) return errno;
    int result = 0;
    // The whole input must fit in the pipe: it is written now, once, and the write end is
    // then only held open (its closing is the child's end-of-input). 64 KiB by default;
    // grown up to the system's pipe-max-size (1 MiB by default) when needed.
    if (length > 65536 && fcntl(fds[1], F_SETPIPE_SZ, (int)length) < 0) {
        result = EMSGSIZE;
    } else if (fcntl(fds[1], F_SETFL, O_NONBLOCK) != 0) {
        result = errno;
    } else {
        const char *bytes = data;
        size_t done = 0;
        while (done < length) {
            ssize_t written = write(fds[1], bytes + done, length - done);
            if (written < 0) {
                if (errno == EINTR) continue;
                result = errno == EAGAIN ? EMSGSIZE : errno;
                break;
            }
            done += (size_t)written;
        }
    }
    if (result != 0) {
        close(fds[0]);
        close(fds[1]);
    }
    return result;
}

int baton_epoll_create(void) {
    return epoll_create1(EPOLL_CLOEXEC);
}

int baton_epoll_add(int epfd, int fd, uint64_t key) {
    struct epoll_event event = {.events = EPOLLIN, .data = {.u64 = key}};
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
}

int baton_epoll_wait(int epfd, uint64_t *keys, int capacity, int timeout_ms) {
    // struct epoll_event is packed on x86-64, which Swift does not import as such: the
    // events stay on this side and only their keys cross.
    struct epoll_event events[256];
    if (capacity > 256) capacity = 256;
    int ready = epoll_wait(epfd, events, capacity, timeout_ms);
    for (int i = 0; i < ready; i++) keys[i] = events[i].data.u64;
    return ready;
}

#ifndef BATON_CBATONSYS_H
#define BATON_CBATONSYS_H
#include <stdint.h>
#include <sys/types.h>

/// pidfd_open(2) through syscall(2): Swift cannot call the variadic `syscall`, and glibc
/// 2.36 declares no wrapper. Returns a file descriptor that polls readable when `pid`
/// exits, or -1 with errno set (e.g. ENOSYS on kernels older than 5.3).
int baton_pidfd_open(pid_t pid);

// The wrappers below exist because Swift's Glibc module is imported without _GNU_SOURCE,
// so these GNU/Linux declarations are invisible to Swift. This file is compiled with
// _GNU_SOURCE and forwards to them unchanged.

/// pipe2(2) with O_CLOEXEC on both ends (atomically: no fork in another thread can leak
/// them into a child), then O_NONBLOCK on the read end only. The write end stays blocking:
/// it becomes a child's stdout/stderr, and a child must never see EAGAIN on a full pipe.
/// `fds[0]` is the read end, `fds[1]` the write end. Returns 0, or -1 with errno set.
int baton_pipe_cloexec(int fds[2]);

/// A pipe (both ends O_CLOEXEC) whose write end already holds all of `data` (the pipe is
/// grown to fit): a child reads it on its stdin, then blocks until the write end is
/// closed. Returns 0, or an error number (EMSGSIZE: more than the pipe can hold), having
/// closed both ends.
int baton_input_pipe(int fds[2], const void *data, size_t length);

/// epoll_create1(EPOLL_CLOEXEC).
int baton_epoll_create(void);

/// Watches `fd` for input (level-triggered); `key` comes back from baton_epoll_wait.
/// Returns 0, or -1 with errno set.
int baton_epoll_add(int epfd, int fd, uint64_t key);

/// epoll_wait(2) for at most `capacity` (≤ 256) events, storing the key of each ready
/// descriptor in `keys`. Returns the count, 0 on timeout, or -1 with errno set.
int baton_epoll_wait(int epfd, uint64_t *keys, int capacity, int timeout_ms);

/// eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) (<sys/eventfd.h> is not in Swift's Glibc module).
/// Returns the descriptor, or -1 with errno set.
int baton_eventfd(void);

/// Starts `path` as a new process leading its own process group: stdin from `stdin_fd`,
/// stdout and stderr on `output_fd`, no other descriptor, every signal at its default and
/// none blocked, at the nice value of the server's main thread (not the calling thread's),
/// in `directory` (NULL: the server's), and killed (SIGKILL) when the calling
/// thread ends (PR_SET_PDEATHSIG; its process dying included). Returns 0 with the pid in `pid_out`, or the error number of what
/// failed (the exec's ENOENT, EACCES, ENOEXEC, ETXTBSY; the chdir's), the failed child
/// already reaped. With `pidfd_out` non-NULL, a pidfd of the child comes with it when the
/// kernel hands one out at the clone (clone3 CLONE_PIDFD), else -1 there.
int baton_spawn(pid_t *pid_out, int *pidfd_out, const char *path, char *const argv[], char *const envp[],
                int stdin_fd, int output_fd, const char *directory);

/// Whether `baton_spawn` clones with clone3 (1) or vfork (0): `use` 1 or 0 sets it (tests
/// take the fallback path with 0), -1 only asks. Always 0 where clone3 is not built in.
int baton_spawn_uses_clone3(int use);

/// Whether a clone3 child shares the descriptor table until it unshares the few it needs
/// (1), or gets a copy of the whole table (0): `use` 1 or 0 sets it (tests), -1 only asks.
/// Turns 0 by itself where close_range cannot unshare (kernels before 5.9).
int baton_spawn_shares_files(int use);

/// Whether child `pid` has exited, WITHOUT reaping it: waitid(P_PID, pid, WEXITED |
/// WNOHANG | WNOWAIT). An exited child stays a zombie, so its pid (and process group id)
/// cannot be reused until the caller reaps it with waitpid(2).
/// Returns 1 when it has exited, 0 when it is still running, -1 with errno set (ECHILD:
/// not our child, or already reaped by someone else).
int baton_peek_exited(pid_t pid);

/// prctl(PR_SET_DUMPABLE): 0 keeps processes of the same user (the tasks) out of this
/// process's /proc/PID/environ, mem and fd. Returns 0, or -1 with errno set.
int baton_set_dumpable(int dumpable);

/// prctl(PR_SET_CHILD_SUBREAPER, 1): orphaned descendants (a task's `setsid` daemon)
/// are re-parented to this process instead of init, so they can be found and stopped.
int baton_set_child_subreaper(void);

/// setpriority(2) of the calling THREAD (not the process: Linux gives each thread its own
/// nice value). Returns 0, or -1 with errno set (EACCES: raising it needs CAP_SYS_NICE).
int baton_set_thread_nice(int nice);

/// mallopt(M_ARENA_MAX, `arenas`): how many malloc arenas glibc may make (by default up to
/// 8 per CPU, one per thread that allocates while another holds the lock). Call before
/// other threads start. Returns 1 on success, 0 if refused.
int baton_limit_malloc_arenas(int arenas);

/// Overwrites the value of environment variable `name` in place (so the bytes are gone
/// from /proc/self/environ too) and unsets it.
void baton_scrub_environment(const char *name);

#endif

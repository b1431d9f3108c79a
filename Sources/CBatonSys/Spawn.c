#define _GNU_SOURCE
#include "CBatonSys.h"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

// Between vfork and exec the child shares the server's memory and runs on the spawning
// thread's stack: it makes system calls only, and reports a failure through
// `child_error` (the parent reads it once the child has exec'd or exited). This is what
// glibc's posix_spawn does (clone with CLONE_VM | CLONE_VFORK); Baton does it itself only
// to add PR_SET_PDEATHSIG, which posix_spawn has no attribute for.

static void close_from_three(void) {
    if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0) return;
    // Kernels before 5.9: close one by one, up to the descriptor limit (bounded: past
    // 65536, a descriptor the server opened without O_CLOEXEC could reach the task).
    struct rlimit limit;
    long highest = 65536;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY && (long)limit.rlim_cur < highest)
        highest = (long)limit.rlim_cur;
    for (long fd = 3; fd < highest; fd++) close((int)fd);
}

int baton_spawn(pid_t *pid_out, const char *path, char *const argv[], char *const envp[], int stdin_fd,
                int output_fd, const char *directory) {
    volatile int child_error = 0;
    sigset_t all, previous;
    sigfillset(&all);
    // No signal handler may run in the child while it shares the parent's memory.
    pthread_sigmask(SIG_BLOCK, &all, &previous);
    pid_t parent = getpid();
    // The server's own nice value (its main thread's, whose tid is the pid): the spawning
    // thread may run raised (the executor's, see Executor.start) and a child inherits it.
    errno = 0;
    int server_nice = getpriority(PRIO_PROCESS, (id_t)parent);
    int restore_nice = !(server_nice == -1 && errno != 0);
    pid_t pid = vfork();
    if (pid == 0) {
        // Ignored signals stay ignored across execve and the server ignores SIGPIPE (a
        // task's `yes | head` would spin on EPIPE): default every catchable signal.
        struct sigaction standard = {0};
        standard.sa_handler = SIG_DFL;
        for (int number = 1; number < NSIG; number++) {
            if (number != SIGKILL && number != SIGSTOP) sigaction(number, &standard, NULL);
        }
        // Back to the server's priority (lowering one's own priority needs no privilege).
        if (restore_nice && setpriority(PRIO_PROCESS, 0, server_nice) != 0) goto failed;
        // Its own process group (pgid = pid), so the whole task can be signalled.
        if (setpgid(0, 0) != 0) goto failed;
        // Dies with the server (kill -9 included): a task's leader must not outlive the
        // node that runs it, or a take-over would run it twice at once. Only the leader:
        // its children live on until a restart (or a take-over on this machine) kills
        // them by their marks; and exec of a set-user-ID or file-capability program
        // clears the death signal. The "parent" is the calling THREAD: the executor's, or
        // the main thread for runs resumed at start-up; both outlive their children.
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) goto failed;
        if (getppid() != parent) _exit(127);  // the server died already
        if (dup2(stdin_fd, 0) < 0 || dup2(output_fd, 1) < 0 || dup2(output_fd, 2) < 0) goto failed;
        // Belt and braces over O_CLOEXEC: a descriptor opened without it anywhere in the
        // server (by a library, or raced with by another thread) still stops here.
        close_from_three();
        if (directory != NULL && chdir(directory) != 0) goto failed;
        // The spawning thread may block signals; the mask is inherited by exec.
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execve(path, argv, envp);
    failed:
        child_error = errno != 0 ? errno : EINVAL;
        _exit(127);
    }
    int saved = errno;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    if (pid < 0) return saved;
    if (child_error != 0) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        return child_error;
    }
    *pid_out = pid;
    return 0;
}

#define _GNU_SOURCE
#include "CBatonSys.h"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <linux/sched.h>
#endif

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif
#include <fcntl.h>

// Between vfork and exec the child shares the server's memory and runs on the spawning
// thread's stack: it makes system calls only, and reports a failure through
// `child_error` (the parent reads it once the child has exec'd or exited). This is what
// glibc's posix_spawn does (clone with CLONE_VM | CLONE_VFORK); Baton does it itself only
// to add PR_SET_PDEATHSIG, which posix_spawn has no attribute for.

static void close_from_three(void) {
    // INT_MAX, not ~0U, as the last descriptor: the same on Linux, and gVisor refuses more.
    if (syscall(SYS_close_range, 3U, 0x7fffffffU, 0U) == 0) return;
    // Kernels before 5.9: close one by one, up to the descriptor limit (bounded: past
    // 65536, a descriptor the server opened without O_CLOEXEC could reach the task).
    struct rlimit limit;
    long highest = 65536;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY && (long)limit.rlim_cur < highest)
        highest = (long)limit.rlim_cur;
    for (long fd = 3; fd < highest; fd++) close((int)fd);
}

#if defined(__x86_64__) && defined(CLONE_CLEAR_SIGHAND) && defined(CLONE_PIDFD)
#define BATON_HAVE_CLONE3 1

// clone3(2) with CLONE_VM | CLONE_VFORK and no stack of its own: the child runs on the
// caller's stack until it execs, as with vfork(2). Like glibc's vfork, the return address
// is kept in a register across the system call: the child's next calls overwrite the
// stack slot it came from, and the parent, resumed after the exec, returns through %rdx
// (clone3 takes two arguments; the kernel preserves every register but %rax, %rcx, %r11).
// returns_twice: the compiler must treat it like vfork/setjmp (the child returns into the
// same frame, and the parent later returns into what the child left of it).
__attribute__((returns_twice)) long baton_clone3_vfork(struct clone_args *args, size_t size);
__asm__(".text\n"
        ".globl baton_clone3_vfork\n"
        ".type baton_clone3_vfork,@function\n"
        "baton_clone3_vfork:\n"
        "    popq %rdx\n"
        "    movl $435, %eax\n"
        "    syscall\n"
        "    pushq %rdx\n"
        "    ret\n"
        ".size baton_clone3_vfork,.-baton_clone3_vfork\n");

// 1 while clone3 with CLONE_CLEAR_SIGHAND works; 0 once it failed with ENOSYS (kernels
// before 5.3, seccomp profiles such as Docker's default one) or EINVAL (before 5.5).
static int clone3_usable = 1;

// The signals the child defaults itself. CLONE_CLEAR_SIGHAND defaults every signal with a
// handler, but an ignored signal stays ignored across exec: the server ignores SIGPIPE (a
// task's `yes | head` would spin on EPIPE) and SIGINT/SIGTERM (SignalTrap's dispatch
// sources), and a shell starting Baton in the background ignores SIGINT and SIGQUIT. So
// the usual suspects always, plus whatever else this process ignores, re-read at most
// once a second: a dozen sigaction(2) calls in each child instead of 62.
static pthread_mutex_t ignored_lock = PTHREAD_MUTEX_INITIALIZER;
static sigset_t ignored_signals;  // to default in the child: the usual ones and the ignored ones
static time_t ignored_read_at = -1;

static void current_ignored_signals(sigset_t *out) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
    pthread_mutex_lock(&ignored_lock);
    if (ignored_read_at < 0 || now.tv_sec != ignored_read_at) {
        sigemptyset(&ignored_signals);
        static const int usual[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE,
                                    SIGALRM, SIGTERM, SIGCHLD, SIGTSTP, SIGTTIN, SIGTTOU};
        for (size_t index = 0; index < sizeof usual / sizeof usual[0]; index++) sigaddset(&ignored_signals, usual[index]);
        for (int number = 1; number < NSIG; number++) {
            struct sigaction current;
            if (number != SIGKILL && number != SIGSTOP && sigaction(number, NULL, &current) == 0 &&
                !(current.sa_flags & SA_SIGINFO) && current.sa_handler == SIG_IGN)
                sigaddset(&ignored_signals, number);
        }
        ignored_read_at = now.tv_sec;
    }
    *out = ignored_signals;
    pthread_mutex_unlock(&ignored_lock);
}
#endif

// The child's descriptor table. A child of clone without CLONE_FILES starts with a copy of
// the server's whole table, and its exec then closes every copied descriptor: two per
// running task (its pidfd and its log), so with 5,000 tasks running each spawn copied and
// closed 10,000 descriptors, and a spawn cost grew with the number of running tasks.
// Instead the child shares the table (CLONE_FILES) and first thing calls
// close_range(low, INT_MAX, CLOSE_RANGE_UNSHARE), which gives it a private table holding only
// the descriptors below `low` (Linux 5.9). Its stdin and output are placed first at two
// low descriptors reserved for it ("slots", /dev/null while no spawn uses them), so `low`
// stays small. While the child shares the table it must not touch a descriptor, and the
// slots are taken under a lock (spawning threads of tests run at once).
static int files_shareable = 1;  // 0 once close_range could not unshare (older kernel, seccomp)
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static int slot_null = -1, slot_in = -1, slot_out = -1;

// Under slots_lock. 1 when the slots exist (made once).
static int slots_ready(void) {
    if (slot_out >= 0) return 1;
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd < 0) return 0;
    int in = fcntl(null_fd, F_DUPFD_CLOEXEC, 3);
    int out = in < 0 ? -1 : fcntl(null_fd, F_DUPFD_CLOEXEC, 3);
    if (in < 0 || out < 0) {
        if (in >= 0) close(in);
        close(null_fd);
        return 0;
    }
    slot_null = null_fd;
    slot_in = in;
    slot_out = out;
    return 1;
}

int baton_spawn_shares_files(int use) {
    if (use >= 0) __atomic_store_n(&files_shareable, use ? 1 : 0, __ATOMIC_RELAXED);
    return __atomic_load_n(&files_shareable, __ATOMIC_RELAXED);
}

int baton_spawn_uses_clone3(int use) {
#ifdef BATON_HAVE_CLONE3
    if (use >= 0) __atomic_store_n(&clone3_usable, use ? 1 : 0, __ATOMIC_RELAXED);
    return __atomic_load_n(&clone3_usable, __ATOMIC_RELAXED);
#else
    (void)use;
    return 0;
#endif
}

int baton_spawn(pid_t *pid_out, int *pidfd_out, const char *path, char *const argv[], char *const envp[],
                int stdin_fd, int output_fd, const char *directory) {
    int may_share = 1;  // 0 for a second try after the child could not unshare (ENOMEM…)
again:;
    volatile int child_error = 0;
    volatile int unshare_failed = 0;
    if (pidfd_out != NULL) *pidfd_out = -1;
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
    pid_t pid = -1;
    int child_in = stdin_fd, child_out = output_fd;
    int sharing = 0;        // the child shares the table and unshares it below `low_fd`
    unsigned int low_fd = 3;
#ifdef BATON_HAVE_CLONE3
    int handlers_cleared = 0;
    sigset_t ignored;
    int pidfd = -1;
    if (__atomic_load_n(&clone3_usable, __ATOMIC_RELAXED)) {
        current_ignored_signals(&ignored);
        if (may_share && __atomic_load_n(&files_shareable, __ATOMIC_RELAXED)) {
            pthread_mutex_lock(&slots_lock);
            // Slots above 64 are not used: kernels 5.9 to 5.17 could copy a partial
            // bitmap word of a table unshared at a limit that is not a multiple of 64.
            if (slots_ready() && slot_in < 64 && slot_out < 64 && dup3(stdin_fd, slot_in, O_CLOEXEC) >= 0 &&
                dup3(output_fd, slot_out, O_CLOEXEC) >= 0) {
                sharing = 1;
                child_in = slot_in;
                child_out = slot_out;
                low_fd = (unsigned int)(slot_in > slot_out ? slot_in : slot_out) + 1;
            } else {
                if (slot_in >= 0) dup3(slot_null, slot_in, O_CLOEXEC);  // the first dup3 may have worked
                pthread_mutex_unlock(&slots_lock);
            }
        }
        struct clone_args args;
        memset(&args, 0, sizeof args);
        args.flags = CLONE_VM | CLONE_VFORK | CLONE_CLEAR_SIGHAND | (pidfd_out != NULL ? CLONE_PIDFD : 0) |
                     (sharing ? CLONE_FILES : 0);
        args.pidfd = (uint64_t)(uintptr_t)&pidfd;
        args.exit_signal = SIGCHLD;
        long result = baton_clone3_vfork(&args, sizeof args);
        if (result >= 0) {
            pid = (pid_t)result;
            handlers_cleared = 1;
        } else if (result == -ENOSYS || result == -EINVAL || result == -EPERM) {
            __atomic_store_n(&clone3_usable, 0, __ATOMIC_RELAXED);
        }
        // Any other failure (EAGAIN, ENOMEM): vfork below tries once more and reports.
    }
    if (handlers_cleared && pid > 0 && pidfd_out != NULL) *pidfd_out = pidfd;
    if (!handlers_cleared)
#endif
        pid = vfork();
    if (pid == 0) {
        // First of all: a table of its own, of the descriptors below low_fd only.
        if (sharing && syscall(SYS_close_range, low_fd, 0x7fffffffU, CLOSE_RANGE_UNSHARE) != 0) {
            unshare_failed = 1;
            goto failed;
        }
        struct sigaction standard = {0};
        standard.sa_handler = SIG_DFL;
#ifdef BATON_HAVE_CLONE3
        if (handlers_cleared) {
            for (int number = 1; number < NSIG; number++) {
                if (sigismember(&ignored, number) == 1) sigaction(number, &standard, NULL);
            }
        } else
#endif
        {
            // Ignored signals stay ignored across execve and the server ignores SIGPIPE (a
            // task's `yes | head` would spin on EPIPE): default every catchable signal.
            for (int number = 1; number < NSIG; number++) {
                if (number != SIGKILL && number != SIGSTOP) sigaction(number, &standard, NULL);
            }
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
        if (dup2(child_in, 0) < 0 || dup2(child_out, 1) < 0 || dup2(child_out, 2) < 0) goto failed;
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
    if (sharing) {
        // The slots go back to /dev/null: the server must not hold the task's log open
        // (its pipe would never reach end-of-file).
        dup3(slot_null, slot_in, O_CLOEXEC);
        dup3(slot_null, slot_out, O_CLOEXEC);
        pthread_mutex_unlock(&slots_lock);
    }
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    if (pid < 0) return saved;
    if (unshare_failed) {
        // The child stopped before touching any descriptor. This kernel (or a seccomp
        // profile) has no CLOSE_RANGE_UNSHARE: copy tables from now on. Anything else
        // (ENOMEM) only makes this spawn copy. Either way, spawn again.
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        if (pidfd_out != NULL && *pidfd_out >= 0) {
            close(*pidfd_out);
            *pidfd_out = -1;
        }
        if (child_error == ENOSYS || child_error == EINVAL || child_error == EPERM)
            __atomic_store_n(&files_shareable, 0, __ATOMIC_RELAXED);
        may_share = 0;
        goto again;
    }
    if (child_error != 0) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        if (pidfd_out != NULL && *pidfd_out >= 0) {
            close(*pidfd_out);
            *pidfd_out = -1;
        }
        return child_error;
    }
    *pid_out = pid;
    return 0;
}

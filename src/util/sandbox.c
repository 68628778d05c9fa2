/* sandbox.c — give up, once started, what the server never needs.
 *
 * Two layers, each applied when the kernel has it:
 *   Landlock: file access only beneath the data folder (read, write,
 *     create and remove files there; execute nothing anywhere), no TCP
 *     bind or connect (ABI 4+), no signals or abstract sockets towards
 *     other processes (ABI 6+).
 *   seccomp (libseccomp): a deny list of system calls a web service has no
 *     business making — running programs, forking, tracing, kernel
 *     modules, mounts, namespaces, keyrings, bpf, io_uring (which would
 *     bypass the filter), new sockets. Threads are still allowed: clone
 *     is refused only without CLONE_THREAD; clone3 answers ENOSYS so the
 *     C library falls back to clone, whose flags the filter can read.
 * A deny list rather than an allow list: the C library, GnuTLS and the
 * sanitizers differ in the calls they make, and a missing entry in an
 * allow list would kill the server in production on a path no test took.
 *
 * Sanitizer builds keep process creation and ptrace (LeakSanitizer stops
 * the world with a traced helper, and symbolizers are programs), and may
 * read /proc and run programs under /usr. */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZER_BUILD 1
#endif
#endif
#ifndef SANITIZER_BUILD
#define SANITIZER_BUILD 0
#endif

/* Landlock's interface, spelled out here: Debian 12's kernel headers stop
 * at ABI 1-2, the kernels it runs on go further. */
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;   /* ABI 4 */
	uint64_t scoped;               /* ABI 6 */
};

struct ll_path_beneath {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1

#define LL_FS_EXECUTE (1ULL << 0)
#define LL_FS_WRITE_FILE (1ULL << 1)
#define LL_FS_READ_FILE (1ULL << 2)
#define LL_FS_READ_DIR (1ULL << 3)
#define LL_FS_REMOVE_DIR (1ULL << 4)
#define LL_FS_REMOVE_FILE (1ULL << 5)
#define LL_FS_MAKE_REG (1ULL << 8)
#define LL_FS_REFER (1ULL << 13)      /* ABI 2 */
#define LL_FS_TRUNCATE (1ULL << 14)   /* ABI 3 */
#define LL_FS_ABI1_ALL ((1ULL << 13) - 1)
#define LL_FS_IOCTL_DEV (1ULL << 15)  /* ABI 5 */

#define LL_NET_BIND_TCP (1ULL << 0)
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX (1ULL << 0)
#define LL_SCOPE_SIGNAL (1ULL << 1)

static int landlock_abi(void)
{
	long abi = syscall(__NR_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
	return abi < 0 ? 0 : (int)abi;
}

static int add_path(int ruleset, const char *path, uint64_t access)
{
	int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct ll_path_beneath rule = { .allowed_access = access, .parent_fd = fd };
	int r = (int)syscall(__NR_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &rule, 0);
	int e = errno;
	close(fd);
	return r < 0 ? -e : 0;
}

static int apply_landlock(const char *data_dir, int abi, struct sandbox_report *rep, char *err,
			  size_t errlen)
{
	struct ll_ruleset_attr attr = { .handled_access_fs = LL_FS_ABI1_ALL };
	if (abi >= 2)
		attr.handled_access_fs |= LL_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= LL_FS_TRUNCATE;
	if (abi >= 5)
		attr.handled_access_fs |= LL_FS_IOCTL_DEV;
	if (abi >= 4)
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
	if (abi >= 6)
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;

	/* The data folder: the database, its journal and WAL, the keys, the
	 * pid file. Nothing there is ever executed. */
	uint64_t data = LL_FS_READ_FILE | LL_FS_WRITE_FILE | LL_FS_READ_DIR | LL_FS_MAKE_REG |
			LL_FS_REMOVE_FILE | LL_FS_REMOVE_DIR;
	if (abi >= 2)
		data |= LL_FS_REFER;
	if (abi >= 3)
		data |= LL_FS_TRUNCATE;

	int rs = (int)syscall(__NR_landlock_create_ruleset, &attr, sizeof attr, 0);
	if (rs < 0) {
		snprintf(err, errlen, "landlock: cannot create a rule set: %s", strerror(errno));
		return -1;
	}
	int r = add_path(rs, data_dir, data);
	if (r < 0) {
		snprintf(err, errlen, "landlock: data folder \"%s\": %s", data_dir, strerror(-r));
		close(rs);
		return -1;
	}
	if (SANITIZER_BUILD) {
		/* Best effort: a sanitizer report is worth more than this rule. */
		add_path(rs, "/proc", LL_FS_READ_FILE | LL_FS_READ_DIR);
		add_path(rs, "/usr", LL_FS_READ_FILE | LL_FS_READ_DIR | LL_FS_EXECUTE);
	}
	if (syscall(__NR_landlock_restrict_self, rs, 0) < 0) {
		snprintf(err, errlen, "landlock: cannot restrict the process: %s", strerror(errno));
		close(rs);
		return -1;
	}
	close(rs);
	rep->files_restricted = 1;
	rep->network_restricted = abi >= 4;
	return 0;
}

/* Refused with EPERM. Names unknown on this architecture are skipped. */
static const char *const denied[] = {
	/* other programs and processes */
	"execve", "execveat", "fork", "vfork", "ptrace", "process_vm_readv",
	"process_vm_writev", "pidfd_getfd", "kcmp",
	/* the machine */
	"mount", "umount2", "fsopen", "fsconfig", "fsmount", "move_mount", "open_tree",
	"mount_setattr", "pivot_root", "chroot", "setns", "unshare", "kexec_load",
	"kexec_file_load", "init_module", "finit_module", "delete_module", "reboot",
	"swapon", "swapoff", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
	"acct", "iopl", "ioperm", "syslog", "quotactl", "vhangup", "uselib",
	"open_by_handle_at", "name_to_handle_at", "lookup_dcookie", "personality",
	/* kernel surface a web service does not use */
	"bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	/* identities */
	"setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups",
	"setfsuid", "setfsgid",
	/* new connections: the listening socket exists already */
	"socket", "connect",
};

/* What a sanitizer build must keep (see the top of the file). */
static const char *const sanitizer_needs[] = {
	"execve", "execveat", "fork", "vfork", "ptrace", "process_vm_readv",
};

static int needed_by_sanitizer(const char *name)
{
	if (!SANITIZER_BUILD)
		return 0;
	for (size_t i = 0; i < sizeof sanitizer_needs / sizeof *sanitizer_needs; i++)
		if (strcmp(name, sanitizer_needs[i]) == 0)
			return 1;
	return 0;
}

static int apply_seccomp(struct sandbox_report *rep, char *err, size_t errlen)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		snprintf(err, errlen, "seccomp: out of memory");
		return -1;
	}
	int r = 0;
	const char *what = "";
	for (size_t i = 0; r == 0 && i < sizeof denied / sizeof *denied; i++) {
		if (needed_by_sanitizer(denied[i]))
			continue;
		int nr = seccomp_syscall_resolve_name(denied[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;
		what = denied[i];
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
	}
	if (r == 0 && !SANITIZER_BUILD) {
		what = "clone";
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
		int nr = seccomp_syscall_resolve_name("clone3");
		if (r == 0 && nr != __NR_SCMP_ERROR) {
			what = "clone3";
			r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
		}
	}
	if (r == 0) {
		/* No thread exists yet (see sandbox.h), so no TSYNC needed. */
		what = "load";
		r = seccomp_load(ctx);
	}
	seccomp_release(ctx);
	if (r == -ENOSYS)   /* no seccomp() system call: an old kernel, or valgrind */
		return 0;
	if (r < 0) {
		snprintf(err, errlen, "seccomp: %s: %s", what, strerror(-r));
		return -1;
	}
	rep->syscalls_filtered = 1;
	return 0;
}

int sandbox_enter(const char *data_dir, struct sandbox_report *report, char *err,
		  size_t errlen)
{
	struct sandbox_report rep = { .sanitizer_build = SANITIZER_BUILD };
	snprintf(err, errlen, "%s", "");

	/* Required by both layers for an unprivileged process, and right in
	 * any case: nothing this process starts may gain privileges. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	rep.landlock_abi = landlock_abi();
	if (rep.landlock_abi > 0 &&
	    apply_landlock(data_dir, rep.landlock_abi, &rep, err, errlen) < 0)
		return -1;
	/* PR_GET_SECCOMP fails (EINVAL) only on a kernel without seccomp. */
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 && apply_seccomp(&rep, err, errlen) < 0)
		return -1;
	if (report)
		*report = rep;
	return 0;
}

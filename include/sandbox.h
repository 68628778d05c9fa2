/* sandbox.h — what the server may do once it has started.
 *
 * Called after every file outside the data folder has been read (templates,
 * fonts, TLS files, time zone) and the listening socket is bound, before
 * any thread starts: from then on the process
 *   - reads and writes files only under the data folder (Landlock),
 *   - opens no network connection and binds no new port (Landlock, ABI 4+),
 *   - cannot execute programs, fork, trace other processes, load modules,
 *     mount, or open new sockets (seccomp).
 * Threads started afterwards inherit all of it. */
#ifndef CIVICARD_SANDBOX_H
#define CIVICARD_SANDBOX_H

#include <stddef.h>

struct sandbox_report {
	int landlock_abi;       /* 0: the kernel has no Landlock */
	int files_restricted;   /* file access limited to the data folder */
	int network_restricted; /* no new bind/connect (Landlock ABI 4+) */
	int syscalls_filtered;  /* seccomp filter installed */
	int sanitizer_build;    /* process creation and ptrace left open for ASan/LSan */
};

/* Restrict the calling process (and the threads it will start) as above.
 * 0 when every restriction the kernel supports is in force; -1 with a
 * reason in err when one it supports could not be applied. A kernel
 * without Landlock or seccomp is not an error: the report says so. */
int sandbox_enter(const char *data_dir, struct sandbox_report *report, char *err,
		  size_t errlen);

#endif

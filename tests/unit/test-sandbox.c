/* test-sandbox.c — once sandboxed, the process (and every thread it starts)
 * can use its data folder and nothing else. Each case runs in a child:
 * the sandbox cannot be left. */
#include "check.h"
#include "tmpdir.h"
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char data_dir[64], outside_dir[64];

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

static int open_errno(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0600);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno;
}

static void *outside_from_thread(void *arg)
{
	(void)arg;
	char path[128];
	snprintf(path, sizeof path, "%s/secret.txt", outside_dir);
	return (void *)(intptr_t)open_errno(path, O_RDONLY);
}

/* Runs in the child; its failures become the child's exit status. */
static void sandboxed_checks(void)
{
	struct sandbox_report r;
	char err[256], path[128], path2[128];
	if (sandbox_enter(data_dir, &r, err, sizeof err) < 0) {
		fprintf(stderr, "sandbox_enter: %s\n", err);
		CHECK(0);
		return;
	}
	fprintf(stderr, "   landlock ABI %d, files %d, network %d, seccomp %d, sanitizer %d\n",
		r.landlock_abi, r.files_restricted, r.network_restricted, r.syscalls_filtered,
		r.sanitizer_build);

	/* The data folder works as SQLite and the key store use it. */
	snprintf(path, sizeof path, "%s/civicard.db-wal", data_dir);
	snprintf(path2, sizeof path2, "%s/keys/data.key", data_dir);
	CHECK(write_file(path, "written inside") == 0);
	CHECK(open_errno(path, O_RDWR) == 0);
	CHECK(truncate(path, 0) == 0);
	CHECK(open_errno(path2, O_RDONLY) == 0);
	char tmp[140];
	snprintf(tmp, sizeof tmp, "%s.tmp", path2);
	CHECK(write_file(tmp, "new key") == 0);
	CHECK(rename(tmp, path2) == 0);
	CHECK(unlink(path) == 0);

	if (r.files_restricted) {
		snprintf(path, sizeof path, "%s/secret.txt", outside_dir);
		CHECK(open_errno(path, O_RDONLY) == EACCES);
		CHECK(open_errno(path, O_WRONLY) == EACCES);
		snprintf(path, sizeof path, "%s/new.txt", outside_dir);
		CHECK(open_errno(path, O_WRONLY | O_CREAT) == EACCES);
		CHECK(access(path, F_OK) != 0);
		CHECK(open_errno("/etc/passwd", O_RDONLY) == EACCES);
		/* Nothing may be smuggled out by renaming or linking either. */
		snprintf(path, sizeof path, "%s/keys/data.key", data_dir);
		snprintf(path2, sizeof path2, "%s/stolen.key", outside_dir);
		CHECK(rename(path, path2) != 0);
		CHECK(link(path, path2) != 0);
		/* Threads started afterwards are held by the same rules. */
		pthread_t t;
		void *res = NULL;
		CHECK(pthread_create(&t, NULL, outside_from_thread, NULL) == 0);
		CHECK(pthread_join(t, &res) == 0);
		CHECK((intptr_t)res == EACCES);
	} else {
		fprintf(stderr, "   (no Landlock in this kernel: file rules not tested)\n");
	}

	if (r.syscalls_filtered) {
		errno = 0;
		CHECK(socket(AF_INET, SOCK_STREAM, 0) < 0 && errno == EPERM);
		CHECK(socket(AF_UNIX, SOCK_STREAM, 0) < 0 && errno == EPERM);
		if (!r.sanitizer_build) {
			/* valgrind cannot survive a failed execve: not tried there. */
			const char *preload = getenv("LD_PRELOAD");
			if (!preload || !strstr(preload, "vgpreload")) {
				char *argv[] = { "/bin/true", NULL };
				errno = 0;
				CHECK(execv("/bin/true", argv) < 0 && errno == EPERM);
			}
			pid_t p = fork();
			if (p == 0)
				_exit(0);
			CHECK(p < 0 && errno == EPERM);
			if (p > 0)
				waitpid(p, NULL, 0);
		}
	} else {
		fprintf(stderr, "   (no seccomp in this kernel: system calls not tested)\n");
	}
}

TEST(sandbox_confines_files_and_calls)
{
	pid_t p = fork();
	CHECK(p >= 0);
	if (p == 0) {
		sandboxed_checks();
		fflush(stderr);
		_exit(check_failures ? 1 : 0);
	}
	int st = 0;
	CHECK(waitpid(p, &st, 0) == p);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

TEST(missing_data_folder_is_an_error)
{
	pid_t p = fork();
	CHECK(p >= 0);
	if (p == 0) {
		struct sandbox_report r;
		char err[256], missing[96];
		snprintf(missing, sizeof missing, "%s/absent", outside_dir);
		int rc = sandbox_enter(missing, &r, err, sizeof err);
		/* Without Landlock there is no folder to hold to. */
		int ok = r.landlock_abi == 0 || (rc < 0 && strstr(err, "absent") != NULL);
		_exit(ok ? 0 : 1);
	}
	int st = 0;
	CHECK(waitpid(p, &st, 0) == p);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void)
{
	char *d = test_tmpdir();
	CHECK(d != NULL);
	snprintf(data_dir, sizeof data_dir, "%s", d);
	d = test_tmpdir();
	CHECK(d != NULL);
	snprintf(outside_dir, sizeof outside_dir, "%s", d);
	char path[128];
	snprintf(path, sizeof path, "%s/keys", data_dir);
	CHECK(mkdir(path, 0700) == 0);
	snprintf(path, sizeof path, "%s/keys/data.key", data_dir);
	CHECK(write_file(path, "old key") == 0);
	snprintf(path, sizeof path, "%s/secret.txt", outside_dir);
	CHECK(write_file(path, "not for the server") == 0);

	RUN(sandbox_confines_files_and_calls);
	RUN(missing_data_folder_is_an_error);

	test_rmdir(data_dir);
	test_rmdir(outside_dir);
	return CHECK_DONE();
}

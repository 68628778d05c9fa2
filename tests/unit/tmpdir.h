/* tmpdir.h — a fresh temporary folder for tests that write files. */
#ifndef CIVICARD_TMPDIR_H
#define CIVICARD_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>

/* The name lives until the next call. */
static char *test_tmpdir(void)
{
	static char dir[64];
	snprintf(dir, sizeof dir, "/tmp/civicard-test-XXXXXX");
	return mkdtemp(dir);
}

static void test_rmdir(const char *dir)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

#endif

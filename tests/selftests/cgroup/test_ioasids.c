// SPDX-License-Identifier: GPL-2.0
/*
 * Tests for the ioasids cgroup controller's interface files.
 *
 * Charges are real allocations through /dev/ioasid: the cgroup charged is
 * the opener's, and closing the file gives everything back. Kinds that user
 * space cannot allocate (kernel, sva) and the capacity go through
 * CONFIG_CGROUP_IOASIDS_TEST's debugfs files, which behave the same way;
 * without them, only the tests that need them skip.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/ioctl.h>
#include <linux/ioasid.h>

#include "../kselftest.h"
#include "cgroup_util.h"

#define DEV_IOASID	"/dev/ioasid"
#define CHARGE_FILE	"/sys/kernel/debug/ioasids_cgroup/charge"
#define CAPACITY_FILE	"/sys/kernel/debug/ioasids_cgroup/capacity"

static char root[PATH_MAX];

/* CONFIG_CGROUP_IOASIDS_TEST's debugfs files are there. */
static bool have_hook;

/* For the tests that need the hook: false, saying why, without it. */
static bool hook_for(const char *test)
{
	if (!have_hook)
		ksft_print_msg("%s: needs CONFIG_CGROUP_IOASIDS_TEST's debugfs files\n",
			       test);
	return have_hook;
}

/* Write @buf, exactly @len bytes, to @cgroup/@file: 0 or the errno. */
static int write_errno(const char *cgroup, const char *file, const char *buf,
		       size_t len)
{
	char path[PATH_MAX];
	ssize_t ret;
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", cgroup, file);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return errno;
	ret = write(fd, buf, len);
	if (ret < 0)
		err = errno;
	else if ((size_t)ret != len)
		err = EIO;
	close(fd);
	return err;
}

static long events(const char *cgroup, const char *file)
{
	return cg_read_key_long(cgroup, file, "max ");
}

/* The "capacity" key: charges refused because the namespace ran out. */
static long capacity_events(const char *cgroup, const char *file)
{
	return cg_read_key_long(cgroup, file, "capacity ");
}

/* The IDs each open /dev/ioasid file holds, to free the last ones first. */
#define MAX_FDS		256
/*
 * Polls of 100 ms for what RCU and workqueues finish: 60 s in all, the
 * deadline of ioasid_util.h's waits, for a loaded 2-core host under TCG.
 */
#define SETTLE_POLLS	600
#define MAX_HELD	64
/* The least capacity the tests run with: they hold a few IDs at a time. */
#define MIN_CAPACITY	64
static struct {
	__u32 ids[MAX_HELD];
	int n;
} held[MAX_FDS];

static int open_in(const char *cgroup, const char *file)
{
	int fd;

	if (cg_enter_current(cgroup))
		return -1;
	fd = open(file, O_RDWR);
	if (cg_enter_current(root)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (fd >= MAX_FDS) {
		close(fd);
		return -1;
	}
	if (fd >= 0)
		held[fd].n = 0;
	return fd;
}

/* Open a set as a member of @cgroup; the test itself stays in the root. */
static int open_set_in(const char *cgroup)
{
	return open_in(cgroup, DEV_IOASID);
}

/* The same through the test hook, for the kinds user space cannot make. */
static int open_hook_in(const char *cgroup)
{
	return open_in(cgroup, CHARGE_FILE);
}

/*
 * Charge (n > 0) or uncharge (n < 0): kind "fd" allocates or frees real IDs
 * on a /dev/ioasid file, "kernel" and "sva" go through the hook.
 * Return: 0 or -errno.
 */
static int charge(int fd, const char *kind, int n)
{
	struct ioasid_alloc alloc = { .size = sizeof(alloc), .max = ~0U };
	struct ioasid_free free = { .size = sizeof(free) };
	char buf[32];
	int len;

	if (strcmp(kind, "fd")) {
		len = snprintf(buf, sizeof(buf), "%s %d", kind, n);
		return write(fd, buf, len) == len ? 0 : -errno;
	}
	if (n > 0) {
		if (held[fd].n + n > MAX_HELD)
			return -E2BIG;
		alloc.count = n;
		alloc.ids = (uintptr_t)&held[fd].ids[held[fd].n];
		if (ioctl(fd, IOASID_ALLOC, &alloc))
			return -errno;
		held[fd].n += n;
	} else if (n < 0) {
		if (held[fd].n < -n)
			return -ENOENT;
		held[fd].n += n;
		free.count = -n;
		free.ids = (uintptr_t)&held[fd].ids[held[fd].n];
		if (ioctl(fd, IOASID_FREE, &free))
			return -errno;
	}
	return 0;
}

/* ioasids_parent, with the controller enabled below it, and its child. */
static int make_pair(const char *root, char **parent, char **child)
{
	*parent = cg_name(root, "ioasids_parent");
	*child = *parent ? cg_name(*parent, "ioasids_child") : NULL;
	if (!*parent || !*child || cg_create(*parent) ||
	    cg_write(*parent, "cgroup.subtree_control", "+ioasids"))
		return -1;
	return cg_create(*child);
}

static void destroy_pair(char *parent, char *child)
{
	cg_destroy(child);
	cg_destroy(parent);
	free(child);
	free(parent);
}

static int capacity_write(long capacity)
{
	char buf[32];
	int fd, len, ret;

	fd = open(CAPACITY_FILE, O_WRONLY);
	if (fd < 0)
		return -1;
	len = snprintf(buf, sizeof(buf), "%ld", capacity);
	ret = write(fd, buf, len) == len ? 0 : -1;
	close(fd);
	return ret;
}

static long capacity_read(void)
{
	char buf[32];

	if (read_text(CAPACITY_FILE, buf, sizeof(buf)) <= 0)
		return -1;
	return strtol(buf, NULL, 10);
}

static int exists(const char *cgroup, const char *file)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", cgroup, file);
	return access(path, F_OK) == 0;
}

/*
 * The files are where they should be: the limit and events.local not on the
 * root, the capacity only there, events everywhere (the root's counts the
 * whole system's refusals); every writable file is also readable.
 */
static int test_ioasids_files(const char *root)
{
	static const char *const both[] = {
		"ioasids.current", "ioasids.peak", "ioasids.stat",
		"ioasids.events",
	};
	static const char *const not_root[] = {
		"ioasids.max", "ioasids.events.local",
	};
	int ret = KSFT_FAIL;
	char path[PATH_MAX];
	char *cg;
	size_t i;

	cg = cg_name(root, "ioasids_test");
	if (!cg || cg_create(cg))
		goto cleanup;

	for (i = 0; i < ARRAY_SIZE(both); i++)
		if (!exists(root, both[i]) || !exists(cg, both[i]))
			goto cleanup;
	for (i = 0; i < ARRAY_SIZE(not_root); i++)
		if (exists(root, not_root[i]) || !exists(cg, not_root[i]))
			goto cleanup;
	if (!exists(root, "ioasids.capacity") || exists(cg, "ioasids.capacity"))
		goto cleanup;

	/* cgset opens files read-write. */
	snprintf(path, sizeof(path), "%s/ioasids.max", cg);
	if (access(path, R_OK | W_OK))
		goto cleanup;
	snprintf(path, sizeof(path), "%s/ioasids.peak", cg);
	if (access(path, R_OK | W_OK))
		goto cleanup;
	if (write_errno(root, "ioasids.current", "1", 1) == 0)
		goto cleanup;

	ret = KSFT_PASS;
cleanup:
	cg_destroy(cg);
	free(cg);
	return ret;
}

static int test_ioasids_defaults(const char *root)
{
	int ret = KSFT_FAIL;
	char *cg;

	cg = cg_name(root, "ioasids_test");
	if (!cg || cg_create(cg))
		goto cleanup;

	if (cg_read_strcmp(cg, "ioasids.max", "max\n") ||
	    cg_read_strcmp(cg, "ioasids.current", "0\n") ||
	    cg_read_strcmp(cg, "ioasids.peak", "0\n") ||
	    cg_read_strcmp(cg, "ioasids.events", "max 0\ncapacity 0\n") ||
	    cg_read_strcmp(cg, "ioasids.events.local",
			   "max 0\ncapacity 0\n") ||
	    cg_read_strcmp(cg, "ioasids.stat",
			   "sets 0\nkernel 0\nsva 0\nfd 0\n"))
		goto cleanup;
	if (have_hook && cg_read_long(root, "ioasids.capacity") != capacity_read())
		goto cleanup;

	ret = KSFT_PASS;
cleanup:
	cg_destroy(cg);
	free(cg);
	return ret;
}

/*
 * Every valid write reads back; every invalid one is EINVAL and changes
 * nothing. Spaces around the value are stripped, as pids.max and misc.max
 * do; the number is decimal, without a sign or a base prefix.
 */
static int test_ioasids_max_writes(const char *root)
{
	static const struct {
		const char *in, *out;
	} valid[] = {
		{ "5", "5\n" }, { "5\n", "5\n" }, { "0", "0\n" },
		{ "max", "max\n" }, { "max\n", "max\n" }, { "007", "7\n" },
		{ "010", "10\n" }, { " 5", "5\n" }, { "5 ", "5\n" },
		{ "5\n\n", "5\n" }, { "\t 6\r\n", "6\n" }, { "max ", "max\n" },
		{ " max\n", "max\n" },
		{ "1048576", "1048576\n" },
		{ "18446744073709551614", "18446744073709551614\n" },
		{ "18446744073709551615", "max\n" },
	};
	static const char *const invalid[] = {
		"-1", "abc", "\n", " ", "\t\r\n", "0x10", "+5", "5a", "5 5",
		"1.5", "MAX", "m ax", "maxx", "max max", "18446744073709551616",
		"99999999999999999999999", "-0", " -1 ",
	};
	char *cg, *big = NULL;
	int ret = KSFT_FAIL;
	size_t i;

	cg = cg_name(root, "ioasids_test");
	if (!cg || cg_create(cg))
		goto cleanup;

	for (i = 0; i < ARRAY_SIZE(valid); i++) {
		if (write_errno(cg, "ioasids.max", valid[i].in,
				strlen(valid[i].in))) {
			ksft_print_msg("valid \"%s\" refused\n", valid[i].in);
			goto cleanup;
		}
		if (cg_read_strcmp(cg, "ioasids.max", valid[i].out)) {
			ksft_print_msg("\"%s\" did not read back\n", valid[i].in);
			goto cleanup;
		}
	}

	if (cg_write(cg, "ioasids.max", "7"))
		goto cleanup;
	for (i = 0; i < ARRAY_SIZE(invalid); i++) {
		int err = write_errno(cg, "ioasids.max", invalid[i],
				      strlen(invalid[i]));

		if (err != EINVAL) {
			ksft_print_msg("\"%s\": errno %d, want EINVAL\n",
				       invalid[i], err);
			goto cleanup;
		}
		if (cg_read_strcmp(cg, "ioasids.max", "7\n"))
			goto cleanup;
	}

	/*
	 * An embedded NUL and a 4 KiB string. A write of no bytes succeeds
	 * and changes nothing: the cgroup core never passes it on; "\n"
	 * above is the empty value.
	 */
	if (write_errno(cg, "ioasids.max", "5\0005", 3) != EINVAL ||
	    write_errno(cg, "ioasids.max", "5\000", 2) != EINVAL)
		goto cleanup;
	if (write_errno(cg, "ioasids.max", "", 0) ||
	    cg_read_strcmp(cg, "ioasids.max", "7\n"))
		goto cleanup;
	big = malloc(4096);
	if (!big)
		goto cleanup;
	memset(big, '9', 4096);
	if (write_errno(cg, "ioasids.max", big, 4096) != EINVAL)
		goto cleanup;
	memset(big, 'x', 4096);
	if (write_errno(cg, "ioasids.max", big, 4096) != EINVAL)
		goto cleanup;
	if (cg_read_strcmp(cg, "ioasids.max", "7\n"))
		goto cleanup;

	ret = KSFT_PASS;
cleanup:
	free(big);
	cg_destroy(cg);
	free(cg);
	return ret;
}

/* A limit below usage is accepted, takes nothing back, refuses new charges. */
static int test_ioasids_limit_below_current(const char *root)
{
	int ret = KSFT_FAIL, fd = -1;
	char *cg;

	cg = cg_name(root, "ioasids_test");
	if (!cg || cg_create(cg))
		goto cleanup;
	fd = open_set_in(cg);
	if (fd < 0)
		goto cleanup;

	if (charge(fd, "fd", 3))
		goto cleanup;
	if (cg_write(cg, "ioasids.max", "1"))
		goto cleanup;
	if (cg_read_long(cg, "ioasids.current") != 3)
		goto cleanup;
	if (charge(fd, "fd", 1) != -EDQUOT)
		goto cleanup;
	if (charge(fd, "fd", -3))
		goto cleanup;
	if (charge(fd, "fd", 1))
		goto cleanup;
	if (charge(fd, "fd", 1) != -EDQUOT)
		goto cleanup;
	if (cg_read_long(cg, "ioasids.current") != 1)
		goto cleanup;

	ret = KSFT_PASS;
cleanup:
	if (fd >= 0)
		close(fd);
	if (cg && cg_read_long(cg, "ioasids.current") != 0)
		ret = KSFT_FAIL;
	cg_destroy(cg);
	free(cg);
	return ret;
}

/* events counts refusals in the subtree, events.local at the cgroup's own limit. */
static int test_ioasids_events(const char *root)
{
	char *parent = NULL, *child = NULL;
	int ret = KSFT_FAIL, fd = -1;

	if (make_pair(root, &parent, &child))
		goto cleanup;
	fd = open_set_in(child);
	if (fd < 0)
		goto cleanup;

	if (cg_write(child, "ioasids.max", "1") || charge(fd, "fd", 1))
		goto cleanup;
	if (charge(fd, "fd", 1) != -EDQUOT)
		goto cleanup;
	if (events(child, "ioasids.events") != 1 ||
	    events(child, "ioasids.events.local") != 1 ||
	    events(parent, "ioasids.events") != 1 ||
	    events(parent, "ioasids.events.local") != 0)
		goto cleanup;

	if (cg_write(child, "ioasids.max", "max") ||
	    cg_write(parent, "ioasids.max", "1"))
		goto cleanup;
	if (charge(fd, "fd", 1) != -EDQUOT)
		goto cleanup;
	if (events(child, "ioasids.events") != 1 ||
	    events(child, "ioasids.events.local") != 1 ||
	    events(parent, "ioasids.events") != 2 ||
	    events(parent, "ioasids.events.local") != 1)
		goto cleanup;

	/* Charges that fit count nothing. */
	if (charge(fd, "fd", -1) || charge(fd, "fd", 1) ||
	    events(parent, "ioasids.events") != 2)
		goto cleanup;

	ret = KSFT_PASS;
cleanup:
	if (fd >= 0)
		close(fd);
	destroy_pair(parent, child);
	return ret;
}

/* A refusal wakes whoever polls ioasids.events and ioasids.events.local. */
static int test_ioasids_events_poll(const char *root)
{
	int ret = KSFT_FAIL, fd = -1, efd = -1, lfd = -1;
	struct pollfd pfd[2];
	char buf[64];
	char *cg;

	cg = cg_name(root, "ioasids_test");
	if (!cg || cg_create(cg) || cg_write(cg, "ioasids.max", "0"))
		goto cleanup;
	fd = open_set_in(cg);
	efd = cg_open(cg, "ioasids.events", O_RDONLY);
	lfd = cg_open(cg, "ioasids.events.local", O_RDONLY);
	if (fd < 0 || efd < 0 || lfd < 0)
		goto cleanup;
	if (read(efd, buf, sizeof(buf)) <= 0 || read(lfd, buf, sizeof(buf)) <= 0)
		goto cleanup;

	pfd[0] = (struct pollfd){ .fd = efd, .events = POLLPRI };
	pfd[1] = (struct pollfd){ .fd = lfd, .events = POLLPRI };
	if (poll(pfd, 2, 0) != 0)
		goto cleanup;

	if (charge(fd, "fd", 1) != -EDQUOT)
		goto cleanup;
	if (poll(pfd, 2, 5000) != 2)
		goto cleanup;
	if (!(pfd[0].revents & POLLPRI) || !(pfd[1].revents & POLLPRI))
		goto cleanup;
	if (events(cg, "ioasids.events") != 1)
		goto cleanup;

	ret = KSFT_PASS;
cleanup:
	if (fd >= 0)
		close(fd);
	if (efd >= 0)
		close(efd);
	if (lfd >= 0)
		close(lfd);
	cg_destroy(cg);
	free(cg);
	return ret;
}

/* Nested limits: the tightest limit on the path decides. */
static int test_ioasids_nested(const char *root)
{
	char *parent = NULL, *a = NULL, *b = NULL;
	int ret = KSFT_FAIL, fa = -1, fb = -1;

	parent = cg_name(root, "ioasids_parent");
	a = cg_name(parent, "a");
	b = cg_name(parent, "b");
	if (!parent || !a || !b || cg_create(parent) ||
	    cg_write(parent, "cgroup.subtree_control", "+ioasids") ||
	    cg_create(a) || cg_create(b))
		goto cleanup;
	fa = open_set_in(a);
	fb = open_set_in(b);
	if (fa < 0 || fb < 0)
		goto cleanup;

	if (cg_write(parent, "ioasids.max", "5") ||
	    cg_write(a, "ioasids.max", "2"))
		goto cleanup;
	if (charge(fa, "fd", 2) || charge(fa, "fd", 1) != -EDQUOT)
		goto cleanup;
	if (charge(fb, "fd", 3) || charge(fb, "fd", 1) != -EDQUOT)
		goto cleanup;
	/* All or nothing: 2 do not fit where 1 would not. */
	if (charge(fa, "fd", -1) || charge(fb, "fd", 2) != -EDQUOT ||
	    charge(fb, "fd", 1))
		goto cleanup;
	if (cg_read_long(a, "ioasids.current") != 1 ||
	    cg_read_long(b, "ioasids.current") != 4 ||
	    cg_read_long(parent, "ioasids.current") != 5)
		goto cleanup;
	if (events(a, "ioasids.events.local") != 1 ||
	    events(parent, "ioasids.events.local") != 2 ||
	    events(parent, "ioasids.events") != 3)
		goto cleanup;

	close(fa);
	fa = -1;
	if (cg_read_long(parent, "ioasids.current") != 4)
		goto cleanup;

	ret = KSFT_PASS;
cleanup:
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	/* Closing every file gave everything back. */
	if (parent && cg_read_long(parent, "ioasids.current") != 0)
		ret = KSFT_FAIL;
	cg_destroy(a);
	cg_destroy(b);
	cg_destroy(parent);
	free(a);
	free(b);
	free(parent);
	return ret;
}

/* Charges stay where they were made when the task moves. */
static int test_ioasids_migration(const char *root)
{
	char *a = NULL, *b = NULL;
	int ret = KSFT_FAIL, fd = -1;

	a = cg_name(root, "ioasids_a");
	b = cg_name(root, "ioasids_b");
	if (!a || !b || cg_create(a) || cg_create(b))
		goto cleanup;
	if (cg_enter_current(a))
		goto cleanup;
	fd = open(DEV_IOASID, O_RDWR);
	if (fd < 0 || fd >= MAX_FDS)
		goto cleanup;
	held[fd].n = 0;
	if (charge(fd, "fd", 2))
		goto cleanup;
	if (cg_enter_current(b))
		goto cleanup;
	if (charge(fd, "fd", 1))
		goto cleanup;
	if (cg_read_long(a, "ioasids.current") != 3 ||
	    cg_read_long(b, "ioasids.current") != 0)
		goto cleanup;
	/* The limit that applies is the charged cgroup's, not the task's. */
	if (cg_write(a, "ioasids.max", "3") || charge(fd, "fd", 1) != -EDQUOT ||
	    events(a, "ioasids.events.local") != 1 ||
	    events(b, "ioasids.events.local") != 0)
		goto cleanup;
	if (charge(fd, "fd", -3) || cg_read_long(a, "ioasids.current") != 0)
		goto cleanup;

	ret = KSFT_PASS;
cleanup:
	cg_enter_current(root);
	if (fd >= 0)
		close(fd);
	cg_destroy(a);
	cg_destroy(b);
	free(a);
	free(b);
	return ret;
}

/* A cgroup removed with live charges keeps them until they go, then is freed. */
static int test_ioasids_rmdir_live(const char *root)
{
	char *parent = NULL, *child = NULL;
	int ret = KSFT_FAIL, fd = -1;

	if (!hook_for(__func__))
		return KSFT_SKIP;
	if (make_pair(root, &parent, &child))
		goto cleanup;
	fd = open_hook_in(child);
	if (fd < 0 || charge(fd, "kernel", 3))
		goto cleanup;

	if (cg_destroy(child))
		goto cleanup;
	if (cg_read_long(parent, "ioasids.current") != 3)
		goto cleanup;
	if (cg_read_strstr(parent, "ioasids.stat", "kernel 3\n"))
		goto cleanup;
	if (charge(fd, "kernel", -1) ||
	    cg_read_long(parent, "ioasids.current") != 2)
		goto cleanup;
	close(fd);
	fd = -1;
	if (cg_read_long(parent, "ioasids.current") != 0 ||
	    cg_read_strcmp(parent, "ioasids.stat",
			   "sets 0\nkernel 0\nsva 0\nfd 0\n"))
		goto cleanup;

	ret = KSFT_PASS;
cleanup:
	if (fd >= 0)
		close(fd);
	destroy_pair(parent, child);
	return ret;
}

/*
 * Polls of 100 ms in which a removed or disabled cgroup's css goes offline:
 * before the limit was kept, a charge got through within a few of them.
 */
#define OFFLINE_POLLS	30

/* Every charge of one more on @fd during OFFLINE_POLLS is refused. */
static int still_refused(int fd)
{
	int err;

	for (int i = 0; i < OFFLINE_POLLS; i++) {
		err = charge(fd, "kernel", 1);
		if (err != -EDQUOT) {
			ksft_print_msg("the offline cgroup's limit is gone: %d\n",
				       err);
			if (!err)
				charge(fd, "kernel", -1);
			return -1;
		}
		usleep(100000);
	}
	return 0;
}

/*
 * A removed cgroup keeps its limit, as pids, misc and memory.max do: what
 * is still charged to it (a file passed to a process elsewhere) stays under
 * it. The charges also count in the parent, and its limit holds too.
 */
static int test_ioasids_rmdir_limit(const char *root)
{
	char *parent = NULL, *child = NULL;
	int ret = KSFT_FAIL, fd = -1;

	if (!hook_for(__func__))
		return KSFT_SKIP;
	if (make_pair(root, &parent, &child))
		goto cleanup;
	fd = open_hook_in(child);
	if (fd < 0 || cg_write(child, "ioasids.max", "1") ||
	    cg_write(parent, "ioasids.max", "3") || charge(fd, "kernel", 1) ||
	    charge(fd, "kernel", 1) != -EDQUOT)
		goto cleanup;

	if (cg_destroy(child) || still_refused(fd))
		goto cleanup;
	if (cg_read_long(parent, "ioasids.current") != 1 ||
	    events(parent, "ioasids.events") != 1 + OFFLINE_POLLS)
		goto cleanup;
	if (charge(fd, "kernel", -1) || charge(fd, "kernel", 1))
		goto cleanup;
	close(fd);
	fd = -1;
	if (cg_read_long(parent, "ioasids.current") != 0)
		goto cleanup;

	ret = KSFT_PASS;
cleanup:
	if (fd >= 0)
		close(fd);
	destroy_pair(parent, child);
	return ret;
}

/*
 * "-ioasids" in a parent's cgroup.subtree_control takes the controller off
 * its children: their files go, and what they had charged stays charged to
 * them, under their limits and counted in the parent, until it is freed.
 * Enabled again, a child starts afresh ("max", 0); the old charges are not
 * in its new files, only in the parent's.
 */
static int test_ioasids_disable_limit(const char *root)
{
	char *parent = NULL, *child = NULL;
	int ret = KSFT_FAIL, fd = -1, fresh = -1;

	if (!hook_for(__func__))
		return KSFT_SKIP;
	if (make_pair(root, &parent, &child))
		goto cleanup;
	fd = open_hook_in(child);
	if (fd < 0 || cg_write(child, "ioasids.max", "1") ||
	    charge(fd, "kernel", 1))
		goto cleanup;
	if (cg_write(parent, "cgroup.subtree_control", "-ioasids") ||
	    exists(child, "ioasids.max") || still_refused(fd))
		goto cleanup;
	if (cg_read_long(parent, "ioasids.current") != 1)
		goto cleanup;
	/* A file opened now is charged to the parent. */
	fresh = open_hook_in(child);
	if (fresh < 0 || charge(fresh, "kernel", 2) ||
	    cg_read_long(parent, "ioasids.current") != 3 ||
	    charge(fresh, "kernel", -2))
		goto cleanup;

	if (cg_write(parent, "cgroup.subtree_control", "+ioasids") ||
	    cg_read_strcmp(child, "ioasids.max", "max\n") ||
	    cg_read_long(child, "ioasids.current") != 0 ||
	    charge(fd, "kernel", 1) != -EDQUOT ||
	    cg_read_long(parent, "ioasids.current") != 1)
		goto cleanup;
	close(fd);
	fd = -1;
	if (cg_read_long(parent, "ioasids.current") != 0)
		goto cleanup;

	ret = KSFT_PASS;
cleanup:
	if (fd >= 0)
		close(fd);
	if (fresh >= 0)
		close(fresh);
	destroy_pair(parent, child);
	return ret;
}

/* peak: the high-water mark; a write resets it for that open file only. */
static int test_ioasids_peak(const char *root)
{
	int ret = KSFT_FAIL, fd = -1, p1 = -1, p2 = -1;
	char *cg;

	cg = cg_name(root, "ioasids_test");
	if (!cg || cg_create(cg))
		goto cleanup;
	fd = open_set_in(cg);
	if (fd < 0 || charge(fd, "fd", 4) || charge(fd, "fd", -3))
		goto cleanup;
	if (cg_read_long(cg, "ioasids.peak") != 4)
		goto cleanup;

	p1 = cg_open(cg, "ioasids.peak", O_RDWR);
	p2 = cg_open(cg, "ioasids.peak", O_RDWR);
	if (p1 < 0 || p2 < 0 || write(p1, "reset\n", 6) != 6)
		goto cleanup;
	if (cg_read_long_fd(p1) != 1 || cg_read_long_fd(p2) != 4 ||
	    cg_read_long(cg, "ioasids.peak") != 4)
		goto cleanup;
	if (charge(fd, "fd", 1) || charge(fd, "fd", -2))
		goto cleanup;
	if (cg_read_long_fd(p1) != 2 || cg_read_long(cg, "ioasids.peak") != 4)
		goto cleanup;
	/* A second reset of another file leaves the first one's mark alone. */
	if (write(p2, "reset\n", 6) != 6 || cg_read_long_fd(p2) != 0 ||
	    cg_read_long_fd(p1) != 2)
		goto cleanup;

	ret = KSFT_PASS;
cleanup:
	if (p1 >= 0)
		close(p1);
	if (p2 >= 0)
		close(p2);
	if (fd >= 0)
		close(fd);
	cg_destroy(cg);
	free(cg);
	return ret;
}

/* ioasids.stat: sets and usage per kind, over the subtree. */
static int test_ioasids_stat(const char *root)
{
	char *parent = NULL, *child = NULL;
	int ret = KSFT_FAIL, f1 = -1, f2 = -1;

	if (!hook_for(__func__))
		return KSFT_SKIP;
	if (make_pair(root, &parent, &child))
		goto cleanup;
	f1 = open_hook_in(child);
	f2 = open_set_in(child);
	if (f1 < 0 || f2 < 0)
		goto cleanup;
	if (charge(f1, "kernel", 1) || charge(f1, "sva", 2) ||
	    charge(f2, "fd", 3))
		goto cleanup;
	if (cg_read_strcmp(child, "ioasids.stat",
			   "sets 2\nkernel 1\nsva 2\nfd 3\n") ||
	    cg_read_strcmp(parent, "ioasids.stat",
			   "sets 2\nkernel 1\nsva 2\nfd 3\n") ||
	    cg_read_long(parent, "ioasids.current") != 6)
		goto cleanup;
	/* A refused charge shows nowhere. */
	if (cg_write(child, "ioasids.max", "6") || charge(f2, "fd", 1) != -EDQUOT ||
	    cg_read_strstr(child, "ioasids.stat", "fd 3\n"))
		goto cleanup;
	close(f1);
	f1 = -1;
	if (cg_read_strcmp(parent, "ioasids.stat",
			   "sets 1\nkernel 0\nsva 0\nfd 3\n"))
		goto cleanup;

	ret = KSFT_PASS;
cleanup:
	if (f1 >= 0)
		close(f1);
	if (f2 >= 0)
		close(f2);
	destroy_pair(parent, child);
	return ret;
}

/*
 * The capacity bounds everyone: ENOSPC, no limit event, and a "capacity"
 * event in the asking cgroup, its ancestors and the root.
 */
static int test_ioasids_capacity(const char *root)
{
	long saved = capacity_read(), base, root_events, root_max_events;
	char *parent = NULL, *cg = NULL;
	int ret = KSFT_FAIL, fd = -1;
	struct pollfd pfd;
	char buf[64];
	int efd = -1;

	if (!hook_for(__func__))
		return KSFT_SKIP;
	if (saved < 0 || make_pair(root, &parent, &cg))
		goto cleanup;
	root_events = capacity_events(root, "ioasids.events");
	root_max_events = events(root, "ioasids.events");
	efd = cg_open(root, "ioasids.events", O_RDONLY);
	if (root_events < 0 || root_max_events < 0 || efd < 0 ||
	    read(efd, buf, sizeof(buf)) <= 0)
		goto cleanup;
	base = cg_read_long(root, "ioasids.current");
	if (capacity_write(base + 2) ||
	    cg_read_long(root, "ioasids.capacity") != base + 2)
		goto cleanup;
	fd = open_set_in(cg);
	if (fd < 0 || charge(fd, "fd", 2))
		goto cleanup;
	if (charge(fd, "fd", 1) != -ENOSPC)
		goto cleanup;
	/* The capacity refused it, no limit: the root's "max" did not move. */
	if (events(cg, "ioasids.events") != 0 ||
	    events(root, "ioasids.events") != root_max_events)
		goto cleanup;
	if (capacity_events(cg, "ioasids.events") != 1 ||
	    capacity_events(cg, "ioasids.events.local") != 1 ||
	    capacity_events(parent, "ioasids.events") != 1 ||
	    capacity_events(parent, "ioasids.events.local") != 0 ||
	    capacity_events(root, "ioasids.events") != root_events + 1) {
		ksft_print_msg("capacity events not counted\n");
		goto cleanup;
	}
	/* And wakes whoever polls the root's events. */
	pfd = (struct pollfd){ .fd = efd, .events = POLLPRI };
	if (poll(&pfd, 1, 5000) != 1 || !(pfd.revents & POLLPRI))
		goto cleanup;
	/* A limit still wins where it is tighter. */
	if (charge(fd, "fd", -2) || cg_write(cg, "ioasids.max", "1") ||
	    charge(fd, "fd", 2) != -EDQUOT ||
	    capacity_events(cg, "ioasids.events") != 1)
		goto cleanup;

	ret = KSFT_PASS;
cleanup:
	if (fd >= 0)
		close(fd);
	if (efd >= 0)
		close(efd);
	capacity_write(saved);
	destroy_pair(parent, cg);
	return ret;
}

/*
 * cgroup v2 only: with no v1 files, the cgroup core refuses to mount the
 * controller on a v1 hierarchy (EINVAL), even when v2 does not use it.
 */
static int test_ioasids_v1(const char *root)
{
	char mnt[] = "/tmp/ioasids_v1.XXXXXX", buf[1024];
	int ret = KSFT_FAIL, err;

	/*
	 * The controller can sit on one hierarchy only: free it from v2. If
	 * a cgroup below the root uses it (systemd, a container manager),
	 * the test cannot run here: EBUSY is a skip, anything else a failure.
	 */
	err = write_errno(root, "cgroup.subtree_control", "-ioasids", 8);
	if (err) {
		ksft_print_msg("-ioasids at the root: %s\n", strerror(err));
		return err == EBUSY ? KSFT_SKIP : KSFT_FAIL;
	}
	err = EBUSY;
	if (!mkdtemp(mnt))
		goto cleanup;
	/*
	 * Removed cgroups of earlier tests keep the controller on v2 until
	 * their last reference goes (RCU, workqueues): a controller v1 could
	 * take would be EBUSY until then.
	 */
	for (int i = 0; i < SETTLE_POLLS && err == EBUSY; i++) {
		if (!mount("none", mnt, "cgroup", 0, "ioasids")) {
			ksft_print_msg("ioasids mounted on cgroup v1\n");
			umount(mnt);
			goto cleanup;
		}
		err = errno;
		if (err == EBUSY)
			usleep(100000);
	}
	if (err != EINVAL) {
		ksft_print_msg("mount -t cgroup -o ioasids: %s, want EINVAL\n",
			       strerror(err));
		cg_read(root, "cgroup.stat", buf, sizeof(buf));
		ksft_print_msg("root cgroup.stat: %s\n", buf);
		goto cleanup;
	}

	ret = KSFT_PASS;
cleanup:
	/*
	 * An unmounted v1 hierarchy dies only if it had no children at the
	 * unmount, and a removed child lingers until its last reference goes
	 * (RCU, workqueues). If the controller has not come back to v2 after
	 * a while, mount the hierarchy again and unmount it to retry the kill.
	 */
	for (int i = 0; i < SETTLE_POLLS; i++) {
		if (!cg_write(root, "cgroup.subtree_control", "+ioasids"))
			break;
		usleep(100000);
		if (i % 20 == 19 &&
		    cg_read_strstr(root, "cgroup.controllers", "ioasids") &&
		    !mount("none", mnt, "cgroup", 0, "ioasids"))
			umount(mnt);
	}
	rmdir(mnt);
	if (cg_read_strstr(root, "cgroup.subtree_control", "ioasids")) {
		ksft_print_msg("ioasids did not come back to cgroup v2\n");
		ret = KSFT_FAIL;
	}
	return ret;
}

#define T(x) { x, #x }
struct ioasids_test {
	int (*fn)(const char *root);
	const char *name;
} tests[] = {
	T(test_ioasids_files),
	T(test_ioasids_defaults),
	T(test_ioasids_max_writes),
	T(test_ioasids_limit_below_current),
	T(test_ioasids_events),
	T(test_ioasids_events_poll),
	T(test_ioasids_nested),
	T(test_ioasids_migration),
	T(test_ioasids_rmdir_live),
	T(test_ioasids_rmdir_limit),
	T(test_ioasids_disable_limit),
	T(test_ioasids_peak),
	T(test_ioasids_stat),
	T(test_ioasids_capacity),
	T(test_ioasids_v1),		/* last: it moves the controller */
};

#undef T

int main(int argc, char **argv)
{
	long saved_capacity;

	ksft_print_header();
	ksft_set_plan(ARRAY_SIZE(tests));
	if (cg_find_unified_root(root, sizeof(root), NULL))
		ksft_exit_skip("cgroup v2 isn't mounted\n");
	if (cg_read_strstr(root, "cgroup.controllers", "ioasids"))
		ksft_exit_skip("ioasids controller isn't available\n");
	if (access(DEV_IOASID, R_OK | W_OK))
		ksft_exit_skip("needs /dev/ioasid (CONFIG_IOASID_USER)\n");
	have_hook = !access(CHARGE_FILE, R_OK | W_OK) &&
		    !access(CAPACITY_FILE, R_OK | W_OK);
	if (cg_read_strstr(root, "cgroup.subtree_control", "ioasids"))
		if (cg_write(root, "cgroup.subtree_control", "+ioasids"))
			ksft_exit_skip("Failed to set ioasids controller\n");

	/*
	 * The tests take a few IDs at a time beside whatever the system
	 * holds: below MIN_CAPACITY (no IOMMU with PASIDs, or a small one
	 * such as QEMU's VT-d, 1), the hook gives them a namespace of 2^20,
	 * and without it they cannot run.
	 */
	saved_capacity = cg_read_long(root, "ioasids.capacity");
	if (saved_capacity < 0)
		ksft_exit_fail_msg("cannot read ioasids.capacity\n");
	if (saved_capacity < MIN_CAPACITY && !have_hook)
		ksft_exit_skip("capacity %ld, and no CONFIG_CGROUP_IOASIDS_TEST to raise it\n",
			       saved_capacity);
	if (saved_capacity < MIN_CAPACITY && capacity_write(1 << 20))
		ksft_exit_fail_msg("cannot set the capacity\n");

	for (size_t i = 0; i < ARRAY_SIZE(tests); i++) {
		long before = cg_read_long(root, "ioasids.current");
		int ret = tests[i].fn(root);
		long after = cg_read_long(root, "ioasids.current");

		if (ret == KSFT_PASS && after != before) {
			ksft_print_msg("ioasids.current %ld -> %ld\n",
				       before, after);
			ret = KSFT_FAIL;
		}
		switch (ret) {
		case KSFT_PASS:
			ksft_test_result_pass("%s\n", tests[i].name);
			break;
		case KSFT_SKIP:
			ksft_test_result_skip("%s\n", tests[i].name);
			break;
		default:
			ksft_test_result_fail("%s\n", tests[i].name);
			break;
		}
	}

	if (have_hook)
		capacity_write(saved_capacity);
	ksft_finished();
}

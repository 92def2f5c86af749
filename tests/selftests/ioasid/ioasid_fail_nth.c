// SPDX-License-Identifier: GPL-2.0
/*
 * Fail every allocation and user copy on the paths of /dev/ioasid, the mock
 * PASID hardware, SVA binds and the ioasids cgroup files, one at a time, as
 * tools/testing/selftests/iommu/iommufd_fail_nth.c does for iommufd.
 *
 * For each call, n = 1, 2, 3 ...: a fresh child process sets up what the
 * call needs, arms /proc/self/task/<tid>/fail-nth with n (the n-th
 * kmalloc, page allocation or copy_{from,to}_user from then on fails) and
 * makes the call, once. The sweep ends at the first n the call no longer
 * reaches. After each attempt:
 *  - a call that failed returned ENOMEM or EFAULT, and changed nothing: the
 *    cgroup's current, max and events, every set's count (debugfs
 *    ioasid/sets), the mock devices' PASID tables, and the lowest free ID,
 *    which an ID leaked from the allocator would move;
 *  - a call that succeeded did exactly what it does without a fault;
 *  - once the child has exited, the system is as it was before the test.
 *
 * Run it on a kernel with CONFIG_FAULT_INJECTION, CONFIG_FAILSLAB,
 * CONFIG_FAIL_PAGE_ALLOC and CONFIG_FAULT_INJECTION_USERCOPY; it is looking
 * for leaks (kmemleak), splats (KASAN, lockdep) and stale state.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <signal.h>
#include <stddef.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "ioasid_util.h"
#include "ioasid_mock.h"

#define MAX_NTH		2000
#define MOCK_ADD	"/sys/kernel/debug/ioasid_mock/add"
#define MOCK_REMOVE	"/sys/kernel/debug/ioasid_mock/remove"
#define NR_IDS		64

static bool have_fault_injection;

/* What a call must leave as it was when it fails. */
struct nth_state {
	long root;
	long cg;
	int mock[2];
	int devices;		/* mock devices, by their debugfs tables */
	int nodes;		/* and by their /dev nodes */
	__u32 count;		/* IDs of the file under test, if open */
	__u32 lowest;		/* the lowest free ID */
	bool sub;		/* the cgroup has a child "sub" */
	char max[32];
	char events[128];
	char sets[4096];
};

struct nth_ctx {
	const char *cg;
	int fd;			/* /dev/ioasid under test, or -1 */
	int probe;		/* another /dev/ioasid, to find the lowest free ID */
	int dev[2];		/* /dev/ioasid_mock0 and 1, or -1 */
	int ctl;		/* a debugfs file of the mock driver */
	__u32 ids[NR_IDS];
};

/*
 * One call under fault injection. @prepare is not swept; @call is, and is
 * one system call. A call that succeeds changes the cgroup's current by
 * @d_current, the mock tables by @d_mock[] and the number of mock devices
 * by @d_devices (a device added stays until back_to_base() removes every
 * device past the first two). @keeps_mm_pasid: the mm's
 * PASID, once allocated, stays with the mm until it exits even if the bind
 * fails later; the parent's check after the exit covers it. @no_points: the
 * call neither allocates nor copies from or to user space.
 */
struct nth_op {
	int (*prepare)(struct nth_ctx *c);
	int (*call)(struct nth_ctx *c);
	int d_current;
	int d_mock[2];
	int d_devices;
	bool keeps_mm_pasid;
	bool closes_fd;
	bool no_points;
};

static int writeat(int dfd, const char *name, const char *val)
{
	int fd = openat(dfd, name, O_WRONLY);
	ssize_t ret;

	if (fd < 0)
		return -errno;
	ret = write(fd, val, strlen(val));
	close(fd);
	return ret == (ssize_t)strlen(val) ? 0 : -EIO;
}

/*
 * Let fail-nth fail any allocation, sleeping ones too, and keep the console
 * quiet: a fault injected on purpose is not a report.
 */
static __attribute__((constructor)) void setup_fault_injection(void)
{
	DIR *debugfs = opendir("/sys/kernel/debug");
	struct dirent *d;
	char name[300];

	if (!debugfs)
		return;
	if (writeat(dirfd(debugfs), "failslab/ignore-gfp-wait", "N") ||
	    writeat(dirfd(debugfs), "fail_page_alloc/ignore-gfp-wait", "N") ||
	    writeat(dirfd(debugfs), "fail_page_alloc/ignore-gfp-highmem", "N") ||
	    access("/sys/kernel/debug/fail_usercopy", F_OK)) {
		closedir(debugfs);
		return;
	}
	while ((d = readdir(debugfs))) {
		if (strncmp(d->d_name, "fail", 4))
			continue;
		snprintf(name, sizeof(name), "%s/verbose", d->d_name);
		writeat(dirfd(debugfs), name, "0");
	}
	closedir(debugfs);
	have_fault_injection = true;
}

static int fail_nth_open(void)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth",
		 (long)syscall(SYS_gettid));
	return open(path, O_RDWR);
}

/*
 * Disarm fail-nth; true if the fault was injected. Reading and writing the
 * file copy to and from user space, which counts down too: a read that
 * fails with EFAULT was the n-th point itself, so the call did not reach
 * it, and a write that does is repeated.
 */
static bool nth_disarm(int fd)
{
	char buf[32] = "";
	bool injected;
	ssize_t len;

	len = pread(fd, buf, sizeof(buf) - 1, 0);
	injected = len > 0 && strtoul(buf, NULL, 10) == 0;
	while (pwrite(fd, "0", 1, 0) < 0 && errno == EFAULT)
		;
	return injected;
}

static void read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t got = 0, n;

	buf[0] = '\0';
	if (fd < 0)
		return;
	while ((size_t)got < len - 1 &&
	       (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += n;
	buf[got] = '\0';
	close(fd);
}

/* From 1 up: a file's default allocations start at 256. */
static __u32 lowest_free(int probe)
{
	__u32 id;

	if (ioasid_alloc_ids(probe, 1, ~0U, 1, &id))
		return 0;
	ioasid_free_ids(probe, 1, &id);
	return id;
}

/* Entries of directory @dir whose names start with "ioasid_mock". */
static int count_mock(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += !strncmp(e->d_name, "ioasid_mock", 11);
	closedir(d);
	return n;
}

static void snapshot(struct nth_ctx *c, struct nth_state *s)
{
	char path[PATH_MAX];

	memset(s, 0, sizeof(*s));
	s->root = cg_current(CGROOT);
	s->cg = cg_current(c->cg);
	s->mock[0] = mock_entries(0);
	s->mock[1] = mock_entries(1);
	s->devices = count_mock("/sys/kernel/debug/ioasid_mock");
	s->nodes = count_mock("/dev");
	s->count = c->fd >= 0 ? ioasid_count(c->fd) : 0;
	s->lowest = lowest_free(c->probe);
	snprintf(path, sizeof(path), "%s/ioasids.max", c->cg);
	read_text(path, s->max, sizeof(s->max));
	snprintf(path, sizeof(path), "%s/ioasids.events", c->cg);
	read_text(path, s->events, sizeof(s->events));
	read_text(IOASID_SETS, s->sets, sizeof(s->sets));
	snprintf(path, sizeof(path), "%s/sub", c->cg);
	s->sub = !access(path, F_OK);
}

static bool same_long(const char *what, long a, long b)
{
	if (a != b)
		fprintf(stderr, "#  %s: %ld before, %ld after\n", what, a, b);
	return a == b;
}

/* Print what differs; true if nothing does. */
static bool same_state(const struct nth_state *a, const struct nth_state *b,
		       bool sets)
{
	bool same = true;

	same &= same_long("root current", a->root, b->root);
	same &= same_long("current", a->cg, b->cg);
	same &= same_long("mock0 entries", a->mock[0], b->mock[0]);
	same &= same_long("mock1 entries", a->mock[1], b->mock[1]);
	same &= same_long("mock devices", a->devices, b->devices);
	same &= same_long("mock device nodes", a->nodes, b->nodes);
	same &= same_long("IDs of the file", a->count, b->count);
	same &= same_long("lowest free ID", a->lowest, b->lowest);
	same &= same_long("child cgroup", a->sub, b->sub);
	if (strcmp(a->max, b->max) || strcmp(a->events, b->events)) {
		fprintf(stderr, "#  ioasids.max or events changed\n");
		same = false;
	}
	if (sets && strcmp(a->sets, b->sets)) {
		fprintf(stderr, "#  sets before:\n%s#  sets after:\n%s",
			a->sets, b->sets);
		same = false;
	}
	return same;
}

/* What a call's child reports through its exit status. */
enum {
	NTH_DONE,		/* succeeded, and never reached the n-th point */
	NTH_FAILED,		/* failed cleanly at the n-th point */
	NTH_RECOVERED,		/* the n-th point failed, the call did not */
	NTH_BAD_PREPARE = 10,
	NTH_BAD_ERRNO,
	NTH_LEFT_BEHIND,
	NTH_WRONG_RESULT,
};

static int nth_child(const struct nth_op *op, const char *cg, unsigned int n)
{
	struct nth_state before, after;
	struct nth_ctx c = {
		.cg = cg, .fd = -1, .dev = { -1, -1 },
	};
	char arm[16];
	bool injected;
	int nth, ret;

	if (cg_enter(cg))
		return NTH_BAD_PREPARE;
	c.probe = open("/dev/ioasid", O_RDWR);
	nth = fail_nth_open();
	if (c.probe < 0 || nth < 0 || op->prepare(&c))
		return NTH_BAD_PREPARE;
	snapshot(&c, &before);

	snprintf(arm, sizeof(arm), "%u", n);
	if (pwrite(nth, arm, strlen(arm), 0) != (ssize_t)strlen(arm))
		return NTH_BAD_PREPARE;
	ret = op->call(&c);
	injected = nth_disarm(nth);

	if (op->closes_fd)
		c.fd = -1;
	snapshot(&c, &after);
	if (ret) {
		if (ret != -ENOMEM && ret != -EFAULT) {
			fprintf(stderr, "#  fail-nth %u: errno %d (%s)\n", n,
				-ret, strerror(-ret));
			return NTH_BAD_ERRNO;
		}
		if (op->keeps_mm_pasid && after.cg == before.cg + 1) {
			/* The mm's PASID stays: compare what else there is. */
			after.cg--;
			after.root--;
			after.lowest = before.lowest;
			if (!same_state(&before, &after, false))
				return NTH_LEFT_BEHIND;
			return NTH_FAILED;
		}
		if (!same_state(&before, &after, true)) {
			fprintf(stderr, "#  fail-nth %u: errno %d left state\n",
				n, -ret);
			return NTH_LEFT_BEHIND;
		}
		return NTH_FAILED;
	}
	if (after.cg - before.cg != op->d_current ||
	    after.root - before.root != op->d_current ||
	    after.mock[0] - before.mock[0] != op->d_mock[0] ||
	    after.mock[1] - before.mock[1] != op->d_mock[1] ||
	    after.devices - before.devices != op->d_devices ||
	    after.nodes - before.nodes != op->d_devices) {
		fprintf(stderr, "#  fail-nth %u: the call did not do its work\n",
			n);
		same_state(&before, &after, false);
		return NTH_WRONG_RESULT;
	}
	return injected ? NTH_RECOVERED : NTH_DONE;
}

/* debugfs ioasid/sets before the test. */
static char sets_base[4096];

FIXTURE(nth) {
	char cg[PATH_MAX];
	long root_base;
};

FIXTURE_SETUP(nth)
{
	if (access("/dev/ioasid", R_OK | W_OK))
		SKIP(return, "no /dev/ioasid");
	if (!have_fault_injection)
		SKIP(return, "no fault injection (failslab, fail_usercopy)");
	ASSERT_EQ(0, cg_make("nth", self->cg, sizeof(self->cg)));
	ASSERT_EQ(0, cg_write(self->cg, "ioasids.max", "max"));
	self->root_base = cg_current(CGROOT);
	read_text(IOASID_SETS, sets_base, sizeof(sets_base));
}

FIXTURE_TEARDOWN(nth)
{
	rmdir(self->cg);
	rmdir(TESTCG);
}

/*
 * Once a child has exited, the system is as it was: wait out its mm. What a
 * successful call made in the cgroup itself is undone first.
 */
static bool back_to_base(const char *cg, long root_base)
{
	char sets[4096], sub[PATH_MAX + 8];
	int i;

	snprintf(sub, sizeof(sub), "%s/sub", cg);
	rmdir(sub);
	cg_write(cg, "ioasids.max", "max");
	/* Devices a call added. */
	for (i = 2; i < 64; i++) {
		snprintf(sub, sizeof(sub), "ioasid_mock%d", i);
		if (mock_table(i, NULL, 0) >= 0)
			writeat(AT_FDCWD, MOCK_REMOVE, sub);
	}

	for (i = 0; i < 500; i++) {
		read_text(IOASID_SETS, sets, sizeof(sets));
		if (!strcmp(sets, sets_base) &&
		    cg_current(CGROOT) == root_base && cg_current(cg) == 0 &&
		    mock_entries(0) <= 0 && mock_entries(1) <= 0)
			return true;
		switch_every_cpu();
		usleep(10000);
	}
	fprintf(stderr, "#  sets now:\n%s#  sets before the test:\n%s",
		sets, sets_base);
	return false;
}

static void sweep(struct __test_metadata *_metadata, const char *cg,
		  long root_base, const struct nth_op *op)
{
	unsigned int n, failed = 0, recovered = 0;
	int status = -1;
	pid_t pid;

	for (n = 1; n <= MAX_NTH; n++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0)
			_exit(nth_child(op, cg, n));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFEXITED(status)) {
			TH_LOG("fail-nth %u: the child died, status %#x", n,
			       status);
		}
		ASSERT_TRUE(back_to_base(cg, root_base)) {
			TH_LOG("fail-nth %u: the exited child left state", n);
		}
		status = WEXITSTATUS(status);
		ASSERT_GT(NTH_BAD_PREPARE, status) {
			TH_LOG("fail-nth %u: result %d", n, status);
		}
		if (status == NTH_DONE)
			break;
		if (status == NTH_FAILED)
			failed++;
		else
			recovered++;
	}
	ASSERT_EQ(NTH_DONE, status);
	ASSERT_TRUE(n > 1 || op->no_points) {
		TH_LOG("the call reached no fault injection point");
	}
	ksft_print_msg("%s: %u points, %u failed cleanly, %u recovered\n",
		       _metadata->name, n - 1, failed, recovered);
}

/* ---- the calls ---- */

static int open_fd(struct nth_ctx *c)
{
	c->fd = open("/dev/ioasid", O_RDWR);
	return c->fd < 0 ? -errno : 0;
}

static int open_devs(struct nth_ctx *c)
{
	c->dev[0] = open("/dev/ioasid_mock0", O_RDWR);
	c->dev[1] = open("/dev/ioasid_mock1", O_RDWR);
	return c->dev[0] < 0 || c->dev[1] < 0 ? -errno : 0;
}

static int nothing(struct nth_ctx *c)
{
	return 0;
}

/* Two IDs that fit the small device's table, and @count - 2 more. */
static int with_ids(struct nth_ctx *c, __u32 count)
{
	return open_fd(c) ?: ioasid_alloc_ids(c->fd, 1, 15, 2, c->ids) ?:
	       count > 2 ? ioasid_alloc_ids(c->fd, 0, ~0U, count - 2,
					    c->ids + 2) : 0;
}

static int with_two_ids(struct nth_ctx *c)
{
	return with_ids(c, 2);
}

static int with_all_ids(struct nth_ctx *c)
{
	return with_ids(c, NR_IDS);
}

static int bind_cmd(struct nth_ctx *c, unsigned long req, int dev, __u32 id)
{
	struct ioasid_bind cmd = {
		.size = sizeof(cmd), .dev_fd = c->dev[dev], .id = id,
	};

	return ioctl(c->fd, req, &cmd) ? -errno : 0;
}

static int with_devs(struct nth_ctx *c)
{
	return with_two_ids(c) ?: open_devs(c);
}

/* All 64 IDs in mock0's table, the first two in mock1's as well. */
static int with_binds(struct nth_ctx *c)
{
	int i, ret;

	ret = with_all_ids(c) ?: open_devs(c) ?:
	      bind_cmd(c, IOASID_BIND, 1, c->ids[0]) ?:
	      bind_cmd(c, IOASID_BIND, 1, c->ids[1]);
	for (i = 0; i < NR_IDS && !ret; i++)
		ret = bind_cmd(c, IOASID_BIND, 0, c->ids[i]);
	return ret;
}

static int call_open(struct nth_ctx *c)
{
	return open_fd(c);
}

static int call_info(struct nth_ctx *c)
{
	struct ioasid_info info;

	return get_info(c->fd, &info);
}

static int call_alloc_one(struct nth_ctx *c)
{
	return ioasid_alloc_ids(c->fd, 0, ~0U, 1, c->ids + 10);
}

static int call_alloc_16(struct nth_ctx *c)
{
	return ioasid_alloc_ids(c->fd, 0, ~0U, 16, c->ids + 10);
}

static int call_alloc_48(struct nth_ctx *c)
{
	return ioasid_alloc_ids(c->fd, 0, ~0U, 48, c->ids + 10);
}

static int call_alloc_spid(struct nth_ctx *c)
{
	struct ioasid_alloc cmd = {
		.size = sizeof(cmd), .flags = IOASID_ALLOC_SPID, .max = ~0U,
		.count = 1, .spid = 7, .ids = (uintptr_t)(c->ids + 10),
	};

	return ioctl(c->fd, IOASID_ALLOC, &cmd) ? -errno : 0;
}

static int call_free_one(struct nth_ctx *c)
{
	return ioasid_free_ids(c->fd, 1, c->ids);
}

static int call_free_all(struct nth_ctx *c)
{
	return ioasid_free_ids(c->fd, NR_IDS, c->ids);
}

static int call_quota(struct nth_ctx *c)
{
	struct ioasid_set_quota cmd = { .size = sizeof(cmd), .quota = 5 };

	return ioctl(c->fd, IOASID_SET_QUOTA, &cmd) ? -errno : 0;
}

static int with_spid(struct nth_ctx *c)
{
	return with_two_ids(c) ?: call_alloc_spid(c);
}

static int call_find(struct nth_ctx *c)
{
	struct ioasid_find cmd = {
		.size = sizeof(cmd), .flags = IOASID_FIND_BY_SPID, .spid = 7,
	};

	return ioctl(c->fd, IOASID_FIND, &cmd) ? -errno : 0;
}

static int call_bind(struct nth_ctx *c)
{
	return bind_cmd(c, IOASID_BIND, 0, c->ids[0]);
}

static int call_bind_small(struct nth_ctx *c)
{
	return bind_cmd(c, IOASID_BIND, 1, c->ids[0]);
}

static int call_unbind(struct nth_ctx *c)
{
	return bind_cmd(c, IOASID_UNBIND, 0, c->ids[0]);
}

static int call_free_bound(struct nth_ctx *c)
{
	return ioasid_free_ids(c->fd, 1, c->ids);
}

static int call_close(struct nth_ctx *c)
{
	return close(c->fd) ? -errno : 0;
}

static int call_close_dev(struct nth_ctx *c)
{
	return close(c->dev[0]) ? -errno : 0;
}

static int call_sva_bind(struct nth_ctx *c)
{
	__u32 pasid;

	return ioctl(c->dev[0], IOASID_MOCK_SVA_BIND, &pasid) ? -errno : 0;
}

static int sva_bound(struct nth_ctx *c)
{
	return open_devs(c) ?: call_sva_bind(c);
}

/* The mm has its PASID already: the bind is only the device's part. */
static int sva_unbound(struct nth_ctx *c)
{
	return sva_bound(c) ?:
	       (ioctl(c->dev[0], IOASID_MOCK_SVA_UNBIND) ? -errno : 0);
}

static int call_sva_unbind(struct nth_ctx *c)
{
	return ioctl(c->dev[0], IOASID_MOCK_SVA_UNBIND) ? -errno : 0;
}

static int open_mock_add(struct nth_ctx *c)
{
	c->ctl = open(MOCK_ADD, O_WRONLY);
	return c->ctl < 0 ? -errno : 0;
}

/* Hot-plug a device: the driver's probe, misc and core registration. */
static int call_mock_add(struct nth_ctx *c)
{
	return write(c->ctl, "8", 1) == 1 ? 0 : -errno;
}

static int call_write_max(struct nth_ctx *c)
{
	return cg_write(c->cg, "ioasids.max", "1000");
}

static int call_mkdir(struct nth_ctx *c)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/sub", c->cg);
	return mkdir(path, 0755) ? -errno : 0;
}

/* ---- one test per call ---- */

/*
 * A sweep forks a child per fault point and snapshots the system around
 * each: on a loaded 2-core machine under TCG, with KASAN and lockdep, the
 * harness's default 30 s is far too little for the larger calls. Give each
 * sweep 15 minutes: a deadline for a hang, not an estimate.
 */
#define NTH_TIMEOUT	900

#define NTH_TEST(name, ...)						\
	static const struct nth_op op_##name = { __VA_ARGS__ };	\
	TEST_F_TIMEOUT(nth, name, NTH_TIMEOUT)				\
	{								\
		sweep(_metadata, self->cg, self->root_base, &op_##name); \
	}

NTH_TEST(open, .prepare = nothing, .call = call_open)
NTH_TEST(close, .prepare = with_all_ids, .call = call_close,
	 .d_current = -NR_IDS, .closes_fd = true)
NTH_TEST(get_info, .prepare = with_two_ids, .call = call_info)
NTH_TEST(alloc_one, .prepare = with_two_ids, .call = call_alloc_one,
	 .d_current = 1)
NTH_TEST(alloc_16, .prepare = with_two_ids, .call = call_alloc_16,
	 .d_current = 16)
NTH_TEST(alloc_48, .prepare = with_two_ids, .call = call_alloc_48,
	 .d_current = 48)
NTH_TEST(alloc_spid, .prepare = with_two_ids, .call = call_alloc_spid,
	 .d_current = 1)
NTH_TEST(free_one, .prepare = with_two_ids, .call = call_free_one,
	 .d_current = -1)
NTH_TEST(free_64, .prepare = with_all_ids, .call = call_free_all,
	 .d_current = -NR_IDS)
NTH_TEST(set_quota, .prepare = with_two_ids, .call = call_quota)
NTH_TEST(find, .prepare = with_spid, .call = call_find)
NTH_TEST(bind, .prepare = with_devs, .call = call_bind,
	 .d_mock = { 1, 0 })
NTH_TEST(bind_small, .prepare = with_devs, .call = call_bind_small,
	 .d_mock = { 0, 1 })
NTH_TEST(unbind, .prepare = with_binds, .call = call_unbind,
	 .d_mock = { -1, 0 })
NTH_TEST(free_bound, .prepare = with_binds, .call = call_free_bound,
	 .d_current = -1, .d_mock = { -1, -1 })
NTH_TEST(close_bound, .prepare = with_binds, .call = call_close,
	 .d_current = -NR_IDS, .d_mock = { -NR_IDS, -2 }, .closes_fd = true)
/* Entries stay until their IDs go, whatever happens to the device's fd. */
NTH_TEST(close_device, .prepare = with_binds, .call = call_close_dev)
NTH_TEST(sva_first_bind, .prepare = open_devs, .call = call_sva_bind,
	 .d_current = 1, .d_mock = { 1, 0 }, .keeps_mm_pasid = true)
NTH_TEST(sva_rebind, .prepare = sva_unbound, .call = call_sva_bind,
	 .d_mock = { 1, 0 })
NTH_TEST(sva_unbind, .prepare = sva_bound, .call = call_sva_unbind,
	 .d_mock = { -1, 0 }, .no_points = true)
NTH_TEST(mock_add, .prepare = open_mock_add, .call = call_mock_add,
	 .d_devices = 1)
NTH_TEST(write_max, .prepare = nothing, .call = call_write_max)
NTH_TEST(mkdir, .prepare = nothing, .call = call_mkdir)

static void __attribute__((destructor)) remove_test_cgroup(void)
{
	rmdir(TESTCG "/nth/sub");
	rmdir(TESTCG "/nth");
	rmdir(TESTCG);
}

TEST_HARNESS_MAIN

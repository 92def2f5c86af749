// SPDX-License-Identifier: GPL-2.0
/*
 * PASIDs in hardware tables, on the mock PASID hardware
 * (CONFIG_IOASID_MOCK_HW): IOASID_BIND and IOASID_UNBIND on /dev/ioasid,
 * and SVA binds through the real iommu_sva_bind_device().
 *
 * /dev/ioasid_mock0 has a table of 2^20 PASIDs, /dev/ioasid_mock1 of 16.
 * After every test both tables are empty and ioasids.current is back
 * where it was. The hot-plug tests add devices of their own and remove
 * them.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "kselftest_harness.h"
#include "ioasid_util.h"
#include "ioasid_mock.h"

#define SMALL_PASIDS	16

static int ioasid_bind_cmd(int fd, unsigned long req, int dev_fd, __u32 id)
{
	struct ioasid_bind cmd = {
		.size = sizeof(cmd), .dev_fd = dev_fd, .id = id,
	};

	return ioctl(fd, req, &cmd) ? -errno : 0;
}

static int bind_id(int fd, int dev_fd, __u32 id)
{
	return ioasid_bind_cmd(fd, IOASID_BIND, dev_fd, id);
}

static int unbind_id(int fd, int dev_fd, __u32 id)
{
	return ioasid_bind_cmd(fd, IOASID_UNBIND, dev_fd, id);
}

/*
 * Bind the SVA of a new process in @cg to mock device @n, report the PASID
 * or -errno through a pipe, and wait to be killed. Returns the child's pid.
 */
static pid_t sva_child(const char *cg, int n, long *result)
{
	char path[64];
	int pipefd[2];
	pid_t pid;

	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (pid == 0) {
		__u32 pasid;
		long ret;
		int dev;

		close(pipefd[0]);
		cg_enter(cg);
		snprintf(path, sizeof(path), "/dev/ioasid_mock%d", n);
		dev = open(path, O_RDWR);
		if (dev < 0)
			ret = -errno;
		else
			ret = ioctl(dev, IOASID_MOCK_SVA_BIND, &pasid) ?
			      -errno : (long)pasid;
		if (write(pipefd[1], &ret, sizeof(ret)) != sizeof(ret))
			_exit(1);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	if (pid < 0 || read(pipefd[0], result, sizeof(*result)) !=
		       sizeof(*result))
		*result = -EIO;
	close(pipefd[0]);
	return pid;
}

static void reap(pid_t pid)
{
	if (pid <= 0)	/* never kill(-1): every process */
		return;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

#define MOCK_CTL	"/sys/kernel/debug/ioasid_mock/"

static int mock_ctl(const char *file, const char *val)
{
	char path[PATH_MAX];
	int fd, ret = 0;

	snprintf(path, sizeof(path), MOCK_CTL "%s", file);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * Hot-plug a mock device with 2^@bits PASIDs: its number (the lowest
 * without a table, as the driver picks it), or -errno.
 */
static int mock_add(unsigned int bits)
{
	char val[16];
	int n = 0, ret;

	while (mock_table(n, NULL, 0) >= 0)
		n++;
	snprintf(val, sizeof(val), "%u", bits);
	ret = mock_ctl("add", val);
	if (ret)
		return ret;
	return mock_entries(n) == 0 ? n : -ENOENT;
}

static int mock_remove(int n)
{
	char val[32];

	snprintf(val, sizeof(val), "ioasid_mock%d", n);
	return mock_ctl("remove", val);
}

static int mock_open(int n)
{
	char path[64];

	snprintf(path, sizeof(path), "/dev/ioasid_mock%d", n);
	return open(path, O_RDWR);
}

FIXTURE(hw) {
	char cg[PATH_MAX];
	long root_base;
	int fd;
	int dev[2];
	int added;	/* a device a test added, removed if it fails */
};

FIXTURE_SETUP(hw)
{
	self->added = -1;
	self->fd = -1;
	self->dev[0] = -1;
	self->dev[1] = -1;
	if (mock_entries(0) < 0 || access("/dev/ioasid_mock1", R_OK))
		SKIP(return, "no mock PASID hardware (CONFIG_IOASID_MOCK_HW)");
	ASSERT_EQ(0, cg_make("hw", self->cg, sizeof(self->cg)));
	ASSERT_EQ(0, cg_write(self->cg, "ioasids.max", "max"));
	ASSERT_EQ(0, cg_enter(self->cg));
	self->root_base = cg_current(CGROOT);
	self->fd = open("/dev/ioasid", O_RDWR);
	ASSERT_LE(0, self->fd);
	self->dev[0] = open("/dev/ioasid_mock0", O_RDWR);
	ASSERT_LE(0, self->dev[0]);
	self->dev[1] = open("/dev/ioasid_mock1", O_RDWR);
	ASSERT_LE(0, self->dev[1]);
	ASSERT_EQ(0, mock_entries(0));
	ASSERT_EQ(0, mock_entries(1));
}

FIXTURE_TEARDOWN(hw)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->dev[0] >= 0)
		close(self->dev[0]);
	if (self->dev[1] >= 0)
		close(self->dev[1]);
	if (self->added >= 0)
		EXPECT_EQ(0, mock_remove(self->added));
	/* Nothing stays in hardware, nothing stays charged. */
	EXPECT_EQ(0, mock_entries(0));
	EXPECT_EQ(0, mock_entries(1));
	EXPECT_EQ(self->root_base, wait_current(CGROOT, self->root_base));
	cg_enter(CGROOT);
	rmdir(self->cg);
	rmdir(TESTCG);
}

TEST_F(hw, bind_unbind)
{
	__u32 id;

	ASSERT_EQ(0, ioasid_alloc_ids(self->fd, 1, SMALL_PASIDS - 1, 1, &id));
	ASSERT_EQ(0, bind_id(self->fd, self->dev[0], id));
	ASSERT_EQ(0, bind_id(self->fd, self->dev[1], id));
	EXPECT_TRUE(mock_has(0, id));
	EXPECT_TRUE(mock_has(1, id));
	EXPECT_EQ(1, mock_entries(0));
	EXPECT_EQ(1, cg_current(self->cg));

	ASSERT_EQ(0, unbind_id(self->fd, self->dev[0], id));
	EXPECT_EQ(0, mock_entries(0));
	EXPECT_TRUE(mock_has(1, id));
	ASSERT_EQ(0, unbind_id(self->fd, self->dev[1], id));
	EXPECT_EQ(0, mock_entries(1));
	/* Unbinding does not free: the ID is still the file's. */
	EXPECT_EQ(1, cg_current(self->cg));
	EXPECT_EQ(1, ioasid_count(self->fd));
	ASSERT_EQ(0, ioasid_free_ids(self->fd, 1, &id));
	EXPECT_EQ(0, cg_current(self->cg));
}

TEST_F(hw, bind_errors)
{
	struct ioasid_bind cmd = { .size = sizeof(cmd), .flags = 1 };
	int other, null, file, closed;
	__u32 id, big, theirs;

	ASSERT_EQ(0, ioasid_alloc_ids(self->fd, 1, SMALL_PASIDS - 1, 1, &id));
	ASSERT_EQ(0, ioasid_alloc_ids(self->fd, SMALL_PASIDS, ~0U, 1, &big));
	other = open("/dev/ioasid", O_RDWR);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, ioasid_alloc_one(other, &theirs));

	/* Not a file, not a device, not a PASID-capable device. */
	closed = open("/dev/null", O_RDWR);
	ASSERT_LE(0, closed);
	close(closed);
	EXPECT_EQ(-EBADF, bind_id(self->fd, -1, id));
	EXPECT_EQ(-EBADF, bind_id(self->fd, closed, id));
	null = open("/dev/null", O_RDWR);
	file = open("/proc/self/status", O_RDONLY);
	ASSERT_LE(0, null);
	ASSERT_LE(0, file);
	EXPECT_EQ(-ENODEV, bind_id(self->fd, null, id));
	EXPECT_EQ(-ENODEV, bind_id(self->fd, file, id));
	EXPECT_EQ(-ENODEV, bind_id(self->fd, self->fd, id));
	EXPECT_EQ(-ENODEV, unbind_id(self->fd, null, id));
	close(null);
	close(file);

	/* Not this file's ID: never allocated, or another file's. */
	EXPECT_EQ(-ENOENT, bind_id(self->fd, self->dev[0], id + 1000));
	EXPECT_EQ(-ENOENT, bind_id(self->fd, self->dev[0], theirs));
	EXPECT_EQ(-ENOENT, bind_id(self->fd, self->dev[0], 0));
	/* Beyond the small device's table. */
	EXPECT_EQ(-EOVERFLOW, bind_id(self->fd, self->dev[1], big));
	/* Twice. */
	ASSERT_EQ(0, bind_id(self->fd, self->dev[1], id));
	EXPECT_EQ(-EEXIST, bind_id(self->fd, self->dev[1], id));
	/* Another file cannot unbind it, nor unbind what is not bound. */
	EXPECT_EQ(-ENOENT, unbind_id(other, self->dev[1], id));
	EXPECT_EQ(-ENOENT, unbind_id(self->fd, self->dev[0], id));
	EXPECT_EQ(-ENOENT, unbind_id(self->fd, self->dev[1], big));
	/* Flags, and a struct too short to hold the ID. */
	cmd.dev_fd = self->dev[0];
	cmd.id = big;
	EXPECT_EQ(-1, ioctl(self->fd, IOASID_BIND, &cmd));
	EXPECT_EQ(EOPNOTSUPP, errno);
	cmd.flags = 0;
	cmd.size = offsetof(struct ioasid_bind, id);
	EXPECT_EQ(-1, ioctl(self->fd, IOASID_BIND, &cmd));
	EXPECT_EQ(EINVAL, errno);

	/* Nothing but the one bind went through. */
	EXPECT_EQ(0, mock_entries(0));
	EXPECT_EQ(1, mock_entries(1));
	EXPECT_EQ(3, cg_current(self->cg));
	ASSERT_EQ(0, unbind_id(self->fd, self->dev[1], id));
	close(other);
}

/* Freeing a bound ID clears every hardware entry before it is reused. */
TEST_F(hw, free_while_bound)
{
	__u32 id, again;

	ASSERT_EQ(0, ioasid_alloc_ids(self->fd, 1, SMALL_PASIDS - 1, 1, &id));
	ASSERT_EQ(0, bind_id(self->fd, self->dev[0], id));
	ASSERT_EQ(0, bind_id(self->fd, self->dev[1], id));
	ASSERT_EQ(0, ioasid_free_ids(self->fd, 1, &id));
	EXPECT_EQ(0, mock_entries(0));
	EXPECT_EQ(0, mock_entries(1));
	EXPECT_EQ(0, cg_current(self->cg));
	EXPECT_EQ(0, ioasid_count(self->fd));
	/* Freed: it cannot be bound or unbound, and it can be had again. */
	EXPECT_EQ(-ENOENT, bind_id(self->fd, self->dev[0], id));
	EXPECT_EQ(-ENOENT, unbind_id(self->fd, self->dev[0], id));
	ASSERT_EQ(0, ioasid_alloc_ids(self->fd, id, id, 1, &again));
	EXPECT_EQ(id, again);
	ASSERT_EQ(0, ioasid_free_ids(self->fd, 1, &again));
}

TEST_F(hw, close_while_bound)
{
	__u32 ids[8];
	int i;

	ASSERT_EQ(0, ioasid_alloc_ids(self->fd, 1, SMALL_PASIDS - 1, 8, ids));
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, bind_id(self->fd, self->dev[i % 2], ids[i]));
	EXPECT_EQ(4, mock_entries(0));
	EXPECT_EQ(4, mock_entries(1));
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(0, mock_entries(0));
	EXPECT_EQ(0, mock_entries(1));
	EXPECT_EQ(0, cg_current(self->cg));
}

/* Closing the device's node does not unbind: the IDs' owner does. */
TEST_F(hw, device_fd_closed_while_bound)
{
	__u32 id;

	ASSERT_EQ(0, ioasid_alloc_one(self->fd, &id));
	ASSERT_EQ(0, bind_id(self->fd, self->dev[0], id));
	close(self->dev[0]);
	self->dev[0] = -1;
	EXPECT_TRUE(mock_has(0, id));
	ASSERT_EQ(0, ioasid_free_ids(self->fd, 1, &id));
	EXPECT_EQ(0, mock_entries(0));
}

/* An SVA bind charges the binding task's cgroup until its mm goes. */
TEST_F(hw, sva_bind_exit)
{
	long pasid, other;
	pid_t pid, pid2;

	pid = sva_child(self->cg, 0, &pasid);
	ASSERT_LT(0, pid);
	ASSERT_LT(0, pasid);
	EXPECT_TRUE(mock_has(0, pasid));
	EXPECT_EQ(1, cg_current(self->cg));
	EXPECT_EQ(1, cg_read_key(self->cg, "ioasids.stat", "sva"));
	/* Another process gets another PASID, also charged. */
	pid2 = sva_child(self->cg, 0, &other);
	ASSERT_LT(0, pid2);
	ASSERT_LT(0, other);
	EXPECT_NE(pasid, other);
	EXPECT_EQ(2, cg_current(self->cg));
	/* The fd's set cannot touch an mm's PASID. */
	EXPECT_EQ(-ENOENT, bind_id(self->fd, self->dev[1], pasid));
	EXPECT_EQ(-ENOENT, unbind_id(self->fd, self->dev[0], pasid));

	reap(pid);
	EXPECT_EQ(1, wait_current(self->cg, 1));
	EXPECT_FALSE(mock_has(0, pasid));
	EXPECT_TRUE(mock_has(0, other));
	reap(pid2);
	EXPECT_EQ(0, wait_current(self->cg, 0));
	EXPECT_EQ(0, mock_entries(0));
}

/* Unbinding clears the entry; the mm keeps its PASID, and its charge. */
TEST_F(hw, sva_unbind)
{
	__u32 pasid, again;
	pid_t pid;
	int status;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int dev = open("/dev/ioasid_mock0", O_RDWR);

		if (dev < 0 || ioctl(dev, IOASID_MOCK_SVA_BIND, &pasid))
			_exit(1);
		if (!ioctl(dev, IOASID_MOCK_SVA_BIND, &again) ||
		    errno != EEXIST)
			_exit(2);
		if (!mock_has(0, pasid) || cg_current(self->cg) != 1)
			_exit(3);
		if (ioctl(dev, IOASID_MOCK_SVA_UNBIND))
			_exit(4);
		if (!ioctl(dev, IOASID_MOCK_SVA_UNBIND) || errno != ENOENT)
			_exit(5);
		if (mock_entries(0) != 0 || cg_current(self->cg) != 1)
			_exit(6);
		/* Binding again, on another device, reuses the mm's PASID. */
		dev = open("/dev/ioasid_mock1", O_RDWR);
		if (dev < 0 || ioctl(dev, IOASID_MOCK_SVA_BIND, &again))
			_exit(7);
		_exit(again == pasid && mock_has(1, pasid) ? 0 : 8);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0, wait_current(self->cg, 0));
}

/* A full cgroup refuses the bind with EDQUOT and leaves nothing behind. */
TEST_F(hw, sva_limit)
{
	long pasid, second;
	pid_t pid, pid2;

	ASSERT_EQ(0, cg_write(self->cg, "ioasids.max", "0"));
	pid = sva_child(self->cg, 0, &pasid);
	ASSERT_LT(0, pid);
	EXPECT_EQ(-EDQUOT, pasid);
	EXPECT_EQ(0, mock_entries(0));
	EXPECT_EQ(0, cg_current(self->cg));
	EXPECT_EQ(1, cg_read_key(self->cg, "ioasids.events", "max"));
	reap(pid);

	/* Room for one: the first binds, the second is refused. */
	ASSERT_EQ(0, cg_write(self->cg, "ioasids.max", "1"));
	pid = sva_child(self->cg, 0, &pasid);
	ASSERT_LT(0, pid);
	EXPECT_LT(0, pasid);
	pid2 = sva_child(self->cg, 1, &second);
	ASSERT_LT(0, pid2);
	EXPECT_EQ(-EDQUOT, second);
	reap(pid2);
	EXPECT_EQ(1, mock_entries(0));
	EXPECT_EQ(0, mock_entries(1));
	reap(pid);
	EXPECT_EQ(0, wait_current(self->cg, 0));
}

/*
 * The small device: an mm's first PASID comes from its range (ENOSPC when
 * that is full), and an mm whose PASID is beyond it cannot bind it.
 */
TEST_F(hw, sva_small_device)
{
	__u32 fill[SMALL_PASIDS], pasid;
	long result;
	pid_t pid;
	int status;

	ASSERT_EQ(0, ioasid_alloc_ids(self->fd, 1, SMALL_PASIDS - 1,
				      SMALL_PASIDS - 1, fill));
	pid = sva_child(self->cg, 1, &result);
	ASSERT_LT(0, pid);
	EXPECT_EQ(-ENOSPC, result);
	reap(pid);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int big = open("/dev/ioasid_mock0", O_RDWR);
		int small = open("/dev/ioasid_mock1", O_RDWR);

		if (big < 0 || small < 0 ||
		    ioctl(big, IOASID_MOCK_SVA_BIND, &pasid))
			_exit(1);
		if (pasid < SMALL_PASIDS)
			_exit(2);
		if (!ioctl(small, IOASID_MOCK_SVA_BIND, &pasid) ||
		    errno != EOVERFLOW)
			_exit(3);
		_exit(mock_entries(1) == 0 ? 0 : 4);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0, mock_entries(1));
	ASSERT_EQ(0, ioasid_free_ids(self->fd, SMALL_PASIDS - 1, fill));
}

/*
 * A tenant limited to as many IDs as the small device's table has cannot
 * starve it: its default allocations come from 256 up, and another
 * cgroup's SVA bind and low IDs still fit the 4-bit table.
 */
TEST_F(hw, limited_tenant_leaves_small_table)
{
	char other[PATH_MAX];
	__u32 ids[SMALL_PASIDS], low;
	long result;
	pid_t pid;
	int fd, i;

	ASSERT_EQ(0, cg_write(self->cg, "ioasids.max", "15"));
	ASSERT_EQ(0, ioasid_alloc_ids(self->fd, 0, ~0U, 15, ids));
	for (i = 0; i < 15; i++)
		EXPECT_LE(SMALL_PASIDS, ids[i]);
	ASSERT_EQ(0, cg_make("other", other, sizeof(other)));
	ASSERT_EQ(0, cg_write(other, "ioasids.max", "max"));

	pid = sva_child(other, 1, &result);
	ASSERT_LT(0, pid);
	EXPECT_LT(0, result);
	EXPECT_GT(SMALL_PASIDS, result);
	EXPECT_EQ(1, mock_entries(1));
	reap(pid);

	ASSERT_EQ(0, cg_enter(other));
	fd = open("/dev/ioasid", O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioasid_alloc_ids(fd, 1, SMALL_PASIDS - 1, 1, &low));
	ASSERT_EQ(0, bind_id(fd, self->dev[1], low));
	EXPECT_TRUE(mock_has(1, low));
	close(fd);
	EXPECT_EQ(0, wait_current(other, 0));
	ASSERT_EQ(0, cg_enter(self->cg));
	rmdir(other);
	ASSERT_EQ(0, ioasid_free_ids(self->fd, 15, ids));
}

/*
 * BIND needs the device's file opened for writing through its driver: a
 * read-only file of the node programs nothing.
 */
TEST_F(hw, bind_needs_writable_device_file)
{
	__u32 id;
	int ro;

	ASSERT_EQ(0, ioasid_alloc_ids(self->fd, 1, SMALL_PASIDS - 1, 1, &id));
	ro = open("/dev/ioasid_mock0", O_RDONLY);
	ASSERT_LE(0, ro);
	EXPECT_EQ(-EBADF, bind_id(self->fd, ro, id));
	EXPECT_EQ(0, mock_entries(0));
	ASSERT_EQ(0, bind_id(self->fd, self->dev[0], id));
	EXPECT_EQ(-EBADF, unbind_id(self->fd, ro, id));
	EXPECT_TRUE(mock_has(0, id));
	close(ro);
	ASSERT_EQ(0, ioasid_free_ids(self->fd, 1, &id));
}

/* fdinfo names each device the set has IDs bound to, and how many. */
TEST_F(hw, fdinfo_devices)
{
	char val[128];
	__u32 ids[2], theirs;
	int other;

	ASSERT_EQ(0, ioasid_alloc_ids(self->fd, 1, SMALL_PASIDS - 1, 2, ids));
	EXPECT_EQ(0, fdinfo_get(self->fd, "ioasid-device", 0, NULL, 0));
	/* Another file's bond on the same device is not this file's. */
	other = open("/dev/ioasid", O_RDWR);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, ioasid_alloc_ids(other, 1, SMALL_PASIDS - 1, 1, &theirs));
	ASSERT_EQ(0, bind_id(other, self->dev[0], theirs));
	EXPECT_EQ(0, fdinfo_get(self->fd, "ioasid-device", 0, NULL, 0));
	ASSERT_EQ(1, fdinfo_get(other, "ioasid-device", 0, val, sizeof(val)));
	EXPECT_STREQ("ioasid_mock0 1", val);

	ASSERT_EQ(0, bind_id(self->fd, self->dev[0], ids[0]));
	ASSERT_EQ(0, bind_id(self->fd, self->dev[0], ids[1]));
	ASSERT_EQ(0, bind_id(self->fd, self->dev[1], ids[1]));
	ASSERT_EQ(2, fdinfo_get(self->fd, "ioasid-device", 0, val, sizeof(val)));
	EXPECT_STREQ("ioasid_mock0 2", val);
	fdinfo_get(self->fd, "ioasid-device", 1, val, sizeof(val));
	EXPECT_STREQ("ioasid_mock1 1", val);

	ASSERT_EQ(0, unbind_id(self->fd, self->dev[0], ids[0]));
	ASSERT_EQ(2, fdinfo_get(self->fd, "ioasid-device", 0, val, sizeof(val)));
	EXPECT_STREQ("ioasid_mock0 1", val);
	fdinfo_get(self->fd, "ioasid-device", 1, val, sizeof(val));
	EXPECT_STREQ("ioasid_mock1 1", val);
	/* Freeing clears the tables: no device left. */
	ASSERT_EQ(0, ioasid_free_ids(self->fd, 2, ids));
	EXPECT_EQ(0, fdinfo_get(self->fd, "ioasid-device", 0, NULL, 0));
	/* Closing the other file clears its bond. */
	close(other);
	EXPECT_EQ(0, mock_entries(0));
}

/*
 * A device removed with IDs bound to it, an SVA bond on it and files open
 * on it: its entries go, the IDs stay the file's and charged, and the
 * files left open on it fail with ENODEV.
 */
TEST_F(hw, unplug_while_bound)
{
	__u32 ids[4], pasid;
	char val[128];
	long sva;
	pid_t pid;
	int n, dev, i;

	n = mock_add(8);
	ASSERT_LE(0, n);
	self->added = n;
	dev = mock_open(n);
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, ioasid_alloc_ids(self->fd, 1, 255, 4, ids));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, bind_id(self->fd, dev, ids[i]));
	ASSERT_EQ(0, bind_id(self->fd, self->dev[0], ids[0]));
	pid = sva_child(self->cg, n, &sva);
	ASSERT_LT(0, pid);
	ASSERT_LT(0, sva);
	EXPECT_EQ(5, mock_entries(n));
	EXPECT_EQ(5, cg_current(self->cg));

	ASSERT_EQ(0, mock_remove(n));
	self->added = -1;
	EXPECT_EQ(-ENODEV, mock_remove(n));
	/* Bad input to the controls: EINVAL, and no device comes or goes. */
	EXPECT_EQ(-EINVAL, mock_ctl("add", "0"));
	EXPECT_EQ(-EINVAL, mock_ctl("add", "21"));
	EXPECT_EQ(-EINVAL, mock_ctl("add", "eight"));
	EXPECT_EQ(-EINVAL, mock_ctl("remove", "ioasid_mock_name_too_long"));
	EXPECT_EQ(-ENODEV, mock_ctl("remove", "ioasid_mock"));
	EXPECT_GT(0, mock_table(n, NULL, 0));
	EXPECT_LE(0, mock_table(0, NULL, 0));
	EXPECT_GT(0, mock_table(n, NULL, 0));
	EXPECT_GT(0, mock_open(n));
	EXPECT_EQ(-ENODEV, bind_id(self->fd, dev, ids[1]));
	EXPECT_EQ(-ENODEV, unbind_id(self->fd, dev, ids[0]));
	EXPECT_EQ(-1, ioctl(dev, IOASID_MOCK_SVA_BIND, &pasid));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(-1, ioctl(dev, IOASID_MOCK_SVA_UNBIND));
	EXPECT_EQ(ENODEV, errno);
	/* Only the other device's entry is left, in fdinfo as in hardware. */
	ASSERT_EQ(1, fdinfo_get(self->fd, "ioasid-device", 0, val, sizeof(val)));
	EXPECT_STREQ("ioasid_mock0 1", val);
	EXPECT_TRUE(mock_has(0, ids[0]));
	/* The IDs are still the file's, and the mm keeps its PASID. */
	EXPECT_EQ(4, ioasid_count(self->fd));
	EXPECT_EQ(5, cg_current(self->cg));
	close(dev);
	reap(pid);
	ASSERT_EQ(0, ioasid_free_ids(self->fd, 4, ids));
	EXPECT_EQ(0, mock_entries(0));
	EXPECT_EQ(0, wait_current(self->cg, 0));
}

/*
 * A node's number outlives its device: the next device added gets the
 * same name and minor. A file opened on the removed one names the same
 * node, through the same fops, and still must not program the new table.
 */
TEST_F(hw, node_reused_after_unplug)
{
	struct stat old_st, new_st;
	int n, m, old, new;
	__u32 id;

	n = mock_add(8);
	ASSERT_LE(0, n);
	self->added = n;
	old = mock_open(n);
	ASSERT_LE(0, old);
	ASSERT_EQ(0, mock_remove(n));
	self->added = -1;
	m = mock_add(8);
	ASSERT_EQ(n, m);
	self->added = m;
	new = mock_open(m);
	ASSERT_LE(0, new);
	/* Otherwise this test would not test what it says. */
	ASSERT_EQ(0, fstat(old, &old_st));
	ASSERT_EQ(0, fstat(new, &new_st));
	ASSERT_EQ(old_st.st_rdev, new_st.st_rdev);

	ASSERT_EQ(0, ioasid_alloc_ids(self->fd, 1, 255, 1, &id));
	EXPECT_EQ(-ENODEV, bind_id(self->fd, old, id));
	EXPECT_EQ(0, mock_entries(m));
	ASSERT_EQ(0, bind_id(self->fd, new, id));
	EXPECT_EQ(-ENODEV, unbind_id(self->fd, old, id));
	EXPECT_TRUE(mock_has(m, id));
	EXPECT_EQ(0, unbind_id(self->fd, new, id));
	ASSERT_EQ(0, ioasid_free_ids(self->fd, 1, &id));
	close(old);
	close(new);
}

struct unplug_race {
	int fd, dev;
	__u32 id;
	atomic_bool stop;
	atomic_long ok, gone, bad;
	long why;
};

static void unplug_note(struct unplug_race *r, int ret)
{
	if (!ret) {
		atomic_fetch_add(&r->ok, 1);
	} else if (ret == -ENODEV) {
		atomic_fetch_add(&r->gone, 1);
	} else {
		r->why = ret;
		atomic_fetch_add(&r->bad, 1);
	}
}

/* BIND and UNBIND of one ID, over and over: 0 until the device goes. */
static void *unplug_binder(void *arg)
{
	struct unplug_race *r = arg;

	while (!atomic_load(&r->stop)) {
		unplug_note(r, bind_id(r->fd, r->dev, r->id));
		unplug_note(r, unbind_id(r->fd, r->dev, r->id));
	}
	return NULL;
}

/* Until every thread has seen @field above 0, or 10 s have passed. */
static bool unplug_wait(struct unplug_race *r, int n, bool gone)
{
	double deadline = now_seconds() + 10;
	int i;

	for (;;) {
		for (i = 0; i < n; i++)
			if (!atomic_load(gone ? &r[i].gone : &r[i].ok))
				break;
		if (i == n)
			return true;
		if (now_seconds() > deadline)
			return false;
		usleep(1000);
	}
}

/*
 * Removal races BIND and UNBIND from two threads (each with an ID of its
 * own) and an SVA bind and unbind loop in a child: every call succeeds or
 * fails with ENODEV, nothing is left in any table, nothing stays charged.
 * The removal comes once every side has got through at least once.
 */
TEST_F_TIMEOUT(hw, unplug_during_binds, 120)
{
	struct unplug_race r[2] = {};
	int n, i, status, pipefd[2], sva_dev;
	pthread_t t[2];
	char byte;
	pid_t pid;

	n = mock_add(8);
	ASSERT_LE(0, n);
	self->added = n;
	for (i = 0; i < 2; i++) {
		r[i].fd = self->fd;
		r[i].dev = mock_open(n);
		ASSERT_LE(0, r[i].dev);
		ASSERT_EQ(0, ioasid_alloc_ids(self->fd, 1, 255, 1, &r[i].id));
	}
	sva_dev = mock_open(n);
	ASSERT_LE(0, sva_dev);
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		long binds = 0;
		__u32 pasid;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(pipefd[0]);
		for (;;) {
			if (ioctl(sva_dev, IOASID_MOCK_SVA_BIND, &pasid))
				_exit(errno != ENODEV ? 2 : binds ? 0 : 4);
			/* It got through once: the removal may come. */
			if (!binds++ && write(pipefd[1], "b", 1) != 1)
				_exit(5);
			if (ioctl(sva_dev, IOASID_MOCK_SVA_UNBIND))
				_exit(errno == ENODEV ? 0 : 3);
		}
	}
	close(pipefd[1]);
	close(sva_dev);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, unplug_binder, &r[i]));
	EXPECT_EQ(1, read(pipefd[0], &byte, 1));
	close(pipefd[0]);
	EXPECT_TRUE(unplug_wait(r, 2, false));
	EXPECT_EQ(0, mock_remove(n));
	self->added = -1;
	EXPECT_TRUE(unplug_wait(r, 2, true));
	for (i = 0; i < 2; i++)
		atomic_store(&r[i].stop, true);
	for (i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		TH_LOG("thread %d: %ld went through, %ld after the removal", i,
		       atomic_load(&r[i].ok), atomic_load(&r[i].gone));
		EXPECT_EQ(0, atomic_load(&r[i].bad)) TH_LOG("error %ld",
							    r[i].why);
		close(r[i].dev);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0, fdinfo_get(self->fd, "ioasid-device", 0, NULL, 0));
	EXPECT_EQ(2, ioasid_count(self->fd));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, ioasid_free_ids(self->fd, 1, &r[i].id));
	EXPECT_EQ(0, wait_current(self->cg, 0));
}

/* A child that dies with the test, running @fn(@arg) until killed. */
static pid_t spawn(void (*fn)(int), int arg)
{
	pid_t parent = getpid(), pid = fork();

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)	/* the test ended before prctl() */
			_exit(1);
		fn(arg);
		_exit(0);
	}
	return pid;
}

static void spin(int unused)
{
	for (;;)
		;
}

/* Read the fdinfo of @fd, as its owner may, at the lowest priority. */
static void read_fdinfo_idle(int fd)
{
	struct sched_param param = { 0 };
	char path[64], buf[4096];
	int f;

	if (sched_setscheduler(0, SCHED_IDLE, &param))
		_exit(2);
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	for (;;) {
		f = open(path, O_RDONLY);
		while (f >= 0 && read(f, buf, sizeof(buf)) > 0)
			;
		close(f);
	}
}

/*
 * No tenant stalls the others' BIND and UNBIND by reading its own fdinfo:
 * a tenant with a large set reads it in a loop at SCHED_IDLE while a
 * spinning process keeps every CPU busy, so that it runs seldom; if it
 * held the devices' lock while it waits for the CPU, each BIND would wait
 * for its turn. The pairs run in a child, as a BIND stuck on the lock
 * cannot be killed: at the deadline the reader is, which lets the lock go.
 * A deadline for a hang, not a speed: 100 pairs take well under a second.
 */
TEST_F_TIMEOUT(hw, fdinfo_reader_does_not_stall_binds, 120)
{
	enum { IDS = 65536, BATCH = 4096, PAIRS = 100, MAX_HOGS = 64 };
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	pid_t reader, binder, hog[MAX_HOGS];
	int i, nhogs, status = -1, at_deadline, *done;
	static __u32 ids[BATCH];
	bool in_time = false;
	double deadline;

	done = mmap(NULL, sizeof(*done), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, done);
	*done = 0;
	for (i = 0; i < IDS / BATCH; i++)
		ASSERT_EQ(0, ioasid_alloc_ids(self->fd, SMALL_PASIDS, NAMESPACE,
					      BATCH, ids));
	reader = spawn(read_fdinfo_idle, self->fd);
	ASSERT_LT(0, reader);
	nhogs = cpus > 0 && cpus < MAX_HOGS ? cpus : MAX_HOGS;
	for (i = 0; i < nhogs; i++) {
		hog[i] = spawn(spin, 0);
		ASSERT_LT(0, hog[i]);
	}
	usleep(200000);	/* the reader is inside a read, most likely */
	ASSERT_EQ(SCHED_IDLE, sched_getscheduler(reader));

	binder = fork();
	if (binder == 0) {
		for (; *done < PAIRS; (*done)++)
			if (bind_id(self->fd, self->dev[0], ids[0]) ||
			    unbind_id(self->fd, self->dev[0], ids[0]))
				_exit(1);
		_exit(0);
	}
	ASSERT_LT(0, binder);
	deadline = now_seconds() + 10;
	while (!in_time && now_seconds() < deadline) {
		in_time = waitpid(binder, &status, WNOHANG) == binder;
		usleep(10000);
	}
	at_deadline = *done;
	for (i = 0; i < nhogs; i++)
		reap(hog[i]);
	reap(reader);
	if (!in_time)
		waitpid(binder, &status, 0);
	EXPECT_TRUE(in_time)
		TH_LOG("%d BIND/UNBIND pairs in 10 s beside an idle fdinfo reader",
		       at_deadline);
	EXPECT_EQ(PAIRS, *done);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	munmap(done, sizeof(*done));
}

static void __attribute__((destructor)) remove_test_cgroup(void)
{
	rmdir(TESTCG "/other");
	rmdir(TESTCG "/hw");
	rmdir(TESTCG);
}

TEST_HARNESS_MAIN

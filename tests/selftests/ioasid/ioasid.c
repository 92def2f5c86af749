// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/ioasid: every ioctl and every error, fd passing, fork, close with
 * live IDs, and the ioasids cgroup seen through the fd.
 *
 * Each test runs in a cgroup of its own under /sys/fs/cgroup/ioasid_test,
 * and checks at teardown that the root's ioasids.current is back where it
 * was: nothing it did may leave an ID or a charge behind.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/ioasid.h>

#include "kselftest_harness.h"
#include "ioasid_util.h"

FIXTURE(ioasid) {
	char cg[PATH_MAX];
	long root_base;
	int fd;
};

FIXTURE_SETUP(ioasid)
{
	if (access("/dev/ioasid", R_OK | W_OK))
		SKIP(return, "no /dev/ioasid");
	ASSERT_EQ(0, cg_make("t", self->cg, sizeof(self->cg)));
	ASSERT_EQ(0, cg_write(self->cg, "ioasids.max", "max"));
	ASSERT_EQ(0, cg_enter(self->cg));
	self->root_base = cg_current(CGROOT);
	self->fd = open("/dev/ioasid", O_RDWR);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(ioasid)
{
	if (self->fd >= 0)
		close(self->fd);
	/* Nothing any test did may stay charged. */
	EXPECT_EQ(self->root_base, cg_current(CGROOT));
	cg_enter(CGROOT);
	rmdir(self->cg);
	rmdir(TESTCG);
}

TEST_F(ioasid, info)
{
	struct ioasid_info info;

	ASSERT_EQ(0, get_info(self->fd, &info));
	EXPECT_EQ(sizeof(info), info.size);
	EXPECT_EQ(NAMESPACE, info.capacity);
	EXPECT_EQ(1, info.min_id);
	EXPECT_EQ(NAMESPACE, info.max_id);
	EXPECT_EQ(0, info.quota);
	EXPECT_EQ(0, info.count);
	EXPECT_EQ(NAMESPACE - cg_current(CGROOT), info.room);
}

/* The size and flags checks every ioctl shares. */
TEST_F(ioasid, struct_size_and_flags)
{
	struct {
		struct ioasid_info info;
		__u64 extra;
	} big = {};
	struct ioasid_info info = { .size = sizeof(info) };

	/* Shorter than the first version of the struct. */
	info.size = offsetof(struct ioasid_info, __reserved);
	EXPECT_EQ(-1, ioctl(self->fd, IOASID_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);

	/* Longer, with the unknown tail zero: fine, and the tail untouched. */
	big.info.size = sizeof(big);
	EXPECT_EQ(0, ioctl(self->fd, IOASID_GET_INFO, &big));
	EXPECT_EQ(NAMESPACE, big.info.capacity);
	EXPECT_EQ(0, big.extra);

	/* Longer, with something in the tail the kernel does not know. */
	big.extra = 1;
	EXPECT_EQ(-1, ioctl(self->fd, IOASID_GET_INFO, &big));
	EXPECT_EQ(E2BIG, errno);

	info = (struct ioasid_info){ .size = sizeof(info), .flags = 1 };
	EXPECT_EQ(-1, ioctl(self->fd, IOASID_GET_INFO, &info));
	EXPECT_EQ(EOPNOTSUPP, errno);
	info = (struct ioasid_info){ .size = sizeof(info), .__reserved = 1 };
	EXPECT_EQ(-1, ioctl(self->fd, IOASID_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);

	EXPECT_EQ(-1, ioctl(self->fd, IOASID_GET_INFO, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, IOASID_GET_INFO, (void *)-4096L));
	EXPECT_EQ(EFAULT, errno);

	/* Commands past the table, and numbers that are not ours. */
	EXPECT_EQ(-1, ioctl(self->fd, _IO(IOASID_TYPE, IOASID_CMD_BASE + 40),
			    &info));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IO(IOASID_TYPE, 0x10), &info));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IOR(IOASID_TYPE, IOASID_CMD_GET_INFO,
					   int), &info));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(ioasid, alloc_free_one)
{
	long before = cg_current(self->cg);
	__u32 id, again;

	ASSERT_EQ(0, ioasid_alloc_one(self->fd, &id));
	EXPECT_LE(1, id);
	EXPECT_GE(NAMESPACE, id);
	EXPECT_EQ(1, ioasid_count(self->fd));
	EXPECT_EQ(before + 1, cg_current(self->cg));
	EXPECT_EQ(1, cg_read_key(self->cg, "ioasids.stat", "fd"));
	EXPECT_EQ(1, cg_read_key(self->cg, "ioasids.stat", "sets"));

	ASSERT_EQ(0, ioasid_free_ids(self->fd, 1, &id));
	EXPECT_EQ(0, ioasid_count(self->fd));
	EXPECT_EQ(before, cg_current(self->cg));
	/* Freed once: the second time it is not ours. */
	EXPECT_EQ(-ENOENT, ioasid_free_ids(self->fd, 1, &id));

	/* The lowest free ID comes back. */
	ASSERT_EQ(0, ioasid_alloc_one(self->fd, &again));
	EXPECT_EQ(id, again);
}

TEST_F(ioasid, alloc_range_and_batch)
{
	__u32 ids[64], more[4];
	int i;

	ASSERT_EQ(0, ioasid_alloc_ids(self->fd, 1000, 2000, 64, ids));
	for (i = 0; i < 64; i++) {
		EXPECT_LE(1000, ids[i]);
		EXPECT_GE(2000, ids[i]);
	}
	EXPECT_EQ(64, ioasid_count(self->fd));

	/* [1000, 1066] has 3 left: a batch of 4 fails whole. */
	EXPECT_EQ(-ENOSPC, ioasid_alloc_ids(self->fd, 1000, 1066, 4, more));
	EXPECT_EQ(64, ioasid_count(self->fd));
	EXPECT_EQ(0, ioasid_alloc_ids(self->fd, 1000, 1066, 3, more));
	EXPECT_EQ(67, ioasid_count(self->fd));

	EXPECT_EQ(0, ioasid_free_ids(self->fd, 64, ids));
	EXPECT_EQ(3, ioasid_count(self->fd));
}

TEST_F(ioasid, alloc_errors)
{
	struct ioasid_alloc cmd;
	__u32 ids[2];

	EXPECT_EQ(-EINVAL, ioasid_alloc_ids(self->fd, 10, 9, 1, ids));
	EXPECT_EQ(-EINVAL, ioasid_alloc_ids(self->fd, 0, ~0U, 0, ids));
	/* Beyond the namespace, more than a range holds, more than a call. */
	EXPECT_EQ(-ENOSPC, ioasid_alloc_ids(self->fd, NAMESPACE + 1, ~0U, 1,
					    ids));
	EXPECT_EQ(-ENOSPC, ioasid_alloc_ids(self->fd, 1, 100, 101, ids));
	EXPECT_EQ(-EINVAL, ioasid_alloc_ids(self->fd, 0, ~0U, NAMESPACE + 1,
					    ids));

	cmd = (struct ioasid_alloc){ .size = sizeof(cmd), .count = 2,
		.max = ~0U, .flags = IOASID_ALLOC_SPID, .ids = (uintptr_t)ids };
	EXPECT_EQ(-1, ioctl(self->fd, IOASID_ALLOC, &cmd));
	EXPECT_EQ(EINVAL, errno);
	cmd.flags = 1 << 7;
	EXPECT_EQ(-1, ioctl(self->fd, IOASID_ALLOC, &cmd));
	EXPECT_EQ(EOPNOTSUPP, errno);

	/* A bad output pointer: EFAULT, and nothing is held. */
	EXPECT_EQ(-EFAULT, ioasid_alloc_ids(self->fd, 0, ~0U, 2, NULL));
	EXPECT_EQ(-EFAULT, ioasid_alloc_ids(self->fd, 0, ~0U, 2,
					    (__u32 *)-4096L));
	EXPECT_EQ(0, ioasid_count(self->fd));
	EXPECT_EQ(0, cg_current(self->cg));
	/* Never handed out, never in the high-water mark. */
	EXPECT_EQ(0, cg_read_key(self->cg, "ioasids.peak", NULL));

	/* 0xFFFFFFFF is no private ID: an ID without one is not asked for. */
	cmd = (struct ioasid_alloc){ .size = sizeof(cmd), .count = 1,
		.max = ~0U, .flags = IOASID_ALLOC_SPID, .spid = ~0U,
		.ids = (uintptr_t)ids };
	EXPECT_EQ(-1, ioctl(self->fd, IOASID_ALLOC, &cmd));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, ioasid_count(self->fd));
}

TEST_F(ioasid, private_ids)
{
	struct ioasid_alloc cmd = { .size = sizeof(cmd), .max = ~0U,
		.count = 1, .flags = IOASID_ALLOC_SPID, .spid = 7 };
	struct ioasid_find find = { .size = sizeof(find) };
	__u32 id, id2;

	cmd.ids = (uintptr_t)&id;
	ASSERT_EQ(0, ioctl(self->fd, IOASID_ALLOC, &cmd));
	/* Private IDs are unique in the file. */
	cmd.ids = (uintptr_t)&id2;
	EXPECT_EQ(-1, ioctl(self->fd, IOASID_ALLOC, &cmd));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(1, ioasid_count(self->fd));

	find.flags = IOASID_FIND_BY_SPID;
	find.spid = 7;
	ASSERT_EQ(0, ioctl(self->fd, IOASID_FIND, &find));
	EXPECT_EQ(id, find.id);

	find = (struct ioasid_find){ .size = sizeof(find),
		.flags = IOASID_FIND_BY_ID, .id = id };
	ASSERT_EQ(0, ioctl(self->fd, IOASID_FIND, &find));
	EXPECT_EQ(7, find.spid);

	find.spid = 8;
	find.flags = IOASID_FIND_BY_SPID;
	EXPECT_EQ(-1, ioctl(self->fd, IOASID_FIND, &find));
	EXPECT_EQ(ENOENT, errno);
	find.flags = IOASID_FIND_BY_SPID | IOASID_FIND_BY_ID;
	EXPECT_EQ(-1, ioctl(self->fd, IOASID_FIND, &find));
	EXPECT_EQ(EINVAL, errno);
	find.flags = 0;
	EXPECT_EQ(-1, ioctl(self->fd, IOASID_FIND, &find));
	EXPECT_EQ(EINVAL, errno);
	find.flags = 1 << 5;
	EXPECT_EQ(-1, ioctl(self->fd, IOASID_FIND, &find));
	EXPECT_EQ(EOPNOTSUPP, errno);

	/* An ID without a private ID, and after the free. */
	ASSERT_EQ(0, ioasid_alloc_one(self->fd, &id2));
	find = (struct ioasid_find){ .size = sizeof(find),
		.flags = IOASID_FIND_BY_ID, .id = id2 };
	EXPECT_EQ(-1, ioctl(self->fd, IOASID_FIND, &find));
	EXPECT_EQ(ENOENT, errno);
	ASSERT_EQ(0, ioasid_free_ids(self->fd, 1, &id));
	find = (struct ioasid_find){ .size = sizeof(find),
		.flags = IOASID_FIND_BY_SPID, .spid = 7 };
	EXPECT_EQ(-1, ioctl(self->fd, IOASID_FIND, &find));
	EXPECT_EQ(ENOENT, errno);
}

/* A batch free with any ID that is not the file's frees nothing. */
TEST_F(ioasid, free_all_or_nothing)
{
	__u32 ids[4], bad[4], many[201];
	int other, i;

	ASSERT_EQ(0, ioasid_alloc_ids(self->fd, 0, ~0U, 3, ids));
	other = open("/dev/ioasid", O_RDWR);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, ioasid_alloc_one(other, &ids[3]));

	/* Another file's ID: refused, and both files keep everything. */
	EXPECT_EQ(-ENOENT, ioasid_free_ids(self->fd, 4, ids));
	EXPECT_EQ(-ENOENT, ioasid_free_ids(self->fd, 1, &ids[3]));
	EXPECT_EQ(3, ioasid_count(self->fd));
	EXPECT_EQ(1, ioasid_count(other));

	/* Listed twice. */
	memcpy(bad, ids, sizeof(bad));
	bad[2] = bad[0];
	EXPECT_EQ(-ENOENT, ioasid_free_ids(self->fd, 3, bad));
	EXPECT_EQ(3, ioasid_count(self->fd));

	/* More than the file holds, none, and a bad pointer. */
	EXPECT_EQ(-ENOENT, ioasid_free_ids(self->fd, 4, ids));
	EXPECT_EQ(-EINVAL, ioasid_free_ids(self->fd, 0, ids));
	EXPECT_EQ(-EFAULT, ioasid_free_ids(self->fd, 2, NULL));
	EXPECT_EQ(3, ioasid_count(self->fd));

	EXPECT_EQ(0, ioasid_free_ids(self->fd, 3, ids));
	EXPECT_EQ(0, ioasid_free_ids(other, 1, &ids[3]));

	/*
	 * Past the 64 IDs after which the core lets others run: a bad last
	 * ID still leaves every one of 200 live, each freed on its own.
	 */
	ASSERT_EQ(0, ioasid_alloc_ids(self->fd, 0, ~0U, 200, many));
	ASSERT_EQ(0, ioasid_alloc_one(other, &many[200]));
	EXPECT_EQ(-ENOENT, ioasid_free_ids(self->fd, 201, many));
	EXPECT_EQ(200, ioasid_count(self->fd));
	for (i = 0; i < 200; i++)
		EXPECT_EQ(0, ioasid_free_ids(self->fd, 1, &many[i]));
	EXPECT_EQ(0, ioasid_free_ids(other, 1, &many[200]));
	close(other);
}

TEST_F(ioasid, quota)
{
	struct ioasid_set_quota q = { .size = sizeof(q), .quota = 2 };
	struct ioasid_info info;
	__u32 ids[3];
	int other;

	ASSERT_EQ(0, ioctl(self->fd, IOASID_SET_QUOTA, &q));
	ASSERT_EQ(0, get_info(self->fd, &info));
	EXPECT_EQ(2, info.quota);
	EXPECT_EQ(2, info.room);
	EXPECT_EQ(-EDQUOT, ioasid_alloc_ids(self->fd, 0, ~0U, 3, ids));
	ASSERT_EQ(0, ioasid_alloc_ids(self->fd, 0, ~0U, 2, ids));
	EXPECT_EQ(-EDQUOT, ioasid_alloc_one(self->fd, &ids[2]));
	ASSERT_EQ(0, get_info(self->fd, &info));
	EXPECT_EQ(0, info.room);
	/* A quota is not a cgroup limit: no event. */
	EXPECT_EQ(0, cg_read_key(self->cg, "ioasids.events", "max"));

	/* The quota never lifts the cgroup's limit. */
	other = open("/dev/ioasid", O_RDWR);
	ASSERT_LE(0, other);
	q.quota = 100;
	ASSERT_EQ(0, ioctl(other, IOASID_SET_QUOTA, &q));
	ASSERT_EQ(0, cg_write(self->cg, "ioasids.max", "2"));
	EXPECT_EQ(-EDQUOT, ioasid_alloc_one(other, &ids[2]));
	ASSERT_EQ(0, get_info(other, &info));
	EXPECT_EQ(0, info.room);
	close(other);

	q.flags = 1;
	EXPECT_EQ(-1, ioctl(self->fd, IOASID_SET_QUOTA, &q));
	EXPECT_EQ(EOPNOTSUPP, errno);
	q.flags = 0;
	q.__reserved = 1;
	EXPECT_EQ(-1, ioctl(self->fd, IOASID_SET_QUOTA, &q));
	EXPECT_EQ(EINVAL, errno);
}

/* The cgroup's limit, seen through GET_INFO and enforced on ALLOC. */
TEST_F(ioasid, cgroup_limit)
{
	struct ioasid_info info;
	__u32 ids[4];

	ASSERT_EQ(0, cg_write(self->cg, "ioasids.max", "3"));
	ASSERT_EQ(0, get_info(self->fd, &info));
	EXPECT_EQ(3, info.room);
	ASSERT_EQ(0, ioasid_alloc_ids(self->fd, 0, ~0U, 2, ids));
	ASSERT_EQ(0, get_info(self->fd, &info));
	EXPECT_EQ(1, info.room);
	EXPECT_EQ(-EDQUOT, ioasid_alloc_ids(self->fd, 0, ~0U, 2, &ids[2]));
	EXPECT_EQ(1, cg_read_key(self->cg, "ioasids.events", "max"));
	EXPECT_EQ(1, cg_read_key(self->cg, "ioasids.events.local", "max"));
	EXPECT_EQ(2, cg_current(self->cg));
	ASSERT_EQ(0, ioasid_alloc_one(self->fd, &ids[2]));
	EXPECT_EQ(3, cg_read_key(self->cg, "ioasids.peak", NULL));

	/* The parent's limit counts too. */
	ASSERT_EQ(0, cg_write(self->cg, "ioasids.max", "max"));
	ASSERT_EQ(0, cg_write(TESTCG, "ioasids.max", "3"));
	EXPECT_EQ(-EDQUOT, ioasid_alloc_one(self->fd, &ids[3]));
	EXPECT_EQ(1, cg_read_key(TESTCG, "ioasids.events.local", "max"));
	ASSERT_EQ(0, cg_write(TESTCG, "ioasids.max", "max"));
}

TEST_F(ioasid, close_with_live_ids)
{
	__u32 ids[16];

	ASSERT_EQ(0, ioasid_alloc_ids(self->fd, 0, ~0U, 16, ids));
	EXPECT_EQ(16, cg_current(self->cg));
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(0, cg_current(self->cg));
	EXPECT_EQ(0, cg_read_key(self->cg, "ioasids.stat", "sets"));
}

/* The charge stays with the cgroup of the opener when the task moves. */
TEST_F(ioasid, migration)
{
	char other[PATH_MAX];
	__u32 id;

	ASSERT_EQ(0, cg_make("other", other, sizeof(other)));
	ASSERT_EQ(0, cg_enter(other));
	ASSERT_EQ(0, ioasid_alloc_one(self->fd, &id));
	EXPECT_EQ(1, cg_current(self->cg));
	EXPECT_EQ(0, cg_current(other));
	ASSERT_EQ(0, ioasid_free_ids(self->fd, 1, &id));
	cg_enter(self->cg);
	rmdir(other);
}

/* A file passed to a process in another cgroup still charges the opener's. */
TEST_F(ioasid, fd_passing)
{
	char other[PATH_MAX], cbuf[CMSG_SPACE(sizeof(int))] = {};
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cmsg;
	int sv[2], status;
	pid_t pid;

	ASSERT_EQ(0, cg_make("other", other, sizeof(other)));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char rbuf[CMSG_SPACE(sizeof(int))];
		struct msghdr rmsg = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = rbuf, .msg_controllen = sizeof(rbuf),
		};
		char c;
		__u32 ids[3];
		int fd;

		iov.iov_base = &c;
		close(self->fd);
		if (cg_enter(other) || recvmsg(sv[1], &rmsg, 0) != 1)
			_exit(1);
		memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&rmsg)), sizeof(fd));
		/* The receiver's cgroup has room for none. */
		if (cg_write(other, "ioasids.max", "0"))
			_exit(2);
		if (ioasid_alloc_ids(fd, 0, ~0U, 3, ids))
			_exit(3);
		if (cg_current(other) != 0)
			_exit(4);
		_exit(0);
	}
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &self->fd, sizeof(int));
	ASSERT_EQ(1, sendmsg(sv[0], &msg, 0));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* Charged here, held by the file the opener still has. */
	EXPECT_EQ(3, cg_current(self->cg));
	EXPECT_EQ(3, ioasid_count(self->fd));
	close(sv[0]);
	close(sv[1]);
	rmdir(other);
}

/* fork shares the file: the child's IDs are the same set's, no copies. */
TEST_F(ioasid, fork)
{
	int status;
	__u32 id;
	pid_t pid;

	ASSERT_EQ(0, ioasid_alloc_one(self->fd, &id));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		__u32 mine;

		if (ioasid_count(self->fd) != 1 || ioasid_alloc_one(self->fd, &mine))
			_exit(1);
		_exit(ioasid_count(self->fd) == 2 ? 0 : 2);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(2, ioasid_count(self->fd));
	EXPECT_EQ(2, cg_current(self->cg));
}

/* The IDs of one file are invisible to another. */
TEST_F(ioasid, isolation)
{
	struct ioasid_alloc cmd = { .size = sizeof(cmd), .max = ~0U,
		.count = 1, .flags = IOASID_ALLOC_SPID, .spid = 42 };
	struct ioasid_find find = { .size = sizeof(find),
		.flags = IOASID_FIND_BY_SPID, .spid = 42 };
	__u32 id;
	int other;

	cmd.ids = (uintptr_t)&id;
	ASSERT_EQ(0, ioctl(self->fd, IOASID_ALLOC, &cmd));
	other = open("/dev/ioasid", O_RDWR);
	ASSERT_LE(0, other);
	/* It learns nothing of them: not their count, not their IDs. */
	EXPECT_EQ(0, ioasid_count(other));
	EXPECT_EQ(-ENOENT, ioasid_free_ids(other, 1, &id));
	EXPECT_EQ(-1, ioctl(other, IOASID_FIND, &find));
	EXPECT_EQ(ENOENT, errno);
	find = (struct ioasid_find){ .size = sizeof(find),
		.flags = IOASID_FIND_BY_ID, .id = id };
	EXPECT_EQ(-1, ioctl(other, IOASID_FIND, &find));
	EXPECT_EQ(ENOENT, errno);
	/* Its own private ID 42 is a different ID. */
	cmd.ids = (uintptr_t)&find.id;
	EXPECT_EQ(0, ioctl(other, IOASID_ALLOC, &cmd));
	EXPECT_NE(id, find.id);
	close(other);
}

/*
 * A quota can only go down: whoever holds the file (a VMM it was passed to)
 * cannot raise or remove what the manager that opened it set.
 */
TEST_F(ioasid, quota_only_lowered)
{
	struct ioasid_set_quota q = { .size = sizeof(q), .quota = 0 };
	struct ioasid_info info;
	__u32 ids[4];

	/* No quota yet: 0 means none, which it already is. */
	EXPECT_EQ(-1, ioctl(self->fd, IOASID_SET_QUOTA, &q));
	EXPECT_EQ(EINVAL, errno);
	q.quota = 5;
	ASSERT_EQ(0, ioctl(self->fd, IOASID_SET_QUOTA, &q));
	q.quota = 6;
	EXPECT_EQ(-1, ioctl(self->fd, IOASID_SET_QUOTA, &q));
	EXPECT_EQ(EPERM, errno);
	q.quota = 0;
	EXPECT_EQ(-1, ioctl(self->fd, IOASID_SET_QUOTA, &q));
	EXPECT_EQ(EPERM, errno);
	ASSERT_EQ(0, get_info(self->fd, &info));
	EXPECT_EQ(5, info.quota);
	q.quota = 5;
	EXPECT_EQ(0, ioctl(self->fd, IOASID_SET_QUOTA, &q));
	q.quota = 3;
	ASSERT_EQ(0, ioctl(self->fd, IOASID_SET_QUOTA, &q));
	EXPECT_EQ(-EDQUOT, ioasid_alloc_ids(self->fd, 0, ~0U, 4, ids));
	ASSERT_EQ(0, ioasid_alloc_ids(self->fd, 0, ~0U, 3, ids));
	ASSERT_EQ(0, ioasid_free_ids(self->fd, 3, ids));
}

/*
 * A request the set's own checks refuse (quota, a range with no room)
 * never reaches the cgroup: ioasids.peak does not move, and nothing is
 * held meanwhile for IDs that cannot be had.
 */
TEST_F(ioasid, refused_leaves_no_trace)
{
	struct ioasid_set_quota q = { .size = sizeof(q), .quota = 1 };
	__u32 *ids, id, taken;
	int other;

	ids = calloc(IOASID_MAX_COUNT, sizeof(*ids));
	ASSERT_NE(NULL, ids);
	other = open("/dev/ioasid", O_RDWR);
	ASSERT_LE(0, other);

	ASSERT_EQ(0, ioctl(self->fd, IOASID_SET_QUOTA, &q));
	ASSERT_EQ(0, ioasid_alloc_one(self->fd, &id));
	EXPECT_EQ(1, cg_read_key(self->cg, "ioasids.peak", NULL));
	EXPECT_EQ(-EDQUOT, ioasid_alloc_ids(self->fd, 0, ~0U, 100, ids));
	EXPECT_EQ(1, cg_read_key(self->cg, "ioasids.peak", NULL));
	EXPECT_EQ(1, cg_current(self->cg));

	/* A range of IOASID_MAX_COUNT IDs with one of them taken. */
	ASSERT_EQ(0, ioasid_alloc_ids(other, 5000, 5000, 1, &taken));
	EXPECT_EQ(-ENOSPC, ioasid_alloc_ids(other, 3000,
					    3000 + IOASID_MAX_COUNT - 1,
					    IOASID_MAX_COUNT, ids));
	EXPECT_EQ(2, cg_read_key(self->cg, "ioasids.peak", NULL));
	EXPECT_EQ(2, cg_current(self->cg));
	/* Nothing of it was kept: the rest of the range is free. */
	ASSERT_EQ(0, ioasid_alloc_ids(other, 3000, 4999, 2000, ids));
	ASSERT_EQ(0, ioasid_free_ids(other, 2000, ids));
	EXPECT_EQ(0, cg_read_key(self->cg, "ioasids.events", "max"));
	close(other);
	free(ids);
}

/* One call names at most IOASID_MAX_COUNT IDs. */
TEST_F(ioasid, count_bounded)
{
	__u32 *ids = calloc(IOASID_MAX_COUNT + 1, sizeof(*ids));

	ASSERT_NE(NULL, ids);
	EXPECT_EQ(-EINVAL, ioasid_alloc_ids(self->fd, 0, ~0U,
					    IOASID_MAX_COUNT + 1, ids));
	EXPECT_EQ(-EINVAL, ioasid_free_ids(self->fd, IOASID_MAX_COUNT + 1,
					   ids));
	EXPECT_EQ(0, cg_read_key(self->cg, "ioasids.peak", NULL));
	ASSERT_EQ(0, ioasid_alloc_ids(self->fd, 0, ~0U, IOASID_MAX_COUNT,
				      ids));
	EXPECT_EQ(IOASID_MAX_COUNT, cg_current(self->cg));
	ASSERT_EQ(0, ioasid_free_ids(self->fd, IOASID_MAX_COUNT, ids));
	free(ids);
}

/*
 * Default placement: IDs from 256 up, so that a limited tenant cannot take
 * the low IDs that devices with 4- or 8-bit PASID tables need. Low IDs
 * are had by asking for them.
 */
TEST_F(ioasid, default_ids_leave_low_ids)
{
	__u32 ids[16], low;
	int i;

	ASSERT_EQ(0, cg_write(self->cg, "ioasids.max", "16"));
	ASSERT_EQ(0, ioasid_alloc_ids(self->fd, 0, ~0U, 15, ids));
	for (i = 0; i < 15; i++)
		EXPECT_LE(256, ids[i]);
	ASSERT_EQ(0, ioasid_alloc_ids(self->fd, 1, 15, 1, &low));
	EXPECT_GE(15, low);
	ASSERT_EQ(0, ioasid_free_ids(self->fd, 15, ids));
	ASSERT_EQ(0, ioasid_free_ids(self->fd, 1, &low));
}

/*
 * The namespace is shared, so its occupancy is not secret: asking for
 * exactly an ID another file holds says ENOSPC (the uAPI document says so).
 * Nothing else about it shows.
 */
TEST_F(ioasid, occupancy_shows_as_enospc)
{
	__u32 id, again;
	int other;

	other = open("/dev/ioasid", O_RDWR);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, ioasid_alloc_one(other, &id));
	EXPECT_EQ(-ENOSPC, ioasid_alloc_ids(self->fd, id, id, 1, &again));
	EXPECT_EQ(-ENOENT, ioasid_free_ids(self->fd, 1, &id));
	close(other);
	ASSERT_EQ(0, ioasid_alloc_ids(self->fd, id, id, 1, &again));
	ASSERT_EQ(0, ioasid_free_ids(self->fd, 1, &again));
}

static int set_cgroup(int fd, int cgfd)
{
	struct ioasid_set_cgroup cmd = { .size = sizeof(cmd),
					 .cgroup_fd = cgfd };

	return ioctl(fd, IOASID_SET_CGROUP, &cmd) ? -errno : 0;
}

/*
 * A manager opens /dev/ioasid in its own cgroup and charges the VM's:
 * the VM's ioasids.max refuses, the manager's cgroup is never charged.
 */
TEST_F(ioasid, charge_another_cgroup)
{
	char vm[PATH_MAX];
	struct ioasid_set_cgroup cmd = { .size = sizeof(cmd) };
	struct ioasid_info info;
	int vmfd, status;
	__u32 ids[3];
	pid_t pid;

	ASSERT_EQ(0, cg_make("vm", vm, sizeof(vm)));
	ASSERT_EQ(0, cg_write(vm, "ioasids.max", "2"));
	vmfd = open(vm, O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, vmfd);

	/* Not a cgroup; flags; reserved. */
	EXPECT_EQ(-EBADF, set_cgroup(self->fd, self->fd));
	EXPECT_EQ(-EBADF, set_cgroup(self->fd, -1));
	cmd.cgroup_fd = vmfd;
	cmd.flags = 1;
	EXPECT_EQ(-1, ioctl(self->fd, IOASID_SET_CGROUP, &cmd));
	EXPECT_EQ(EOPNOTSUPP, errno);
	cmd.flags = 0;
	cmd.__reserved = 1;
	EXPECT_EQ(-1, ioctl(self->fd, IOASID_SET_CGROUP, &cmd));
	EXPECT_EQ(EINVAL, errno);

	/* A caller that may not move a process there. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int ret;

		if (setgid(65534) || setuid(65534))
			_exit(1);
		ret = set_cgroup(self->fd, vmfd);
		_exit(ret == -EACCES || ret == -EPERM ? 0 : 2);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));

	/* Holding IDs: the charge cannot move. */
	ASSERT_EQ(0, ioasid_alloc_one(self->fd, &ids[0]));
	EXPECT_EQ(-EBUSY, set_cgroup(self->fd, vmfd));
	ASSERT_EQ(0, ioasid_free_ids(self->fd, 1, ids));

	ASSERT_EQ(0, set_cgroup(self->fd, vmfd));
	/* Once only: whoever gets the file next cannot point it elsewhere. */
	EXPECT_EQ(-EPERM, set_cgroup(self->fd, vmfd));
	/* EPERM whatever the target, even one that is no cgroup. */
	EXPECT_EQ(-EPERM, set_cgroup(self->fd, self->fd));
	ASSERT_EQ(0, get_info(self->fd, &info));
	EXPECT_EQ(2, info.room);
	ASSERT_EQ(0, ioasid_alloc_ids(self->fd, 0, ~0U, 2, ids));
	EXPECT_EQ(-EDQUOT, ioasid_alloc_one(self->fd, &ids[2]));
	EXPECT_EQ(2, cg_current(vm));
	EXPECT_EQ(0, cg_current(self->cg));
	EXPECT_EQ(1, cg_read_key(vm, "ioasids.events.local", "max"));
	EXPECT_EQ(1, cg_read_key(vm, "ioasids.stat", "sets"));
	EXPECT_EQ(0, cg_read_key(self->cg, "ioasids.stat", "sets"));
	ASSERT_EQ(0, ioasid_free_ids(self->fd, 2, ids));
	EXPECT_EQ(0, cg_current(vm));
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(0, cg_read_key(vm, "ioasids.stat", "sets"));
	close(vmfd);
	rmdir(vm);
}

/*
 * Only a cgroup v2 directory names a cgroup (a v1 hierarchy's is EBADF),
 * and only one inside the caller's cgroup namespace (ENOENT outside).
 */
TEST_F(ioasid, charge_another_cgroup_v2_in_namespace)
{
	const char *v1 = "/tmp/ioasid-test-v1";
	char inner[PATH_MAX], vm[PATH_MAX];
	int fd, vmfd, status;
	pid_t pid;

	ASSERT_EQ(0, mkdir(v1, 0700) && errno != EEXIST ? -1 : 0);
	ASSERT_EQ(0, mount("none", v1, "cgroup", 0, "none,name=ioasidtest"));
	fd = open(v1, O_RDONLY | O_DIRECTORY);
	EXPECT_LE(0, fd);
	EXPECT_EQ(-EBADF, set_cgroup(self->fd, fd));
	close(fd);
	EXPECT_EQ(0, umount(v1));
	rmdir(v1);

	ASSERT_EQ(0, cg_make("vm", vm, sizeof(vm)));
	ASSERT_EQ(0, cg_make("inner", inner, sizeof(inner)));
	vmfd = open(vm, O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, vmfd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* The namespace's root is inner; vm is its sibling. */
		if (cg_enter(inner) || unshare(CLONE_NEWCGROUP))
			_exit(1);
		_exit(set_cgroup(self->fd, vmfd) == -ENOENT ? 0 : 2);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* Nothing was named: the file can still be pointed at vm. */
	EXPECT_EQ(0, set_cgroup(self->fd, vmfd));
	close(self->fd);
	self->fd = -1;
	close(vmfd);
	rmdir(vm);
	rmdir(inner);
}

/*
 * Moving a process into a cgroup needs write access to its cgroup.procs
 * and to that of the common ancestor: so does charging it. A user who
 * owns "own" but not "own/vm" may charge the first and not the second.
 */
TEST_F(ioasid, charge_another_cgroup_needs_both)
{
	char own[PATH_MAX], vm[PATH_MAX + 8], procs[PATH_MAX + 16];
	int status;
	pid_t pid;

	ASSERT_EQ(0, cg_make("own", own, sizeof(own)));
	snprintf(vm, sizeof(vm), "%s/vm", own);
	ASSERT_EQ(0, mkdir(vm, 0755));
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", own);
	ASSERT_EQ(0, chown(procs, 65534, 65534));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int vmfd = open(vm, O_RDONLY | O_DIRECTORY);
		int ownfd = open(own, O_RDONLY | O_DIRECTORY);
		int fd, ret;

		/* The node is root's; the file is charged to "own". */
		if (vmfd < 0 || ownfd < 0 || cg_enter(own))
			_exit(1);
		fd = open("/dev/ioasid", O_RDWR);
		if (fd < 0)
			_exit(1);
		if (setgid(65534) || setuid(65534))
			_exit(2);
		ret = set_cgroup(fd, vmfd);
		if (ret != -EACCES && ret != -EPERM)
			_exit(4);
		_exit(set_cgroup(fd, ownfd) ? 5 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	rmdir(vm);
	rmdir(own);
}

/*
 * A file passed across a trust boundary gains its receiver nothing: moving
 * its charge needs what moving a process from the file's cgroup to the
 * target needs. A VMM's file, charged to "a" (limit 2), passed to a user
 * who owns "b" and sits in it, cannot be pointed at "b": the common
 * ancestor of "a" and "b" is root's. "a"'s limit keeps refusing.
 */
TEST_F(ioasid, passed_file_keeps_its_cgroup)
{
	char a[PATH_MAX], b[PATH_MAX], procs[PATH_MAX + 16];
	int fd, bfd, status;
	pid_t pid;

	ASSERT_EQ(0, cg_make("a", a, sizeof(a)));
	ASSERT_EQ(0, cg_make("b", b, sizeof(b)));
	ASSERT_EQ(0, cg_write(a, "ioasids.max", "2"));
	ASSERT_EQ(0, chown(b, 65534, 65534));
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", b);
	ASSERT_EQ(0, chown(procs, 65534, 65534));
	/* The VMM's file, opened in "a". */
	ASSERT_EQ(0, cg_enter(a));
	fd = open("/dev/ioasid", O_RDWR);
	ASSERT_EQ(0, cg_enter(self->cg));
	ASSERT_LE(0, fd);
	bfd = open(b, O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, bfd);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		__u32 ids[3];
		int ret;

		if (cg_enter(b) || setgid(65534) || setuid(65534))
			_exit(1);
		ret = set_cgroup(fd, bfd);
		if (ret != -EACCES)
			_exit(ret ? 2 : 3);
		if (ioasid_alloc_ids(fd, 0, ~0U, 2, ids) ||
		    ioasid_alloc_one(fd, &ids[2]) != -EDQUOT)
			_exit(4);
		_exit(ioasid_free_ids(fd, 2, ids) ? 5 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	/* 3: the receiver moved the charge to its own cgroup. */
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(1, cg_read_key(a, "ioasids.events.local", "max"));
	EXPECT_EQ(0, cg_current(a));
	EXPECT_EQ(0, cg_current(b));
	/* Root, which may move a process from "a" to "b", may move the file. */
	EXPECT_EQ(0, set_cgroup(fd, bfd));
	EXPECT_EQ(1, cg_read_key(b, "ioasids.stat", "sets"));
	close(fd);
	close(bfd);
	rmdir(a);
	rmdir(b);
}

/* A cgroup removed before it is named: ENODEV, as the uAPI says. */
TEST_F(ioasid, charge_removed_cgroup)
{
	char gone[PATH_MAX];
	int gfd;

	ASSERT_EQ(0, cg_make("gone", gone, sizeof(gone)));
	gfd = open(gone, O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, gfd);
	ASSERT_EQ(0, rmdir(gone));
	EXPECT_EQ(-ENODEV, set_cgroup(self->fd, gfd));
	close(gfd);
	/* Nothing was named: the file still charges its opener's cgroup. */
	EXPECT_EQ(1, cg_read_key(self->cg, "ioasids.stat", "sets"));
}

/*
 * Walk @n IDs from @first, @stride apart, allocating and freeing each on
 * @fd: one ID held at a time, but a new node of the namespace's tree (64
 * IDs a leaf) for each. Return: 0, or the first allocation's -errno.
 */
static int walk_ids(int fd, __u32 first, __u32 stride, int n)
{
	__u32 id;
	int i, ret;

	for (i = 0; i < n; i++) {
		ret = ioasid_alloc_ids(fd, first + i * stride,
				       first + i * stride, 1, &id);
		if (ret)
			return ret;
		if (ioasid_free_ids(fd, 1, &id))
			return -EIO;
	}
	return 0;
}

/*
 * Freed IDs keep their nodes, so each run in one boot needs IDs no earlier
 * run touched: MEMCG_RUN_IDS from MEMCG_FIRST_ID on, run by run, counted
 * in a file under /run (a tmpfs, new at every boot).
 */
#define MEMCG_FIRST_ID		400000
#define MEMCG_LEAVES		1000	/* measured: about 576 KiB */
#define MEMCG_MORE_LEAVES	2000	/* under memory.max: ENOMEM first */
#define MEMCG_RUN_IDS		((MEMCG_LEAVES + MEMCG_MORE_LEAVES) * 64)
#define MEMCG_RUNS_FILE		"/run/ioasid-kselftest-memcg-runs"

static int memcg_next_run(void)
{
	FILE *f = fopen(MEMCG_RUNS_FILE, "r");
	int runs = 0;

	if (f) {
		if (fscanf(f, "%d", &runs) != 1)
			runs = 0;
		fclose(f);
	}
	f = fopen(MEMCG_RUNS_FILE, "w");
	if (!f)
		return -1;
	fprintf(f, "%d\n", runs + 1);
	fclose(f);
	return runs;
}

/*
 * What a tenant makes the kernel allocate is charged to its memory cgroup:
 * with ioasids.max 1 it can still touch 1000 leaves of the namespace's
 * tree (about 576 KiB, kept for the next IDs there), and that shows in its
 * memory.current; under a tight memory.max the request fails with ENOMEM
 * (not an OOM kill) and leaves nothing: no ID, no charge. The parent sets
 * the limit, so that the tenant needs no new page of its own under it.
 */
TEST_F(ioasid, kernel_memory_charged_to_memcg)
{
	int ready[2], go[2], status, run;
	char mem[PATH_MAX], max[32];
	__u32 first;
	long used;
	pid_t pid;

	run = memcg_next_run();
	ASSERT_LE(0, run);
	first = MEMCG_FIRST_ID + run * MEMCG_RUN_IDS;
	/* Three runs fit; a fourth in one boot would find no fresh IDs. */
	ASSERT_GE(NAMESPACE, first + MEMCG_RUN_IDS - 1)
		TH_LOG("run %d of this test in this boot: no fresh IDs left",
		       run + 1);

	ASSERT_EQ(0, cg_make("mem", mem, sizeof(mem)));
	ASSERT_EQ(0, cg_write(CGROOT, "cgroup.subtree_control", "+memory"));
	ASSERT_EQ(0, cg_write(TESTCG, "cgroup.subtree_control", "+memory"));
	ASSERT_EQ(0, cg_write(mem, "ioasids.max", "1"));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct ioasid_info info;
		long before, after;
		char c = 0;
		int fd, ret;

		if (cg_enter(mem))
			_exit(1);
		fd = open("/dev/ioasid", O_RDWR);
		if (fd < 0)
			_exit(1);
		before = cg_read_key(mem, "memory.current", NULL);
		if (walk_ids(fd, first, 64, MEMCG_LEAVES))
			_exit(2);
		after = cg_read_key(mem, "memory.current", NULL);
		if (before < 0 || after - before < 256 * 1024) {
			printf("# memory.current %ld -> %ld\n", before, after);
			_exit(3);
		}
		if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(4);
		/* Under the parent's memory.max now: no new page of ours. */
		ret = walk_ids(fd, first + MEMCG_LEAVES * 64, 64,
			       MEMCG_MORE_LEAVES);
		if (ret != -ENOMEM)
			_exit(ret ? 5 : 6);
		_exit(get_info(fd, &info) || info.count ? 7 : 0);
	}
	ASSERT_EQ(1, read(ready[0], max, 1));
	used = cg_read_key(mem, "memory.current", NULL);
	ASSERT_LT(0, used);
	/* Room for the test itself, not for MEMCG_MORE_LEAVES leaves. */
	snprintf(max, sizeof(max), "%ld", used + 128 * 1024);
	ASSERT_EQ(0, cg_write(mem, "memory.max", max));
	ASSERT_EQ(1, write(go[1], max, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, cg_write(mem, "memory.max", "max"));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_LT(0, cg_read_key(mem, "memory.events", "max"));
	EXPECT_EQ(0, cg_read_key(mem, "memory.events", "oom_kill"));
	EXPECT_EQ(0, cg_current(mem));
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
	rmdir(mem);
}

/*
 * /proc/PID/fdinfo of a /dev/ioasid file: the set's number (never reused),
 * count, quota, and cgroup as the reader's cgroup namespace sees it.
 */
TEST_F(ioasid, fdinfo)
{
	struct ioasid_set_quota quota = { .size = sizeof(quota), .quota = 5 };
	char val[PATH_MAX], val2[64];
	unsigned long long set, set2;
	int fd2, status, ready[2], done[2];
	__u32 ids[3];
	pid_t pid;

	ASSERT_EQ(1, fdinfo_get(self->fd, "ioasid-set", 0, val, sizeof(val)));
	set = strtoull(val, NULL, 10);
	EXPECT_LT(0, set);
	ASSERT_EQ(1, fdinfo_get(self->fd, "ioasid-count", 0, val, sizeof(val)));
	EXPECT_STREQ("0", val);
	ASSERT_EQ(1, fdinfo_get(self->fd, "ioasid-quota", 0, val, sizeof(val)));
	EXPECT_STREQ("max", val);
	ASSERT_EQ(1, fdinfo_get(self->fd, "ioasid-cgroup", 0, val, sizeof(val)));
	EXPECT_STREQ(self->cg + strlen(CGROOT), val);
	EXPECT_EQ(0, fdinfo_get(self->fd, "ioasid-device", 0, NULL, 0));

	ASSERT_EQ(0, ioasid_alloc_ids(self->fd, 0, ~0U, 3, ids));
	ASSERT_EQ(0, ioctl(self->fd, IOASID_SET_QUOTA, &quota));
	fdinfo_get(self->fd, "ioasid-count", 0, val, sizeof(val));
	EXPECT_STREQ("3", val);
	fdinfo_get(self->fd, "ioasid-quota", 0, val, sizeof(val));
	EXPECT_STREQ("5", val);

	/* A later set has a larger number, even after the first is gone. */
	fd2 = open("/dev/ioasid", O_RDWR);
	ASSERT_LE(0, fd2);
	fdinfo_get(fd2, "ioasid-set", 0, val2, sizeof(val2));
	set2 = strtoull(val2, NULL, 10);
	EXPECT_LT(set, set2);
	close(fd2);
	fd2 = open("/dev/ioasid", O_RDWR);
	ASSERT_LE(0, fd2);
	fdinfo_get(fd2, "ioasid-set", 0, val2, sizeof(val2));
	EXPECT_LT(set2, strtoull(val2, NULL, 10));
	close(fd2);

	/*
	 * The path is as the reader's cgroup namespace sees it, not the
	 * namespace of the process whose file it is: a child in a namespace
	 * rooted at the set's cgroup reads "/", and its parent, outside,
	 * reads the whole path from the child's fdinfo of the same file.
	 */
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(done));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char c = 0;

		if (unshare(CLONE_NEWCGROUP))
			_exit(2);
		fdinfo_get(self->fd, "ioasid-cgroup", 0, val, sizeof(val));
		if (write(ready[1], "x", 1) != 1 || read(done[0], &c, 1) != 1)
			_exit(3);
		_exit(strcmp(val, "/") ? 1 : 0);
	}
	ASSERT_EQ(1, read(ready[0], val2, 1));
	snprintf(val2, sizeof(val2), "/proc/%d/fdinfo/%d", pid, self->fd);
	{
		FILE *f = fopen(val2, "r");
		char line[PATH_MAX + 64];
		bool seen = false;

		ASSERT_NE(NULL, f);
		while (fgets(line, sizeof(line), f)) {
			if (strncmp(line, "ioasid-cgroup:\t", 15))
				continue;
			line[strcspn(line, "\n")] = '\0';
			EXPECT_STREQ(self->cg + strlen(CGROOT), line + 15);
			seen = true;
		}
		fclose(f);
		EXPECT_TRUE(seen);
	}
	ASSERT_EQ(1, write(done[1], "x", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(ready[0]);
	close(ready[1]);
	close(done[0]);
	close(done[1]);

	ASSERT_EQ(0, ioasid_free_ids(self->fd, 3, ids));
	fdinfo_get(self->fd, "ioasid-count", 0, val, sizeof(val));
	EXPECT_STREQ("0", val);
}

struct churn {
	int fd;
	int stop;
	long rounds;
};

/* Allocate 8 and free them, over and over, on the fixture's file. */
static void *churn(void *arg)
{
	struct churn *c = arg;
	__u32 ids[8];

	while (!__atomic_load_n(&c->stop, __ATOMIC_RELAXED)) {
		if (ioasid_alloc_ids(c->fd, 0, ~0U, 8, ids) ||
		    ioasid_free_ids(c->fd, 8, ids))
			return (void *)1L;
		__atomic_add_fetch(&c->rounds, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/*
 * fdinfo read while another thread allocates and frees on the same file:
 * every read is whole and shows a count the file can have (0 or 8).
 */
TEST_F(ioasid, fdinfo_while_allocating)
{
	struct churn c = { .fd = self->fd };
	char val[64];
	pthread_t t;
	void *ret;
	int i;

	ASSERT_EQ(0, pthread_create(&t, NULL, churn, &c));
	for (i = 0; i < 200 || !__atomic_load_n(&c.rounds, __ATOMIC_RELAXED); i++) {
		ASSERT_EQ(1, fdinfo_get(self->fd, "ioasid-count", 0, val,
					sizeof(val)));
		EXPECT_TRUE(!strcmp(val, "0") || !strcmp(val, "8"));
		ASSERT_EQ(1, fdinfo_get(self->fd, "ioasid-set", 0, NULL, 0));
	}
	__atomic_store_n(&c.stop, 1, __ATOMIC_RELAXED);
	ASSERT_EQ(0, pthread_join(t, &ret));
	EXPECT_EQ(NULL, ret);
	EXPECT_LT(0, c.rounds);
	EXPECT_EQ(0, ioasid_count(self->fd));
}

/* The harness runs each test in a child; the parent tidies up at exit. */
static void __attribute__((destructor)) remove_test_cgroup(void)
{
	rmdir(TESTCG "/other");
	rmdir(TESTCG "/vm");
	rmdir(TESTCG "/inner");
	rmdir(TESTCG "/own/vm");
	rmdir(TESTCG "/own");
	rmdir(TESTCG "/t");
	rmdir(TESTCG);
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/ioasid used by several threads at once on ONE file: whatever they
 * do, nothing half-made is seen and nothing freed is used.
 *
 * An allocation is visible to FREE, FIND and BIND only once it succeeded,
 * copy to user space included: threads that guess IDs in the range another
 * thread allocates from must never free, find or bind an ID whose
 * allocation failed, and an ALLOC that fails leaves the file as it was.
 * Every test ends with the file's set empty, both mock PASID tables empty
 * and the root's ioasids.current back where it began; the test kernel's
 * KASAN and lockdep watch the console meanwhile.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <time.h>

#include "kselftest_harness.h"
#include "ioasid_util.h"

/* Where the allocating threads take their IDs, so that others can guess. */
#define RANGE_MIN	1000
#define RANGE_IDS	2048
#define RUN_SECONDS	4

struct race {
	int fd;
	int dev;		/* /dev/ioasid_mock0 */
	atomic_bool stop;
	atomic_long allocs, frees, binds, unbinds, finds, infos;
	atomic_long bad;	/* a result that must never happen */
	char why[128];
};

static void race_bad(struct race *r, const char *what, long v)
{
	if (atomic_fetch_add(&r->bad, 1) == 0)
		snprintf(r->why, sizeof(r->why), "%s: %ld", what, v);
}

static __u32 guess(unsigned int *seed)
{
	return RANGE_MIN + rand_r(seed) % RANGE_IDS;
}

static int bind_cmd(int fd, unsigned long req, int dev, __u32 id)
{
	struct ioasid_bind cmd = { .size = sizeof(cmd), .dev_fd = dev, .id = id };

	return ioctl(fd, req, &cmd) ? -errno : 0;
}

/* Allocate a large batch in the shared range, then free what is left. */
static void *allocator(void *arg)
{
	static __thread __u32 ids[RANGE_IDS];
	struct race *r = arg;
	int ret;

	while (!atomic_load(&r->stop)) {
		ret = ioasid_alloc_ids(r->fd, RANGE_MIN,
				       RANGE_MIN + RANGE_IDS - 1, 512, ids);
		if (ret == -ENOSPC || ret == -EBADF)
			continue;
		if (ret) {
			race_bad(r, "ALLOC", ret);
			continue;
		}
		atomic_fetch_add(&r->allocs, 1);
		/* Others free some of them meanwhile: all-or-nothing fails. */
		for (int i = 0; i < 512; i++)
			ioasid_free_ids(r->fd, 1, &ids[i]);
	}
	return NULL;
}

/* FREE, BIND, UNBIND, FIND and GET_INFO on IDs guessed in the range. */
static void *guesser(void *arg)
{
	struct ioasid_find find = { .size = sizeof(find) };
	unsigned int seed = (unsigned int)(uintptr_t)&find;
	struct ioasid_info info;
	struct race *r = arg;
	__u32 id;
	int ret;

	while (!atomic_load(&r->stop)) {
		id = guess(&seed);
		switch (rand_r(&seed) % 5) {
		case 0:
			if (!ioasid_free_ids(r->fd, 1, &id))
				atomic_fetch_add(&r->frees, 1);
			break;
		case 1:
			ret = bind_cmd(r->fd, IOASID_BIND, r->dev, id);
			if (!ret)
				atomic_fetch_add(&r->binds, 1);
			else if (ret != -ENOENT && ret != -EEXIST)
				race_bad(r, "BIND", ret);
			break;
		case 2:
			if (!bind_cmd(r->fd, IOASID_UNBIND, r->dev, id))
				atomic_fetch_add(&r->unbinds, 1);
			break;
		case 3:
			find.flags = IOASID_FIND_BY_ID;
			find.id = id;
			ret = ioctl(r->fd, IOASID_FIND, &find) ? -errno : 0;
			if (ret != -ENOENT)
				race_bad(r, "FIND of an ID without spid", ret);
			atomic_fetch_add(&r->finds, 1);
			break;
		default:
			ret = get_info(r->fd, &info);
			if (ret || info.count > 2 * RANGE_IDS)
				race_bad(r, "GET_INFO", ret ? ret : info.count);
			atomic_fetch_add(&r->infos, 1);
			break;
		}
	}
	return NULL;
}

FIXTURE(race) {
	char cg[PATH_MAX];
	long root_base;
	struct race r;
};

FIXTURE_SETUP(race)
{
	memset(&self->r, 0, sizeof(self->r));
	self->r.fd = -1;
	self->r.dev = -1;
	ASSERT_EQ(0, cg_make("race", self->cg, sizeof(self->cg)));
	ASSERT_EQ(0, cg_write(self->cg, "ioasids.max", "max"));
	ASSERT_EQ(0, cg_enter(self->cg));
	self->root_base = cg_current(CGROOT);
	self->r.fd = open("/dev/ioasid", O_RDWR);
	ASSERT_LE(0, self->r.fd);
	self->r.dev = open("/dev/ioasid_mock0", O_RDWR);
	ASSERT_LE(0, self->r.dev);
	ASSERT_EQ(0, mock_entries(0));
}

FIXTURE_TEARDOWN(race)
{
	if (self->r.fd >= 0)
		close(self->r.fd);
	if (self->r.dev >= 0)
		close(self->r.dev);
	EXPECT_EQ(0, mock_entries(0));
	EXPECT_EQ(0, mock_entries(1));
	EXPECT_EQ(self->root_base, cg_current(CGROOT));
	EXPECT_EQ(0, cg_current(self->cg));
	cg_enter(CGROOT);
	rmdir(self->cg);
	rmdir(TESTCG);
}

static void run_threads(struct race *r, void *(*fn[])(void *), int n,
			int seconds)
{
	pthread_t t[16];
	int i;

	for (i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, fn[i], r))
			race_bad(r, "pthread_create", i);
	sleep(seconds);
	atomic_store(&r->stop, true);
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

/*
 * Two allocators and three guessers on one file: ALLOC, FREE, BIND, UNBIND,
 * FIND and GET_INFO at once. The allocators' batches succeed, guessers free
 * and bind what they find; at the end the file is empty once closed.
 */
TEST_F_TIMEOUT(race, one_fd_all_ioctls, 120)
{
	void *(*fn[])(void *) = { allocator, allocator, guesser, guesser,
				  guesser };

	run_threads(&self->r, fn, ARRAY_SIZE(fn), RUN_SECONDS);
	TH_LOG("allocs %ld frees %ld binds %ld unbinds %ld finds %ld infos %ld",
	       self->r.allocs, self->r.frees, self->r.binds, self->r.unbinds,
	       self->r.finds, self->r.infos);
	EXPECT_EQ(0, self->r.bad) TH_LOG("%s", self->r.why);
	/* It ran: every kind of call got through at least once. */
	EXPECT_LT(0, self->r.allocs);
	EXPECT_LT(0, self->r.frees);
	EXPECT_LT(0, self->r.binds);
	EXPECT_LT(0, self->r.finds);
	EXPECT_LT(0, self->r.infos);
	close(self->r.fd);
	self->r.fd = -1;
}

/* ALLOC into a buffer user space cannot write: EFAULT, over and over. */
static void *faulting_allocator(void *arg)
{
	struct race *r = arg;
	__u32 *ro;
	int ret;

	ro = mmap(NULL, RANGE_IDS * sizeof(__u32), PROT_READ,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ro == MAP_FAILED) {
		race_bad(r, "mmap", errno);
		return NULL;
	}
	while (!atomic_load(&r->stop)) {
		ret = ioasid_alloc_ids(r->fd, RANGE_MIN,
				       RANGE_MIN + RANGE_IDS - 1, 1024, ro);
		if (ret != -EFAULT)
			race_bad(r, "ALLOC into a read-only buffer", ret);
		else
			atomic_fetch_add(&r->allocs, 1);
	}
	munmap(ro, RANGE_IDS * sizeof(__u32));
	return NULL;
}

/* No ID is ever handed out: no FREE, BIND or FIND may find one. */
static void *strict_guesser(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)&arg;
	struct race *r = arg;
	__u32 id;
	int ret;

	while (!atomic_load(&r->stop)) {
		id = guess(&seed);
		ret = ioasid_free_ids(r->fd, 1, &id);
		if (ret != -ENOENT)
			race_bad(r, "FREE of an ID never handed out", ret);
		ret = bind_cmd(r->fd, IOASID_BIND, r->dev, id);
		if (ret != -ENOENT)
			race_bad(r, "BIND of an ID never handed out", ret);
		atomic_fetch_add(&r->frees, 1);
	}
	return NULL;
}

/*
 * An ALLOC whose copy to user space fails hands out nothing: no other
 * thread sees its IDs at any moment, and nothing stays charged.
 */
TEST_F_TIMEOUT(race, failed_copy_is_never_seen, 120)
{
	void *(*fn[])(void *) = { faulting_allocator, strict_guesser,
				  strict_guesser };
	struct ioasid_info info;

	run_threads(&self->r, fn, ARRAY_SIZE(fn), RUN_SECONDS);
	TH_LOG("faulted allocs %ld, guesses %ld", self->r.allocs,
	       self->r.frees);
	EXPECT_EQ(0, self->r.bad) TH_LOG("%s", self->r.why);
	EXPECT_LT(0, self->r.allocs);
	EXPECT_LT(0, self->r.frees);
	ASSERT_EQ(0, get_info(self->r.fd, &info));
	EXPECT_EQ(0, info.count);
	EXPECT_EQ(0, cg_current(self->cg));
	EXPECT_EQ(0, mock_entries(0));
}

/* Threads in ioctls while another closes the file: they get EBADF. */
static void *closer_victim(void *arg)
{
	struct race *r = arg;
	__u32 ids[64];
	int ret;

	while (!atomic_load(&r->stop)) {
		ret = ioasid_alloc_ids(r->fd, RANGE_MIN,
				       RANGE_MIN + RANGE_IDS - 1, 64, ids);
		if (ret == -EBADF)
			break;
		if (ret == -ENOSPC)
			continue;
		if (ret) {
			race_bad(r, "ALLOC", ret);
			continue;
		}
		atomic_fetch_add(&r->allocs, 1);
		bind_cmd(r->fd, IOASID_BIND, r->dev, ids[0]);
	}
	return NULL;
}

TEST_F_TIMEOUT(race, close_during_ioctls, 120)
{
	pthread_t t[3];
	int i;

	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, closer_victim,
					    &self->r));
	while (atomic_load(&self->r.allocs) < 6)
		usleep(1000);
	/* Nothing may open a file meanwhile and get the number. */
	close(self->r.fd);
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	self->r.fd = -1;
	EXPECT_EQ(0, self->r.bad) TH_LOG("%s", self->r.why);
	EXPECT_EQ(0, cg_current(self->cg));
}

/*
 * A tenant limited to nothing cannot hold IDs, not even for a moment: while
 * its threads hammer ALLOC for all of [1, 15], another cgroup allocating
 * there never finds the range full.
 */
static void *doomed_allocator(void *arg)
{
	struct race *r = arg;
	__u32 ids[15];
	int ret;

	while (!atomic_load(&r->stop)) {
		ret = ioasid_alloc_ids(r->dev, 1, 15, 15, ids);
		if (ret != -EDQUOT)
			race_bad(r, "ALLOC under ioasids.max 0", ret);
		else
			atomic_fetch_add(&r->allocs, 1);
	}
	return NULL;
}

TEST_F_TIMEOUT(race, limited_tenant_holds_nothing, 120)
{
	char zero[PATH_MAX];
	struct race z = { .fd = -1 };
	pthread_t t[4];
	long tries = 0, full = 0;
	__u32 id;
	int i, ret;

	ASSERT_EQ(0, cg_make("zero", zero, sizeof(zero)));
	ASSERT_EQ(0, cg_write(zero, "ioasids.max", "0"));
	ASSERT_EQ(0, cg_enter(zero));
	/* The doomed file is the zero cgroup's; r->dev carries it. */
	z.dev = open("/dev/ioasid", O_RDWR);
	ASSERT_LE(0, z.dev);
	ASSERT_EQ(0, cg_enter(self->cg));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, doomed_allocator, &z));
	while (tries < 2000 || atomic_load(&z.allocs) < 100) {
		ret = ioasid_alloc_ids(self->r.fd, 1, 15, 1, &id);
		if (ret == -ENOSPC)
			full++;
		else if (!ret)
			ioasid_free_ids(self->r.fd, 1, &id);
		if (ret && ret != -ENOSPC)
			break;
		if (++tries > 200000)
			break;
	}
	atomic_store(&z.stop, true);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	TH_LOG("%ld allocations, %ld found [1, 15] full; %ld doomed",
	       tries, full, z.allocs);
	EXPECT_EQ(0, ret);
	EXPECT_EQ(0, full);
	EXPECT_EQ(0, z.bad) TH_LOG("%s", z.why);
	EXPECT_LT(99, z.allocs);
	close(z.dev);
	EXPECT_EQ(0, cg_current(zero));
	EXPECT_LT(0, cg_read_key(zero, "ioasids.events.local", "max"));
	EXPECT_EQ(0, cg_read_key(zero, "ioasids.peak", NULL));
	rmdir(zero);
}

/* Allocate and free one ID at a time, as a VMM's vCPUs do. */
static void *churner(void *arg)
{
	struct race *r = arg;
	__u32 ids[2];
	int ret;

	while (!atomic_load(&r->stop)) {
		ret = ioasid_alloc_ids(r->fd, 0, ~0U, 2, ids);
		if (ret == -EDQUOT)
			continue;
		if (ret) {
			race_bad(r, "ALLOC", ret);
			continue;
		}
		atomic_fetch_add(&r->allocs, 1);
		ret = ioasid_free_ids(r->fd, 2, ids);
		if (ret)
			race_bad(r, "FREE", ret);
	}
	return NULL;
}

static int set_cgroup(int fd, int cgfd)
{
	struct ioasid_set_cgroup cmd = { .size = sizeof(cmd),
					 .cgroup_fd = cgfd };

	return ioctl(fd, IOASID_SET_CGROUP, &cmd) ? -errno : 0;
}

/*
 * SET_CGROUP and SET_QUOTA while two threads allocate and free on the same
 * file: the cgroup changes only while the file holds nothing, every ID is
 * uncharged from the cgroup it was charged to, and a lowered quota holds
 * at once. Each round ends with both cgroups' ioasids.current at 0.
 */
TEST_F_TIMEOUT(race, set_cgroup_and_quota_during_allocs, 120)
{
	struct ioasid_set_quota q = { .size = sizeof(q), .quota = 2 };
	long rounds = 0, moved = 0, busy = 0, allocs = 0, before;
	double deadline;
	struct ioasid_info info;
	char vm[PATH_MAX];
	time_t end = time(NULL) + RUN_SECONDS;
	pthread_t t[2];
	int vmfd, i, ret;

	ASSERT_EQ(0, cg_make("vm", vm, sizeof(vm)));
	ASSERT_EQ(0, cg_write(vm, "ioasids.max", "max"));
	vmfd = open(vm, O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, vmfd);
	while (time(NULL) < end || rounds < 20) {
		struct race c = { .dev = -1 };

		c.fd = open("/dev/ioasid", O_RDWR);
		ASSERT_LE(0, c.fd);
		for (i = 0; i < 2; i++)
			ASSERT_EQ(0, pthread_create(&t[i], NULL, churner, &c));
		/* Let them start, then move the file's charge. */
		while (atomic_load(&c.allocs) < 20)
			sched_yield();
		for (i = 0; i < 100000; i++) {
			ret = set_cgroup(c.fd, vmfd);
			if (ret != -EBUSY)
				break;
			busy++;
		}
		EXPECT_EQ(0, ret);
		moved += !ret;
		/* From now on the file charges vm, not the opener's cgroup. */
		EXPECT_EQ(0, cg_current(self->cg));
		/*
		 * Two IDs per call, two threads: a quota of 2 lets one in.
		 * An allocation under way may finish (one per thread); the
		 * third to succeed after the quota was set began after it
		 * and found the file empty, and from then on the file never
		 * holds more than 2. (Counted from before the quota, the
		 * three could all have begun before it.)
		 */
		EXPECT_EQ(0, ioctl(c.fd, IOASID_SET_QUOTA, &q));
		before = atomic_load(&c.allocs);
		deadline = now_seconds() + settle_seconds();
		while (atomic_load(&c.allocs) < before + 3 &&
		       now_seconds() < deadline)
			usleep(1000);
		EXPECT_LE(before + 3, atomic_load(&c.allocs));
		for (i = 0; i < 20; i++) {
			ret = get_info(c.fd, &info);
			EXPECT_EQ(0, ret);
			EXPECT_GE(2, info.count);
			usleep(1000);
		}
		atomic_store(&c.stop, true);
		for (i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		EXPECT_EQ(0, c.bad) TH_LOG("%s", c.why);
		allocs += c.allocs;
		close(c.fd);
		EXPECT_EQ(0, cg_current(self->cg));
		EXPECT_EQ(0, cg_current(vm));
		if (c.bad || cg_current(vm) || cg_current(self->cg))
			break;
		rounds++;
	}
	TH_LOG("%ld rounds, %ld moved, %ld refused busy, %ld allocations",
	       rounds, moved, busy, allocs);
	EXPECT_EQ(rounds, moved);
	/* The threads did race the move. */
	EXPECT_LT(0, busy);
	close(vmfd);
	rmdir(vm);
}

static void __attribute__((destructor)) remove_test_cgroup(void)
{
	rmdir(TESTCG "/zero");
	rmdir(TESTCG "/vm");
	rmdir(TESTCG "/race");
	rmdir(TESTCG);
}

/*
 * FREE of a whole batch, all or nothing, while other FREEs of the same file
 * overlap it: WHOLE_MIN's 4096 IDs, which two threads free and allocate
 * again in turn; and FAIL_MIN's 4095 IDs, which one thread keeps freeing
 * with a 4096th that was never allocated, while another binds the first
 * of them and a third frees and allocates again one in the middle.
 */
#define WHOLE_MIN	8192
#define FAIL_MIN	16384
#define MAX_COUNT	4096
#define FAIL_ONE	(FAIL_MIN + 2000)

static void *whole_freer(void *arg)
{
	static __thread __u32 ids[MAX_COUNT];
	struct race *r = arg;
	int i, ret;

	while (!atomic_load(&r->stop)) {
		for (i = 0; i < MAX_COUNT; i++)
			ids[i] = WHOLE_MIN + i;
		ret = ioasid_free_ids(r->fd, MAX_COUNT, ids);
		if (ret == -ENOENT)	/* the other thread's turn */
			continue;
		if (ret) {
			race_bad(r, "FREE of a whole batch", ret);
			break;
		}
		atomic_fetch_add(&r->frees, 1);
		/* Freed by this thread: no one else may have taken any. */
		ret = ioasid_alloc_ids(r->fd, WHOLE_MIN,
				       WHOLE_MIN + MAX_COUNT - 1, MAX_COUNT,
				       ids);
		if (ret) {
			race_bad(r, "ALLOC of the batch just freed", ret);
			break;
		}
	}
	return NULL;
}

static void *failing_freer(void *arg)
{
	static __thread __u32 ids[MAX_COUNT];
	struct race *r = arg;
	int i, ret;

	while (!atomic_load(&r->stop)) {
		for (i = 0; i < MAX_COUNT; i++)
			ids[i] = FAIL_MIN + i;	/* the last was never ours */
		ret = ioasid_free_ids(r->fd, MAX_COUNT, ids);
		if (ret != -ENOENT)
			race_bad(r, "FREE naming an ID never allocated", ret);
		atomic_fetch_add(&r->finds, 1);
	}
	return NULL;
}

/* The first ID of the failing batch: live throughout, so bindable. */
static void *first_binder(void *arg)
{
	struct race *r = arg;
	int ret;

	while (!atomic_load(&r->stop)) {
		ret = bind_cmd(r->fd, IOASID_BIND, r->dev, FAIL_MIN);
		if (ret) {
			race_bad(r, "BIND of an ID a failing FREE names", ret);
			continue;
		}
		ret = bind_cmd(r->fd, IOASID_UNBIND, r->dev, FAIL_MIN);
		if (ret)
			race_bad(r, "UNBIND", ret);
		atomic_fetch_add(&r->binds, 1);
	}
	return NULL;
}

/*
 * Free @id alone and allocate it again at once, until told to stop,
 * counting each round in @rounds. ENOENT is a failure unless @may_be_gone.
 */
static void free_one_again(struct race *r, __u32 id, bool may_be_gone,
			   atomic_long *rounds)
{
	__u32 got;
	int ret;

	while (!atomic_load(&r->stop)) {
		got = id;
		ret = ioasid_free_ids(r->fd, 1, &got);
		if (ret == -ENOENT && may_be_gone)
			continue;
		if (ret) {
			race_bad(r, "FREE of one ID alone", ret);
			break;
		}
		ret = ioasid_alloc_ids(r->fd, id, id, 1, &got);
		if (ret) {
			race_bad(r, "ALLOC of the one ID just freed", ret);
			break;
		}
		atomic_fetch_add(rounds, 1);
	}
}

/* One ID of the failing batch, freed alone: never refused for it. */
static void *one_freer(void *arg)
{
	struct race *r = arg;

	free_one_again(r, FAIL_ONE, false, &r->allocs);
	return NULL;
}

/*
 * One ID of the whole batch, freed alone while the whole is freed and
 * allocated again: 0 (then allocated again at once) or ENOENT (the whole
 * batch was freed first), whether or not it met a larger FREE checking it.
 */
static void *whole_one_freer(void *arg)
{
	struct race *r = arg;

	free_one_again(r, WHOLE_MIN + 1234, true, &r->unbinds);
	return NULL;
}

TEST_F_TIMEOUT(race, free_all_or_nothing_while_others_free, 120)
{
	void *(*fn[])(void *) = { whole_freer, whole_freer, failing_freer,
				  first_binder, one_freer, whole_one_freer };
	static __u32 ids[MAX_COUNT];
	struct ioasid_info info;

	ASSERT_EQ(0, ioasid_alloc_ids(self->r.fd, WHOLE_MIN,
				      WHOLE_MIN + MAX_COUNT - 1, MAX_COUNT, ids));
	ASSERT_EQ(0, ioasid_alloc_ids(self->r.fd, FAIL_MIN,
				      FAIL_MIN + MAX_COUNT - 2, MAX_COUNT - 1,
				      ids));
	run_threads(&self->r, fn, ARRAY_SIZE(fn), RUN_SECONDS);
	TH_LOG("whole frees %ld, failed frees %ld, binds %ld, single frees %ld and %ld",
	       self->r.frees, self->r.finds, self->r.binds, self->r.allocs,
	       self->r.unbinds);
	EXPECT_EQ(0, self->r.bad) TH_LOG("%s", self->r.why);
	EXPECT_LT(0, self->r.frees);
	EXPECT_LT(0, self->r.finds);
	EXPECT_LT(0, self->r.binds);
	EXPECT_LT(0, self->r.allocs);
	ASSERT_EQ(0, get_info(self->r.fd, &info));
	EXPECT_EQ(2 * MAX_COUNT - 1, info.count);
	EXPECT_EQ(2 * MAX_COUNT - 1, cg_current(self->cg));
	close(self->r.fd);
	self->r.fd = -1;
}

/*
 * A batch becomes visible at once: whoever finds one of its IDs finds
 * all. One thread allocates all 4096 IDs of VIS_MIN's range in one ALLOC,
 * waits until the other has looked, and frees them; the other binds the
 * first ID as soon as it can, and then the last, which must be there too.
 */
#define VIS_MIN		24576

struct visible {
	struct race *r;
	atomic_int allocated;	/* the ALLOC of this batch returned */
	atomic_int acked;	/* the looker is done with it */
	atomic_long freed;	/* batches freed */
	atomic_long first_only;	/* found with the first ID, not the last */
};

static bool wait_for(struct visible *v, atomic_int *flag)
{
	while (!atomic_load(flag)) {
		if (atomic_load(&v->r->stop))
			return false;
		sched_yield();
	}
	return true;
}

/* Allocate the whole range in one ALLOC; free it once the looker looked. */
static void *batch_allocator(void *arg)
{
	static __thread __u32 ids[MAX_COUNT];
	struct visible *v = arg;
	struct race *r = v->r;
	int ret;

	while (!atomic_load(&r->stop)) {
		ret = ioasid_alloc_ids(r->fd, VIS_MIN, VIS_MIN + MAX_COUNT - 1,
				       MAX_COUNT, ids);
		if (ret) {
			race_bad(r, "ALLOC of the whole range", ret);
			break;
		}
		atomic_store(&v->allocated, 1);
		if (!wait_for(v, &v->acked))
			break;
		atomic_store(&v->acked, 0);
		atomic_store(&v->allocated, 0);
		ret = ioasid_free_ids(r->fd, MAX_COUNT, ids);
		if (ret) {
			race_bad(r, "FREE of the batch", ret);
			break;
		}
		atomic_fetch_add(&v->freed, 1);
	}
	return NULL;
}

/*
 * Bind the first ID as soon as it can be, then the last: the batch is not
 * freed until this thread says so, so the last must be there too.
 */
static void *batch_looker(void *arg)
{
	struct visible *v = arg;
	struct race *r = v->r;
	long freed;

	while (!atomic_load(&r->stop)) {
		freed = atomic_load(&v->freed);
		if (bind_cmd(r->fd, IOASID_BIND, r->dev, VIS_MIN))
			continue;	/* not visible yet */
		if (bind_cmd(r->fd, IOASID_BIND, r->dev,
			     VIS_MIN + MAX_COUNT - 1))
			atomic_fetch_add(&v->first_only, 1);
		else if (bind_cmd(r->fd, IOASID_UNBIND, r->dev,
				  VIS_MIN + MAX_COUNT - 1))
			race_bad(r, "UNBIND of the last ID", -1);
		if (bind_cmd(r->fd, IOASID_UNBIND, r->dev, VIS_MIN))
			race_bad(r, "UNBIND of the first ID", -1);
		if (!wait_for(v, &v->allocated))
			break;
		atomic_store(&v->acked, 1);
		while (atomic_load(&v->freed) == freed &&
		       !atomic_load(&r->stop))
			sched_yield();
	}
	return NULL;
}

TEST_F_TIMEOUT(race, batch_visible_at_once, 120)
{
	struct visible v = { .r = &self->r };
	pthread_t t[2];

	ASSERT_EQ(0, pthread_create(&t[0], NULL, batch_allocator, &v));
	ASSERT_EQ(0, pthread_create(&t[1], NULL, batch_looker, &v));
	sleep(RUN_SECONDS);
	atomic_store(&self->r.stop, true);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	TH_LOG("%ld batches, %ld found with their first ID but not their last",
	       v.freed, v.first_only);
	EXPECT_EQ(0, self->r.bad) TH_LOG("%s", self->r.why);
	EXPECT_LT(0, v.freed);
	EXPECT_EQ(0, v.first_only);
	close(self->r.fd);
	self->r.fd = -1;
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * Stress: everything at once, for a bounded time, in several cgroups.
 *
 * Worker processes, one per cgroup at first, each with several threads. A
 * thread has its own /dev/ioasid file and mock device files and knows
 * exactly which IDs it holds and where each is bound, so it checks every
 * result: allocate (EDQUOT and ENOSPC allowed), free, free what it does
 * not hold (ENOENT), bind and unbind (EEXIST, EOVERFLOW, ENOENT where they
 * are due), close and reopen its files, fork a child that allocates and
 * binds and exits without tidying up, bind its mm (SVA) in a child that
 * exits, move its process to another cgroup, change a random ioasids.max,
 * and make a cgroup, charge it and remove it while the charge lives.
 *
 * Meanwhile the parent checks that no ioasids.current or ioasids.peak is
 * negative or above the capacity and that events never go down, and every
 * few seconds it pauses the workers and checks that each cgroup's current
 * is the sum of the IDs of the sets charged to it or below it (debugfs
 * ioasid/sets), removed cgroups included. At the end, once everything has
 * exited: every current is 0, the root's is where it started, debugfs
 * lists no set that was not there before, the mock tables are empty, and
 * every ID the run can have used is free: IDs are handed out lowest first,
 * so one allocation of all of [1, 65535] covers every ID up to the highest
 * one seen, which must be far below 65535.
 *
 * Then one process, several threads, ONE /dev/ioasid file: each thread
 * allocates (some IDs with a private ID), frees, finds, binds, unbinds and
 * reads the info through the shared file, while another thread closes it
 * under them and publishes a new one. A call that no close overlapped is
 * checked exactly against what the thread holds; one that a close did
 * overlap may also see EBADF, ENOENT or EEXIST, and its thread forgets
 * what it held (the old file's release frees it). At the end the set is
 * gone, the mock tables are empty and the root's current is back.
 *
 * A run that did nothing passes nothing: each kind of operation must have
 * succeeded a minimum number of times (scaled to the run's length), and
 * every run prints its seed so that IOASIDS_SEED replays it.
 *
 *   ioasid_stress [seconds [shared-seconds]]
 *                 (default 20 and 10; IOASIDS_SEED=<n> to repeat)
 *
 * Exits 0 when all of that held, 1 otherwise.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <time.h>

#include "../selftests/ioasid/ioasid_util.h"
#include "ioasid_mock.h"

#define TOP		CGROOT "/ioasid_stress"
#define NR_CGS		4
#define NR_THREADS	3
#define MAX_HELD	256
#define SMALL		16	/* /dev/ioasid_mock1's table */

enum op {
	OP_ALLOC, OP_FREE, OP_FREE_NOT_MINE, OP_BIND, OP_UNBIND, OP_CLOSE,
	OP_CLOSE_DEV, OP_FORK, OP_SVA, OP_MIGRATE, OP_SET_MAX, OP_RMDIR,
	NR_OPS
};

static const char * const op_name[NR_OPS] = {
	"alloc", "free", "free-not-mine", "bind", "unbind", "close",
	"close-device", "fork", "sva", "migrate", "set-max", "rmdir",
};

/*
 * The least number of successes of each operation in a 20 s run (scaled to
 * the run's length, at least 1): about a fifth of what a run did under TCG
 * with every detector on and another guest sharing the 2 cores; a run
 * below these did not exercise the code.
 */
static const unsigned int floor_20s[NR_OPS] = {
	/* alloc free free' bind unbind close close-dev fork sva migr max rmdir */
	30, 30, 15, 10, 1, 10, 5, 1, 1, 10, 10, 3,
};

/* The shared-file phase: one /dev/ioasid file, many threads. */
enum shop {
	SH_ALLOC, SH_FREE, SH_FIND, SH_BIND, SH_UNBIND, SH_INFO, SH_CLOSE,
	NR_SH
};

static const char * const shop_name[NR_SH] = {
	"alloc", "free", "find", "bind", "unbind", "get-info", "close",
};

/* Successes of each kind the shared phase needs, per 10 s. */
static const unsigned int sh_floor_10s[NR_SH] = {
	20, 10, 3, 5, 1, 10, 3,
};

/* Shared by every process of the run. */
struct stats {
	atomic_ulong ops[NR_OPS];
	atomic_ulong ok[NR_OPS];	/* of ops[], those that succeeded */
	atomic_ulong sh_ok[NR_SH];	/* shared phase: checked successes */
	atomic_ulong sh_loose[NR_SH];	/* shared phase: overlapped a close */
	atomic_ulong refused;	/* EDQUOT, ENOSPC: limits doing their job */
	atomic_ulong checks;
	atomic_ulong errors;
	atomic_ulong sums;	/* quiescent checks of current against the sets */
	atomic_uint highest;	/* the highest ID a worker got */
	atomic_int stop;
	atomic_int pause;
	atomic_int paused;
};

static struct stats *st;
static unsigned long seed;
static int seconds = 20, shared_seconds = 10;

#define fail(fmt, ...)							\
	do {								\
		if (atomic_fetch_add(&st->errors, 1) < 20)		\
			fprintf(stderr, "stress: " fmt "\n", ##__VA_ARGS__); \
	} while (0)

struct worker {
	int proc, thread;
	unsigned long rng;
	int fd;
	int dev[2];
	unsigned int nr;
	__u32 ids[MAX_HELD];
	unsigned char bound[MAX_HELD];	/* bit n: bound to mock n */
};

static unsigned long rnd(struct worker *w)
{
	/* xorshift64 */
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return w->rng;
}

static void cg_name(int i, char *buf, size_t len)
{
	snprintf(buf, len, TOP "/cg%d", i);
}

static bool reopen(struct worker *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = open("/dev/ioasid", O_RDWR);
	if (w->fd < 0)
		fail("open /dev/ioasid: %s", strerror(errno));
	w->nr = 0;
	return w->fd >= 0;
}

static bool reopen_dev(struct worker *w, int n)
{
	char path[32];

	if (w->dev[n] >= 0)
		close(w->dev[n]);
	snprintf(path, sizeof(path), "/dev/ioasid_mock%d", n);
	w->dev[n] = open(path, O_RDWR);
	if (w->dev[n] < 0)
		fail("open %s: %s", path, strerror(errno));
	return w->dev[n] >= 0;
}

static int bind_cmd(struct worker *w, unsigned long req, int n, __u32 id)
{
	struct ioasid_bind cmd = {
		.size = sizeof(cmd), .dev_fd = w->dev[n], .id = id,
	};

	return ioctl(w->fd, req, &cmd) ? -errno : 0;
}

static void do_alloc(struct worker *w)
{
	unsigned int count = 1 + rnd(w) % 16, i;
	bool small = rnd(w) % 4 == 0;
	int ret;

	if (small)
		count = 1;
	if (w->nr + count > MAX_HELD)
		return;
	ret = ioasid_alloc_ids(w->fd, small ? 1 : 0, small ? SMALL - 1 : ~0U,
			       count, w->ids + w->nr);
	if (ret == -EDQUOT || ret == -ENOSPC) {
		atomic_fetch_add(&st->refused, 1);
		return;
	}
	if (ret) {
		fail("alloc %u: %s", count, strerror(-ret));
		return;
	}
	for (i = 0; i < count; i++) {
		unsigned int high = atomic_load(&st->highest);

		while (w->ids[w->nr + i] > high &&
		       !atomic_compare_exchange_weak(&st->highest, &high,
						     w->ids[w->nr + i]))
			;
		w->bound[w->nr + i] = 0;
	}
	w->nr += count;
	atomic_fetch_add(&st->ok[OP_ALLOC], 1);
}

static void do_free(struct worker *w)
{
	unsigned int count, i;
	__u32 ids[8];
	int ret;

	if (!w->nr)
		return;
	count = 1 + rnd(w) % (w->nr < 8 ? w->nr : 8);
	/* The last @count: they go together or not at all. */
	for (i = 0; i < count; i++)
		ids[i] = w->ids[w->nr - 1 - i];
	ret = ioasid_free_ids(w->fd, count, ids);
	if (ret) {
		fail("free %u of %u: %s", count, w->nr, strerror(-ret));
		return;
	}
	w->nr -= count;
	atomic_fetch_add(&st->ok[OP_FREE], 1);
}

static bool holds(struct worker *w, __u32 id)
{
	unsigned int i;

	for (i = 0; i < w->nr; i++)
		if (w->ids[i] == id)
			return true;
	return false;
}

static void do_free_not_mine(struct worker *w)
{
	__u32 ids[2] = { 1 + rnd(w) % NAMESPACE };
	unsigned int count = 1;
	int ret;

	if (holds(w, ids[0]))
		return;
	/* Together with one of its own: nothing is freed. */
	if (w->nr) {
		ids[1] = w->ids[rnd(w) % w->nr];
		count = 2;
	}
	ret = ioasid_free_ids(w->fd, count, ids);
	if (ret != -ENOENT)
		fail("free of ID %u, not ours: %s", ids[0], strerror(-ret));
	else
		atomic_fetch_add(&st->ok[OP_FREE_NOT_MINE], 1);
}

static void do_bind(struct worker *w, bool unbind)
{
	unsigned int i, n = rnd(w) % 2;
	int want, ret;

	if (!w->nr)
		return;
	i = rnd(w) % w->nr;
	if (unbind)
		want = w->bound[i] & (1 << n) ? 0 : -ENOENT;
	else if (n == 1 && w->ids[i] >= SMALL)
		want = -EOVERFLOW;
	else
		want = w->bound[i] & (1 << n) ? -EEXIST : 0;
	ret = bind_cmd(w, unbind ? IOASID_UNBIND : IOASID_BIND, n, w->ids[i]);
	if (ret != want) {
		fail("%s ID %u on mock%d: %s, not %s", unbind ? "unbind" : "bind",
		     w->ids[i], n, strerror(-ret), strerror(-want));
		return;
	}
	if (!ret) {
		w->bound[i] ^= 1 << n;
		atomic_fetch_add(&st->ok[unbind ? OP_UNBIND : OP_BIND], 1);
	}
}

/* A child's exit status when a limit refused it: not a failure, no success. */
#define REFUSED	100

/* A child that allocates, binds, and exits with everything held. */
static void do_fork(struct worker *w, bool sva)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		struct ioasid_bind cmd = { .size = sizeof(cmd) };
		__u32 ids[8], pasid;
		int fd, dev, ret;

		dev = open(rnd(w) % 2 ? "/dev/ioasid_mock0" :
			   "/dev/ioasid_mock1", O_RDWR);
		if (sva) {
			ret = ioctl(dev, IOASID_MOCK_SVA_BIND, &pasid) ? errno : 0;
			/* EOVERFLOW: the mm's PASID does not fit mock1. */
			_exit(ret == 0 ? 0 : ret == EDQUOT || ret == ENOSPC ||
			      ret == EOVERFLOW ? REFUSED : ret);
		}
		fd = open("/dev/ioasid", O_RDWR);
		if (fd < 0 || dev < 0)
			_exit(errno);
		ret = ioasid_alloc_ids(fd, 0, ~0U, 1 + rnd(w) % 8, ids);
		if (ret == -EDQUOT || ret == -ENOSPC)
			_exit(REFUSED);
		if (ret)
			_exit(-ret);
		cmd.dev_fd = dev;
		cmd.id = ids[0];
		ret = ioctl(fd, IOASID_BIND, &cmd) ? errno : 0;
		_exit(ret == 0 ? 0 : ret == EOVERFLOW ? REFUSED : ret);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid) {
		fail("fork: %s", strerror(errno));
		return;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		atomic_fetch_add(&st->ok[sva ? OP_SVA : OP_FORK], 1);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == REFUSED)
		atomic_fetch_add(&st->refused, 1);
	else
		fail("%s child: status %#x", sva ? "sva" : "fork", status);
}

static void do_migrate(struct worker *w)
{
	char cg[PATH_MAX];
	int ret;

	cg_name(rnd(w) % NR_CGS, cg, sizeof(cg));
	ret = cg_enter(cg);
	if (ret)
		fail("migrate to %s: %s", cg, strerror(-ret));
	else
		atomic_fetch_add(&st->ok[OP_MIGRATE], 1);
}

static void do_set_max(struct worker *w)
{
	static const char * const vals[] = { "max", "0", "1", "8", "64", "512" };
	char cg[PATH_MAX];
	int i = rnd(w) % (NR_CGS + 1), ret;

	if (i == NR_CGS)
		snprintf(cg, sizeof(cg), TOP);
	else
		cg_name(i, cg, sizeof(cg));
	ret = cg_write(cg, "ioasids.max", vals[rnd(w) % 6]);
	if (ret)
		fail("set max of %s: %s", cg, strerror(-ret));
	else
		atomic_fetch_add(&st->ok[OP_SET_MAX], 1);
}

/*
 * A cgroup that is removed while a file opened in it still holds IDs, and
 * allocates more: they are charged to the removed cgroup and its parents
 * until the file goes.
 */
static void do_rmdir(struct worker *w)
{
	char cg[PATH_MAX], home[PATH_MAX];
	int pipefd[2], status;
	pid_t pid;
	char c;

	snprintf(cg, sizeof(cg), TOP "/tmp-%d-%d", w->proc, w->thread);
	cg_name(w->proc, home, sizeof(home));
	if (mkdir(cg, 0755) || cg_write(cg, "ioasids.max", "32") ||
	    pipe(pipefd)) {
		fail("mkdir %s: %s", cg, strerror(errno));
		rmdir(cg);
		return;
	}
	pid = fork();
	if (pid == 0) {
		__u32 ids[8];
		int fd, ret;

		close(pipefd[0]);
		if (cg_enter(cg))
			_exit(1);
		fd = open("/dev/ioasid", O_RDWR);
		ret = ioasid_alloc_ids(fd, 0, ~0U, 4, ids);
		if (ret && ret != -EDQUOT && ret != -ENOSPC)
			_exit(2);
		/* Leave, and let the parent remove the cgroup. */
		if (cg_enter(home) || write(pipefd[1], "x", 1) != 1)
			_exit(3);
		close(pipefd[1]);
		ret = ioasid_alloc_ids(fd, 0, ~0U, 4, ids);
		_exit(ret && ret != -EDQUOT && ret != -ENOSPC ? 4 : 0);
	}
	close(pipefd[1]);
	if (pid < 0 || read(pipefd[0], &c, 1) != 1)
		fail("rmdir child did not leave %s", cg);
	close(pipefd[0]);
	if (rmdir(cg))
		fail("rmdir %s with a live charge: %s", cg, strerror(errno));
	if (pid > 0 && (waitpid(pid, &status, 0) != pid ||
			!WIFEXITED(status) || WEXITSTATUS(status)))
		fail("rmdir child: status %#x", status);
	else if (pid > 0)
		atomic_fetch_add(&st->ok[OP_RMDIR], 1);
}

static void *worker_thread(void *arg)
{
	/* alloc free free' bind unbind close close-dev fork sva migrate max rmdir */
	static const unsigned int weight[NR_OPS] = {
		30, 20, 4, 15, 10, 3, 2, 2, 2, 3, 3, 1,
	};
	struct worker *w = arg;
	unsigned int total = 0, pick, op;

	for (op = 0; op < NR_OPS; op++)
		total += weight[op];
	w->fd = -1;
	w->dev[0] = -1;
	w->dev[1] = -1;
	reopen(w);
	reopen_dev(w, 0);
	reopen_dev(w, 1);
	while (!atomic_load(&st->stop)) {
		if (atomic_load(&st->pause)) {
			atomic_fetch_add(&st->paused, 1);
			while (atomic_load(&st->pause))
				usleep(1000);
			atomic_fetch_sub(&st->paused, 1);
			continue;
		}
		pick = rnd(w) % total;
		for (op = 0; pick >= weight[op]; op++)
			pick -= weight[op];
		switch (op) {
		case OP_ALLOC:
			do_alloc(w);
			break;
		case OP_FREE:
			do_free(w);
			break;
		case OP_FREE_NOT_MINE:
			do_free_not_mine(w);
			break;
		case OP_BIND:
		case OP_UNBIND:
			do_bind(w, op == OP_UNBIND);
			break;
		case OP_CLOSE:
			if (reopen(w))
				atomic_fetch_add(&st->ok[op], 1);
			break;
		case OP_CLOSE_DEV:
			if (reopen_dev(w, rnd(w) % 2))
				atomic_fetch_add(&st->ok[op], 1);
			break;
		case OP_FORK:
		case OP_SVA:
			do_fork(w, op == OP_SVA);
			break;
		case OP_MIGRATE:
			do_migrate(w);
			break;
		case OP_SET_MAX:
			do_set_max(w);
			break;
		case OP_RMDIR:
			do_rmdir(w);
			break;
		}
		atomic_fetch_add(&st->ops[op], 1);
	}
	/* Half leave their files to exit(), half close them. */
	if (w->thread % 2) {
		close(w->fd);
		close(w->dev[0]);
		close(w->dev[1]);
	}
	return NULL;
}

static void worker_process(int proc)
{
	struct worker w[NR_THREADS] = {};
	pthread_t tid[NR_THREADS];
	char cg[PATH_MAX];
	int t;

	cg_name(proc, cg, sizeof(cg));
	if (cg_enter(cg))
		fail("enter %s", cg);
	for (t = 0; t < NR_THREADS; t++) {
		w[t].proc = proc;
		w[t].thread = t;
		w[t].rng = seed * 7919 + proc * 131 + t * 17 + 1;
		if (pthread_create(&tid[t], NULL, worker_thread, &w[t]))
			fail("pthread_create");
	}
	for (t = 0; t < NR_THREADS; t++)
		pthread_join(tid[t], NULL);
	_exit(0);
}

/* Every cgroup of the run, with the events it has seen so far. */
struct watched {
	char path[PATH_MAX];
	long events;
};

static long read_long(const char *cg, const char *file, const char *key)
{
	return cg_read_key(cg, file, key);
}

static void check_cgroups(struct watched *cgs, int nr, long capacity)
{
	long cur, peak, ev;
	int i;

	for (i = 0; i < nr; i++) {
		cur = read_long(cgs[i].path, "ioasids.current", NULL);
		peak = read_long(cgs[i].path, "ioasids.peak", NULL);
		ev = read_long(cgs[i].path, "ioasids.events", "max");
		if (cur < 0 || cur > capacity || peak < 0 || peak > capacity)
			fail("%s: current %ld, peak %ld", cgs[i].path, cur, peak);
		if (ev < cgs[i].events)
			fail("%s: events max went from %ld to %ld",
			     cgs[i].path, cgs[i].events, ev);
		cgs[i].events = ev;
		atomic_fetch_add(&st->checks, 1);
	}
}

static void read_text(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t got = 0;

	if (f) {
		got = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[got] = '\0';
}

/*
 * The IDs of the sets charged to @cg or below, from debugfs ioasid/sets:
 * "<type> <cgroup path, or - for the root> <quota> <count>[ dying]".
 */
static long sets_sum(const char *sets, const char *cg)
{
	const char *rel = cg + strlen(CGROOT);
	char type[16], path[PATH_MAX];
	unsigned long quota, count;
	long sum = 0;
	const char *line;

	for (line = sets; line && *line; line = strchr(line, '\n'),
	     line = line ? line + 1 : NULL) {
		if (*line == '#' ||
		    sscanf(line, "%15s %4095s %lu %lu", type, path, &quota,
			   &count) != 4)
			continue;
		if (!*rel || (!strncmp(path, rel, strlen(rel)) &&
			      (path[strlen(rel)] == '\0' ||
			       path[strlen(rel)] == '/')))
			sum += count;
	}
	return sum;
}

/*
 * With every worker paused, each cgroup's current is what its sets hold. A
 * set being released (an exited mm's) may be between its count and its
 * uncharge for a moment: look again before calling it a mismatch.
 */
static void check_sums(struct watched *cgs, int nr)
{
	static char sets[1 << 16];
	long cur = 0, sum = 0;
	int i, tries;

	atomic_store(&st->pause, 1);
	for (tries = 0; atomic_load(&st->paused) < NR_CGS * NR_THREADS; tries++) {
		if (tries == 30000) {
			fail("workers did not pause");
			goto out;
		}
		usleep(1000);
	}
	/* Up to 30 s: a loaded host under TCG is slow to run the releases. */
	for (tries = 0; tries < 3000; tries++) {
		read_text(IOASID_SETS, sets, sizeof(sets));
		for (i = 0; i < nr; i++) {
			cur = cg_current(cgs[i].path);
			sum = sets_sum(sets, cgs[i].path);
			if (cur != sum)
				break;
		}
		if (i == nr)
			break;
		usleep(10000);
	}
	if (i < nr)
		fail("%s: current %ld, its sets hold %ld", cgs[i].path, cur, sum);
	else
		printf("stress: paused: every current is its sets' sum, %ld at the root\n",
		       sum = sets_sum(sets, CGROOT));
	atomic_fetch_add(&st->sums, 1);
out:
	atomic_store(&st->pause, 0);
}

/* Every ID the run can have used, minus what the kernel holds, is free. */
#define CHECKED	65535U

static void check_ids_free(long root_base)
{
	__u32 *ids, count = CHECKED - root_base, got, n;
	int fd, ret;

	if (st->highest > CHECKED / 4)
		fail("IDs up to %u were used: [1, %u] does not cover them",
		     (unsigned int)st->highest, CHECKED);
	fd = open("/dev/ioasid", O_RDWR);
	ids = malloc(sizeof(*ids) * count);
	if (fd < 0 || !ids) {
		fail("open /dev/ioasid for the final check");
		return;
	}
	/* One call takes at most IOASID_MAX_COUNT IDs: fill [1, CHECKED]. */
	for (got = 0, ret = 0; got < count && !ret; got += n) {
		n = count - got < IOASID_MAX_COUNT ? count - got :
						      IOASID_MAX_COUNT;
		ret = ioasid_alloc_ids(fd, 1, CHECKED, n, ids + got);
	}
	if (ret)
		fail("allocating all %u IDs of [1, %u]: %s", count, CHECKED,
		     strerror(-ret));
	else
		printf("stress: the highest ID used was %u; all of [1, %u] free again\n",
		       (unsigned int)st->highest, CHECKED);
	free(ids);
	close(fd);
}

/* ---- one /dev/ioasid file, many threads, and a close racing with them ---- */

#define SH_THREADS	4
#define SH_HELD		64
#define SH_CG		TOP "/shared"

/* The file in use and its generation, read and replaced as one. */
static atomic_ullong sh_cur;
static atomic_int sh_stop;
static int sh_dev[2];

static unsigned long long sh_pack(unsigned int gen, int fd)
{
	return (unsigned long long)gen << 32 | (unsigned int)fd;
}

struct sh_thread {
	int n;
	unsigned long rng;
	unsigned long long cur;		/* the file @ids are in */
	unsigned int nr, next_spid;
	__u32 ids[SH_HELD], spid[SH_HELD];	/* spid 0: none */
	unsigned char bound[SH_HELD];
};

static unsigned long sh_rnd(struct sh_thread *t)
{
	t->rng ^= t->rng << 13;
	t->rng ^= t->rng >> 7;
	t->rng ^= t->rng << 17;
	return t->rng;
}

static void sh_forget(struct sh_thread *t, unsigned int i)
{
	t->nr--;
	t->ids[i] = t->ids[t->nr];
	t->spid[i] = t->spid[t->nr];
	t->bound[i] = t->bound[t->nr];
}

/*
 * One call through the shared file. @cur is the file and generation it was
 * made on; if a close published another file meanwhile, the call may have
 * met the closed one (EBADF), a file that has already released everything
 * (ENOENT), or the new one under the same number: only errors that can
 * explain are accepted, and the thread forgets what it held.
 */
static void sh_op(struct sh_thread *t)
{
	/* alloc x3, free x2, find, bind x2, unbind, info */
	static const enum shop kind[10] = {
		SH_ALLOC, SH_ALLOC, SH_ALLOC, SH_FREE, SH_FREE, SH_FIND,
		SH_BIND, SH_BIND, SH_UNBIND, SH_INFO,
	};
	unsigned long long cur = atomic_load(&sh_cur);
	int fd = (int)(cur & 0xffffffffu), op = sh_rnd(t) % 10, ret, n;
	unsigned int i = 0, count;
	bool overlapped;
	int want = 0;
	__u32 ids[4];

	if (cur != t->cur) {
		t->nr = 0;	/* the old file took them with it */
		t->cur = cur;
	}
	op = kind[op];
	if (op != SH_ALLOC && op != SH_INFO && !t->nr)
		op = SH_ALLOC;
	if (t->nr)
		i = sh_rnd(t) % t->nr;
	n = sh_rnd(t) % 2;

	switch (op) {
	case SH_ALLOC:
		if (t->nr + 4 > SH_HELD) {
			op = SH_FREE;
			goto free;
		}
		if (sh_rnd(t) % 3 == 0) {
			struct ioasid_alloc cmd = {
				.size = sizeof(cmd), .flags = IOASID_ALLOC_SPID,
				.count = 1, .max = ~0U,
				.spid = 1 + t->n * 100000 + t->next_spid++ % 100000,
				.ids = (uintptr_t)ids,
			};

			count = 1;
			ret = ioctl(fd, IOASID_ALLOC, &cmd) ? -errno : 0;
			if (!ret)
				t->spid[t->nr] = cmd.spid;
		} else {
			count = 1 + sh_rnd(t) % 4;
			ret = ioasid_alloc_ids(fd, 0, ~0U, count, ids);
			t->spid[t->nr] = 0;
		}
		overlapped = atomic_load(&sh_cur) != cur;
		if (ret == -EDQUOT || ret == -ENOSPC) {
			/* Refused: checked, but no success. */
			atomic_fetch_add(&st->refused, 1);
			return;
		}
		if (!ret && !overlapped) {
			for (n = 0; n < (int)count; n++) {
				t->ids[t->nr] = ids[n];
				t->spid[t->nr] = n ? 0 : t->spid[t->nr];
				t->bound[t->nr++] = 0;
			}
		}
		break;
	case SH_FREE:
free:
		ret = ioasid_free_ids(fd, 1, &t->ids[i]);
		overlapped = atomic_load(&sh_cur) != cur;
		if (!ret && !overlapped)
			sh_forget(t, i);
		break;
	case SH_FIND: {
		struct ioasid_find cmd = { .size = sizeof(cmd) };

		if (t->spid[i]) {
			cmd.flags = IOASID_FIND_BY_SPID;
			cmd.spid = t->spid[i];
		} else {
			cmd.flags = IOASID_FIND_BY_ID;
			cmd.id = t->ids[i];
			want = -ENOENT;	/* it has no private ID */
		}
		ret = ioctl(fd, IOASID_FIND, &cmd) ? -errno : 0;
		overlapped = atomic_load(&sh_cur) != cur;
		if (!ret && !overlapped && cmd.id != t->ids[i])
			fail("shared: find private ID %u: ID %u, not %u",
			     t->spid[i], cmd.id, t->ids[i]);
		break;
	}
	case SH_BIND:
	case SH_UNBIND: {
		struct ioasid_bind cmd = {
			.size = sizeof(cmd), .dev_fd = sh_dev[n], .id = t->ids[i],
		};

		if (op == SH_UNBIND)
			want = t->bound[i] & (1 << n) ? 0 : -ENOENT;
		else if (n == 1 && t->ids[i] >= SMALL)
			want = -EOVERFLOW;
		else
			want = t->bound[i] & (1 << n) ? -EEXIST : 0;
		ret = ioctl(fd, op == SH_BIND ? IOASID_BIND : IOASID_UNBIND,
			    &cmd) ? -errno : 0;
		overlapped = atomic_load(&sh_cur) != cur;
		if (!ret && !overlapped)
			t->bound[i] ^= 1 << n;
		break;
	}
	case SH_INFO:
	default: {
		struct ioasid_info info = { .size = sizeof(info) };

		op = SH_INFO;
		ret = ioctl(fd, IOASID_GET_INFO, &info) ? -errno : 0;
		overlapped = atomic_load(&sh_cur) != cur;
		if (!ret && !overlapped && info.count < t->nr)
			fail("shared: get-info: count %u, this thread alone holds %u",
			     info.count, t->nr);
		break;
	}
	}

	if (overlapped) {
		if (ret && ret != -EBADF && ret != -ENOENT && ret != -EEXIST &&
		    ret != -EOVERFLOW && ret != want)
			fail("shared: %s across a close: %s", shop_name[op],
			     strerror(-ret));
		atomic_fetch_add(&st->sh_loose[op], 1);
		t->nr = 0;
		t->cur = atomic_load(&sh_cur);
		return;
	}
	if (ret != want) {
		fail("shared: %s ID %u (thread %d): %s, not %s", shop_name[op],
		     t->nr ? t->ids[i] : 0, t->n, strerror(-ret),
		     strerror(-want));
		/* Whatever it holds now is unknown: start again. */
		t->nr = 0;
		return;
	}
	if (!ret)
		atomic_fetch_add(&st->sh_ok[op], 1);
}

static void *sh_worker(void *arg)
{
	struct sh_thread *t = arg;

	t->cur = atomic_load(&sh_cur);
	while (!atomic_load(&sh_stop))
		sh_op(t);
	return NULL;
}

/* Close the file under the workers, now and then, and publish a new one. */
static void *sh_closer(void *arg)
{
	unsigned long rng = (unsigned long)arg;
	unsigned long long cur;
	int fd;

	while (!atomic_load(&sh_stop)) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		usleep(50000 + rng % 250000);
		fd = open("/dev/ioasid", O_RDWR);
		if (fd < 0) {
			fail("shared: open /dev/ioasid: %s", strerror(errno));
			continue;
		}
		cur = atomic_load(&sh_cur);
		atomic_store(&sh_cur, sh_pack((cur >> 32) + 1, fd));
		if (close((int)(cur & 0xffffffffu)))
			fail("shared: close: %s", strerror(errno));
		else
			atomic_fetch_add(&st->sh_ok[SH_CLOSE], 1);
	}
	return NULL;
}

static void shared_process(void)
{
	struct sh_thread t[SH_THREADS] = {};
	pthread_t tid[SH_THREADS], closer;
	int i, fd;

	if (cg_enter(SH_CG))
		fail("enter %s", SH_CG);
	fd = open("/dev/ioasid", O_RDWR);
	sh_dev[0] = open("/dev/ioasid_mock0", O_RDWR);
	sh_dev[1] = open("/dev/ioasid_mock1", O_RDWR);
	if (fd < 0 || sh_dev[0] < 0 || sh_dev[1] < 0) {
		fail("shared: open: %s", strerror(errno));
		_exit(1);
	}
	atomic_store(&sh_cur, sh_pack(0, fd));
	for (i = 0; i < SH_THREADS; i++) {
		t[i].n = i;
		t[i].rng = seed * 104729 + i * 31 + 7;
		if (pthread_create(&tid[i], NULL, sh_worker, &t[i]))
			fail("pthread_create");
	}
	if (pthread_create(&closer, NULL, sh_closer,
			   (void *)(seed * 13 + 5)))
		fail("pthread_create");
	sleep(shared_seconds);
	atomic_store(&sh_stop, 1);
	for (i = 0; i < SH_THREADS; i++)
		pthread_join(tid[i], NULL);
	pthread_join(closer, NULL);
	/* Half the runs close the last file, half leave it to exit(). */
	if (seed % 2)
		close((int)(atomic_load(&sh_cur) & 0xffffffffu));
	_exit(0);
}

static void shared_phase(void)
{
	int status;
	pid_t pid;

	if (mkdir(SH_CG, 0755) && errno != EEXIST)
		fail("mkdir %s: %s", SH_CG, strerror(errno));
	/* The first phase left a random limit on TOP, 0 maybe. */
	cg_write(TOP, "ioasids.max", "2048");
	cg_write(SH_CG, "ioasids.max", "1024");
	printf("stress: %d s of %d threads on one /dev/ioasid file, closed under them\n",
	       shared_seconds, SH_THREADS);
	pid = fork();
	if (pid == 0)
		shared_process();
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		fail("shared-file process: status %#x", status);
}

/* Each kind of operation succeeded often enough for the run's length. */
static void check_floors(void)
{
	unsigned long want;
	int i;

	for (i = 0; i < NR_OPS; i++) {
		want = (unsigned long)floor_20s[i] * seconds / 20 ?: 1;
		if (st->ok[i] < want)
			fail("%s succeeded %lu times, fewer than %lu: the run did too little",
			     op_name[i], (unsigned long)st->ok[i], want);
	}
	if (!shared_seconds)
		return;
	for (i = 0; i < NR_SH; i++) {
		want = (unsigned long)sh_floor_10s[i] * shared_seconds / 10 ?: 1;
		if (st->sh_ok[i] < want)
			fail("shared: %s succeeded %lu times, fewer than %lu",
			     shop_name[i], (unsigned long)st->sh_ok[i], want);
	}
}

int main(int argc, char **argv)
{
	struct watched cgs[NR_CGS + 3];
	char sets_base[4096], sets[4096];
	long root_base, capacity, cur;
	pid_t pids[NR_CGS];
	struct timespec t0, t1;
	unsigned long total = 0;
	int i, nr_cgs = 0, status;

	if (argc > 1)
		seconds = atoi(argv[1]);
	if (argc > 2)
		shared_seconds = atoi(argv[2]);
	seed = getenv("IOASIDS_SEED") ? strtoul(getenv("IOASIDS_SEED"), NULL, 0)
				      : (unsigned long)time(NULL);
	if (access("/dev/ioasid", R_OK | W_OK) || mock_entries(0) < 0) {
		printf("stress: needs /dev/ioasid and the mock hardware\n");
		return 4;
	}
	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (st == MAP_FAILED)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("stress: %d s, %d cgroups x %d threads, then %d s on one file, IOASIDS_SEED=%lu\n",
	       seconds, NR_CGS, NR_THREADS, shared_seconds, seed);

	root_base = cg_current(CGROOT);
	capacity = cg_read_key(CGROOT, "ioasids.capacity", NULL);
	read_text(IOASID_SETS, sets_base, sizeof(sets_base));
	cg_write(CGROOT, "cgroup.subtree_control", "+ioasids");
	mkdir(TOP, 0755);
	cg_write(TOP, "cgroup.subtree_control", "+ioasids");
	cg_write(TOP, "ioasids.max", "2048");
	snprintf(cgs[nr_cgs++].path, PATH_MAX, CGROOT);
	snprintf(cgs[nr_cgs++].path, PATH_MAX, TOP);
	for (i = 0; i < NR_CGS; i++) {
		cg_name(i, cgs[nr_cgs].path, PATH_MAX);
		if (mkdir(cgs[nr_cgs].path, 0755) && errno != EEXIST)
			fail("mkdir %s: %s", cgs[nr_cgs].path, strerror(errno));
		nr_cgs++;
	}
	/* The root has no ioasids.events: -1 there. */
	for (i = 0; i < nr_cgs; i++)
		cgs[i].events = i ? 0 : -1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < NR_CGS; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			worker_process(i);
	}
	do {
		check_cgroups(cgs, nr_cgs, capacity);
		usleep(20000);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec >= 5 * ((long)st->sums + 1))
			check_sums(cgs, nr_cgs);
	} while (t1.tv_sec - t0.tv_sec < seconds);
	atomic_store(&st->stop, 1);
	for (i = 0; i < NR_CGS; i++)
		if (pids[i] < 0 || waitpid(pids[i], &status, 0) != pids[i] ||
		    !WIFEXITED(status) || WEXITSTATUS(status))
			fail("worker %d: status %#x", i, status);
	check_cgroups(cgs, nr_cgs, capacity);

	if (shared_seconds) {
		snprintf(cgs[nr_cgs].path, PATH_MAX, SH_CG);
		cgs[nr_cgs++].events = 0;
		shared_phase();
		check_cgroups(cgs, nr_cgs, capacity);
	}

	printf("stress: %-14s %8s %8s\n", "operation", "tried", "done");
	for (i = 0; i < NR_OPS; i++) {
		total += st->ops[i];
		printf("stress: %-14s %8lu %8lu\n", op_name[i],
		       (unsigned long)st->ops[i], (unsigned long)st->ok[i]);
	}
	for (i = 0; i < NR_SH && shared_seconds; i++)
		printf("stress: shared %-7s %8lu checked, %lu across a close\n",
		       shop_name[i], (unsigned long)st->sh_ok[i],
		       (unsigned long)st->sh_loose[i]);
	check_floors();
	printf("stress: %lu operations (%lu refused by a limit)\n",
	       total, (unsigned long)st->refused);
	printf("stress: %lu cgroup checks, %lu sum checks\n",
	       (unsigned long)st->checks,
	       (unsigned long)st->sums);

	/* Everything has exited: nothing may be left. */
	cur = wait_current(CGROOT, root_base);
	if (cur != root_base)
		fail("root current %ld, was %ld", cur, root_base);
	for (i = 1; i < nr_cgs; i++) {
		cur = cg_current(cgs[i].path);
		if (cur)
			fail("%s: current %ld after everything exited",
			     cgs[i].path, cur);
	}
	if (!sets_settle(sets_base, sets, sizeof(sets)))
		fail("sets left:\n%s\nbefore:\n%s", sets, sets_base);
	if (!mocks_settle())
		fail("mock tables: %d and %d entries left", mock_entries(0),
		     mock_entries(1));
	check_ids_free(root_base);
	if (cg_current(CGROOT) != root_base)
		fail("root current %ld after the final check", cg_current(CGROOT));

	for (i = nr_cgs - 1; i >= 1; i--)
		if (rmdir(cgs[i].path))
			fail("rmdir %s: %s", cgs[i].path, strerror(errno));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("stress: %lu errors, %ld s in all\n", (unsigned long)st->errors,
	       (long)(t1.tv_sec - t0.tv_sec));
	if (st->errors)
		printf("stress: FAILED; replay with IOASIDS_SEED=%lu\n", seed);
	return st->errors ? 1 : 0;
}

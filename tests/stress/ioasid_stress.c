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
 *   ioasid_stress [seconds]     (default 20; IOASIDS_SEED=<n> to repeat)
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

/* Shared by every process of the run. */
struct stats {
	atomic_ulong ops[NR_OPS];
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

static void reopen(struct worker *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = open("/dev/ioasid", O_RDWR);
	if (w->fd < 0)
		fail("open /dev/ioasid: %s", strerror(errno));
	w->nr = 0;
}

static void reopen_dev(struct worker *w, int n)
{
	char path[32];

	if (w->dev[n] >= 0)
		close(w->dev[n]);
	snprintf(path, sizeof(path), "/dev/ioasid_mock%d", n);
	w->dev[n] = open(path, O_RDWR);
	if (w->dev[n] < 0)
		fail("open %s: %s", path, strerror(errno));
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
	if (!ret)
		w->bound[i] ^= 1 << n;
}

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
			_exit(ret == 0 || ret == EDQUOT || ret == ENOSPC ||
			      ret == EOVERFLOW ? 0 : ret);
		}
		fd = open("/dev/ioasid", O_RDWR);
		ret = ioasid_alloc_ids(fd, 0, ~0U, 1 + rnd(w) % 8, ids);
		if (ret == -EDQUOT || ret == -ENOSPC)
			_exit(0);
		if (ret)
			_exit(-ret);
		cmd.dev_fd = dev;
		cmd.id = ids[0];
		ret = ioctl(fd, IOASID_BIND, &cmd) ? errno : 0;
		_exit(ret == 0 || ret == EOVERFLOW ? 0 : ret);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid) {
		fail("fork: %s", strerror(errno));
		return;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status))
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
			reopen(w);
			break;
		case OP_CLOSE_DEV:
			reopen_dev(w, rnd(w) % 2);
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
	for (tries = 0; tries < 100; tries++) {
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

/* Every ID the run can have used, minus what the kernel holds, in one go. */
#define CHECKED	65535U

static void check_ids_free(long root_base)
{
	__u32 *ids, count = CHECKED - root_base;
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
	ret = ioasid_alloc_ids(fd, 1, CHECKED, count, ids);
	if (ret)
		fail("allocating all %u IDs of [1, %u]: %s", count, CHECKED,
		     strerror(-ret));
	else
		printf("stress: the highest ID used was %u; all of [1, %u] free again\n",
		       (unsigned int)st->highest, CHECKED);
	free(ids);
	close(fd);
}

int main(int argc, char **argv)
{
	struct watched cgs[NR_CGS + 2];
	char sets_base[4096], sets[4096];
	int seconds = argc > 1 ? atoi(argv[1]) : 20;
	long root_base, capacity, cur;
	pid_t pids[NR_CGS];
	struct timespec t0, t1;
	unsigned long total = 0;
	int i, nr_cgs = 0, status;

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
	printf("stress: %d s, %d cgroups x %d threads, IOASIDS_SEED=%lu\n",
	       seconds, NR_CGS, NR_THREADS, seed);

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

	for (i = 0; i < NR_OPS; i++) {
		total += st->ops[i];
		printf("stress: %-14s %lu\n", op_name[i],
		       (unsigned long)st->ops[i]);
	}
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
	if (mock_entries(0) || mock_entries(1))
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
	return st->errors ? 1 : 0;
}

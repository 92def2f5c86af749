// SPDX-License-Identifier: GPL-2.0
/*
 * make bench, user side: the costs a VMM sees through /dev/ioasid. Each
 * measurement prints "RESULT <name> <ns per operation>"; the guest job
 * (bench-job) runs it from different cgroups and tests/bench/report.py
 * turns the figures into ratios.
 *
 *   ioasid_bench_user alloc1 N     alloc + free of one ID, N times
 *   ioasid_bench_user null N       an ioctl the device refuses at once
 *   ioasid_bench_user batch N      per ID: 64 in one ALLOC + one FREE
 *   ioasid_bench_user single N     per ID: 64 single ALLOCs + FREEs
 *   ioasid_bench_user scale K N    alloc1 with K other IDs live
 *   ioasid_bench_user memory       slab bytes per live ID, all IDs live
 *   ioasid_bench_user hold K       allocate K IDs, then wait for stdin EOF
 *   ioasid_bench_user sets K N     open + close of one more /dev/ioasid fd
 *                                  (one more set), with K other fds open
 *   ioasid_bench_user threads T N  alloc1 on the one fd (one set) in each
 *                                  of T threads at once, thread i on CPU i:
 *                                  the mean of their ns per op
 *   ioasid_bench_user kern "TEST ARGS"  write TEST ARGS to the bench
 *                                  module's run file and read back, on the
 *                                  same open file, its ns per op
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <linux/ioasid.h>

#define BATCH	64

static int fd;

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "ioasid_bench_user: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void alloc_ids(__u32 count, __u32 *ids)
{
	struct ioasid_alloc cmd = {
		.size = sizeof(cmd), .max = ~0U, .count = count,
		.ids = (uintptr_t)ids,
	};

	if (ioctl(fd, IOASID_ALLOC, &cmd))
		die("IOASID_ALLOC");
}

static void free_ids(__u32 count, __u32 *ids)
{
	struct ioasid_free cmd = {
		.size = sizeof(cmd), .count = count, .ids = (uintptr_t)ids,
	};

	if (ioctl(fd, IOASID_FREE, &cmd))
		die("IOASID_FREE");
}

static double alloc1(long n)
{
	__u64 start = now_ns();
	__u32 id;
	long i;

	for (i = 0; i < n; i++) {
		alloc_ids(1, &id);
		free_ids(1, &id);
	}
	return (double)(now_ns() - start) / n;
}

static double null_ioctl(long n)
{
	__u64 start = now_ns();
	long i;

	for (i = 0; i < n; i++)
		if (ioctl(fd, _IO(IOASID_TYPE, IOASID_CMD_BASE + 0x30), 0) != -1)
			die("null ioctl succeeded");
	return (double)(now_ns() - start) / n;
}

static double batch(long n, int one_by_one)
{
	__u32 ids[BATCH];
	__u64 start = now_ns();
	long i;
	int j;

	for (i = 0; i < n; i++) {
		if (one_by_one) {
			for (j = 0; j < BATCH; j++)
				alloc_ids(1, &ids[j]);
			for (j = 0; j < BATCH; j++)
				free_ids(1, &ids[j]);
		} else {
			alloc_ids(BATCH, ids);
			free_ids(BATCH, ids);
		}
	}
	return (double)(now_ns() - start) / (n * BATCH);
}

static long slab_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		die("/proc/meminfo");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Slab: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static __u32 *hold(long k)
{
	__u32 *ids = calloc(k ? k : 1, sizeof(*ids));

	if (!ids)
		die("calloc");
	/* IOASID_MAX_COUNT at most per call. */
	for (long i = 0; i < k; i += IOASID_MAX_COUNT)
		alloc_ids(k - i < IOASID_MAX_COUNT ? k - i : IOASID_MAX_COUNT,
			  ids + i);
	return ids;
}

/* open + close of one more set, with k other sets (fds) open. */
static double sets(long k, long n)
{
	struct rlimit rl;
	__u64 start;
	long i;
	int f;

	/* Raising the hard limit takes root (the guest's job runs as root). */
	if (getrlimit(RLIMIT_NOFILE, &rl))
		die("getrlimit RLIMIT_NOFILE");
	if (rl.rlim_cur < (rlim_t)k + 64) {
		rl.rlim_cur = k + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			die("setrlimit RLIMIT_NOFILE");
	}
	for (i = 0; i < k; i++)
		if (open("/dev/ioasid", O_RDWR | O_CLOEXEC) < 0)
			die("/dev/ioasid, the others");
	start = now_ns();
	for (i = 0; i < n; i++) {
		f = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
		if (f < 0)
			die("/dev/ioasid");
		close(f);
	}
	return (double)(now_ns() - start) / n;
}

struct worker {
	pthread_t thread;
	int cpu;
	long n;
	double ns;
};

static pthread_barrier_t start_line;

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	cpu_set_t cpus;

	CPU_ZERO(&cpus);
	CPU_SET(w->cpu, &cpus);
	errno = pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus);
	if (errno)
		die("pthread_setaffinity_np");
	pthread_barrier_wait(&start_line);
	w->ns = alloc1(w->n);
	return NULL;
}

/* t threads allocating and freeing on the one fd, each on a CPU of its own. */
static double threads(int t, long n)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct worker *w = calloc(t, sizeof(*w));
	double sum = 0;
	int i;

	if (!w)
		die("calloc");
	pthread_barrier_init(&start_line, NULL, t);
	for (i = 0; i < t; i++) {
		w[i].cpu = i % (ncpu > 0 ? ncpu : 1);
		w[i].n = n;
		errno = pthread_create(&w[i].thread, NULL, worker_run, &w[i]);
		if (errno)
			die("pthread_create");
	}
	for (i = 0; i < t; i++) {
		pthread_join(w[i].thread, NULL);
		sum += w[i].ns;
	}
	free(w);
	return sum / t;
}

/*
 * One run of the bench module, on one open file (each reads back its own
 * result): "ida 200000 1" waits at the module's barrier, then times.
 */
static double kern(const char *cmd)
{
	int f = open("/sys/kernel/debug/ioasid_bench/run", O_RDWR | O_CLOEXEC);
	char buf[32];
	ssize_t n;

	if (f < 0)
		die("ioasid_bench/run");
	if (write(f, cmd, strlen(cmd)) != (ssize_t)strlen(cmd))
		die(cmd);
	n = pread(f, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		die("reading ioasid_bench/run");
	buf[n] = '\0';
	close(f);
	return atof(buf);
}

int main(int argc, char **argv)
{
	struct ioasid_info info = { .size = sizeof(info) };
	long n = argc > 2 ? atol(argv[2]) : 0;
	const char *what = argc > 1 ? argv[1] : "";
	char buf[64];

	if (!strcmp(what, "kern") && argc == 3) {
		printf("RESULT kern %.1f\n", kern(argv[2]));
		return 0;
	}
	fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("/dev/ioasid");
	if (ioctl(fd, IOASID_GET_INFO, &info))
		die("IOASID_GET_INFO");

	if (!strcmp(what, "alloc1")) {
		printf("RESULT alloc1 %.1f\n", alloc1(n));
	} else if (!strcmp(what, "null")) {
		printf("RESULT null %.1f\n", null_ioctl(n));
	} else if (!strcmp(what, "batch")) {
		printf("RESULT batch %.1f\n", batch(n, 0));
	} else if (!strcmp(what, "single")) {
		printf("RESULT single %.1f\n", batch(n, 1));
	} else if (!strcmp(what, "scale") && argc > 3) {
		/* n other IDs live, then alloc1 at the high end of the tree. */
		hold(n);
		printf("RESULT scale_%ld %.1f\n", n, alloc1(atol(argv[3])));
	} else if (!strcmp(what, "memory")) {
		long before = slab_kb(), after;
		long k = info.capacity;

		hold(k);
		after = slab_kb();
		printf("RESULT memory_bytes_per_id %.1f\n",
		       (after - before) * 1024.0 / k);
		printf("RESULT memory_ids %ld\n", k);
	} else if (!strcmp(what, "sets") && argc > 3) {
		printf("RESULT sets_%ld %.1f\n", n, sets(n, atol(argv[3])));
	} else if (!strcmp(what, "threads") && argc > 3 && n > 0) {
		printf("RESULT threads_%ld %.1f\n", n,
		       threads(n, atol(argv[3])));
	} else if (!strcmp(what, "hold")) {
		hold(n);
		while (read(0, buf, sizeof(buf)) > 0)
			;
	} else {
		fprintf(stderr, "usage: see the comment at the top\n");
		return 2;
	}
	return 0;
}

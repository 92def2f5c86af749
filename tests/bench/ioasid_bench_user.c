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
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
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

int main(int argc, char **argv)
{
	struct ioasid_info info = { .size = sizeof(info) };
	long n = argc > 2 ? atol(argv[2]) : 0;
	const char *what = argc > 1 ? argv[1] : "";
	char buf[64];

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

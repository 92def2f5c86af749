/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the /dev/ioasid selftests and the stress tests: the
 * ioasids cgroup files, the ioctls (each returning 0 or -errno) and the mock
 * hardware's PASID tables. Define _GNU_SOURCE before including it.
 */
#ifndef IOASID_UTIL_H
#define IOASID_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/ioasid.h>

#define CGROOT		"/sys/fs/cgroup"
#define TESTCG		CGROOT "/ioasid_test"
#define NAMESPACE	((1U << 20) - 1)
#define MOCK_DBG	"/sys/kernel/debug/ioasid_mock/ioasid_mock"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

static inline int cg_write(const char *cg, const char *file,
			   const char *val)
{
	char path[PATH_MAX];
	int fd, ret;

	if (snprintf(path, sizeof(path), "%s/%s", cg, file) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	ret = write(fd, val, strlen(val)) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

static inline long cg_read_key(const char *cg, const char *file,
			       const char *key)
{
	char path[PATH_MAX], buf[512], *p;
	ssize_t len;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", cg, file) >= sizeof(path))
		return -1;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len < 0)
		return -1;
	buf[len] = '\0';
	if (!key)
		return strtol(buf, NULL, 10);
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (!strncmp(p, key, strlen(key)) && p[strlen(key)] == ' ')
			return strtol(p + strlen(key) + 1, NULL, 10);
	return -1;
}

static inline long cg_current(const char *cg)
{
	return cg_read_key(cg, "ioasids.current", NULL);
}

static inline int cg_enter(const char *cg)
{
	return cg_write(cg, "cgroup.procs", "0");
}

/* Make TESTCG/name with ioasids enabled on the way; returns 0 or -errno. */
static inline int cg_make(const char *name, char *path, size_t len)
{
	cg_write(CGROOT, "cgroup.subtree_control", "+ioasids");
	mkdir(TESTCG, 0755);
	cg_write(TESTCG, "cgroup.subtree_control", "+ioasids");
	snprintf(path, len, "%s/%s", TESTCG, name);
	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

static inline int ioasid_alloc_ids(int fd, __u32 min, __u32 max,
				   __u32 count, __u32 *ids)
{
	struct ioasid_alloc cmd = {
		.size = sizeof(cmd), .min = min, .max = max, .count = count,
		.ids = (uintptr_t)ids,
	};

	return ioctl(fd, IOASID_ALLOC, &cmd) ? -errno : 0;
}

static inline int ioasid_alloc_one(int fd, __u32 *id)
{
	return ioasid_alloc_ids(fd, 0, ~0U, 1, id);
}

static inline int ioasid_free_ids(int fd, __u32 count, __u32 *ids)
{
	struct ioasid_free cmd = {
		.size = sizeof(cmd), .count = count, .ids = (uintptr_t)ids,
	};

	return ioctl(fd, IOASID_FREE, &cmd) ? -errno : 0;
}

static inline int get_info(int fd, struct ioasid_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return ioctl(fd, IOASID_GET_INFO, info) ? -errno : 0;
}

/*
 * The value of the @nth (from 0) line "@key:<tab>value" in the fdinfo of
 * @fd, without its newline, in @val; returns how many such lines there are.
 */
static inline int fdinfo_get(int fd, const char *key, int nth, char *val,
			     size_t len)
{
	char path[64], line[PATH_MAX + 64];
	size_t klen = strlen(key);
	int found = 0;
	FILE *f;

	if (val && len)
		val[0] = '\0';
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) || strncmp(line + klen, ":\t", 2))
			continue;
		if (found++ == nth && val && len) {
			size_t n = strcspn(line + klen + 2, "\n");

			n = n < len ? n : len - 1;
			memcpy(val, line + klen + 2, n);
			val[n] = '\0';
		}
	}
	fclose(f);
	return found;
}

static inline __u32 ioasid_count(int fd)
{
	struct ioasid_info info;

	return get_info(fd, &info) ? ~0U : info.count;
}

/* The PASIDs programmed into mock device @n, or -1 if it has no table. */
static inline int mock_table(int n, __u32 *ids, int max)
{
	char path[PATH_MAX], line[64];
	int count = 0;
	FILE *f;

	snprintf(path, sizeof(path), MOCK_DBG "%d", n);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "max_pasids ", 11))
			continue;
		if (count < max)
			ids[count] = strtoul(line, NULL, 10);
		count++;
	}
	fclose(f);
	return count;
}

static inline int mock_entries(int n)
{
	return mock_table(n, NULL, 0);
}

static inline bool mock_has(int n, __u32 id)
{
	__u32 ids[64];
	int i, count = mock_table(n, ids, 64);

	for (i = 0; i < count && i < 64; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/*
 * An exited process's mm, and with it its PASID, is freed only when every
 * CPU that ran it has switched to another mm: an idle CPU keeps it as its
 * lazy TLB mm until then. Run a process on each CPU to get that over with.
 */
static inline void switch_every_cpu(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t mask;
	pid_t pid;
	int cpu;

	for (cpu = 0; cpu < cpus && cpu < CPU_SETSIZE; cpu++) {
		pid = fork();
		if (pid == 0) {
			CPU_ZERO(&mask);
			CPU_SET(cpu, &mask);
			_exit(sched_setaffinity(0, sizeof(mask), &mask) ? 1 : 0);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
}

static inline int count_line(const char *text, const char *line, size_t len)
{
	const char *p;
	int n = 0;

	for (p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, line, len) && (p[len] == '\n' || !p[len]))
			n++;
	return n;
}

/*
 * Whether debugfs ioasid/sets text @now lists a set that @before did not:
 * a line more often than before. Sets that went since (an earlier test's
 * exited mm, released late) are not the caller's business.
 */
static inline bool sets_added(const char *before, const char *now)
{
	const char *p, *end;
	size_t len;

	for (p = now; p && *p; p = end ? end + 1 : NULL) {
		end = strchr(p, '\n');
		len = end ? (size_t)(end - p) : strlen(p);
		if (count_line(now, p, len) > count_line(before, p, len))
			return true;
	}
	return false;
}

#define IOASID_SETS	"/sys/kernel/debug/ioasid/sets"

/* debugfs ioasid/sets into @buf, "" if it cannot be read. */
static inline void read_sets(char *buf, size_t len)
{
	FILE *f = fopen(IOASID_SETS, "r");

	buf[f ? fread(buf, 1, len - 1, f) : 0] = '\0';
	if (f)
		fclose(f);
}

/* Seconds since an arbitrary point, for deadlines. */
static inline double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * How long to wait for the kernel to finish deferred work (an exited mm's
 * PASID goes from a workqueue): a deadline for a hang on a loaded 2-core
 * machine under TCG, not an estimate. IOASIDS_SETTLE_SECONDS overrides it.
 */
static inline double settle_seconds(void)
{
	const char *s = getenv("IOASIDS_SETTLE_SECONDS");

	return s ? atof(s) : 60;
}

/*
 * Wait, running a process on each CPU so that exited mms go, for
 * ioasid/sets to list no set that @before did not. @now gets what it
 * listed last; false if a set stayed until the deadline.
 */
static inline bool sets_settle(const char *before, char *now, size_t len)
{
	double deadline = now_seconds() + settle_seconds();

	for (;;) {
		read_sets(now, len);
		if (!sets_added(before, now))
			return true;
		if (now_seconds() > deadline)
			return false;
		switch_every_cpu();
		usleep(10000);
	}
}

/* Wait, to the deadline, for both mock PASID tables to be empty. */
static inline bool mocks_settle(void)
{
	double deadline = now_seconds() + settle_seconds();

	while (mock_entries(0) || mock_entries(1)) {
		if (now_seconds() > deadline)
			return false;
		switch_every_cpu();
		usleep(10000);
	}
	return true;
}

/* The mm's PASID goes from a workqueue: wait for @want, to a deadline. */
static inline long wait_current(const char *cg, long want)
{
	double deadline = now_seconds() + settle_seconds();
	long cur = cg_current(cg);

	while (cur != want && now_seconds() < deadline) {
		switch_every_cpu();
		usleep(10000);
		cur = cg_current(cg);
	}
	return cur;
}

#endif /* IOASID_UTIL_H */

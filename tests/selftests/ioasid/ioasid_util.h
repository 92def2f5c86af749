/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the /dev/ioasid selftests: the ioasids cgroup files and
 * the ioctls, each returning 0 or -errno.
 */
#ifndef IOASID_UTIL_H
#define IOASID_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/ioasid.h>

#define CGROOT		"/sys/fs/cgroup"
#define TESTCG		CGROOT "/ioasid_test"
#define NAMESPACE	((1U << 20) - 1)

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

static inline __u32 ioasid_count(int fd)
{
	struct ioasid_info info;

	return get_info(fd, &info) ? ~0U : info.count;
}

#endif /* IOASID_UTIL_H */

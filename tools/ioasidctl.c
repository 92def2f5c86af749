// SPDX-License-Identifier: GPL-2.0
/*
 * ioasidctl: allocate PASIDs through /dev/ioasid, and read and set the
 * ioasids cgroup controller's limits.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/ioasid.h>

#define DEV_IOASID	"/dev/ioasid"

static const char *cg_root = "/sys/fs/cgroup";

static const char usage_text[] =
"Usage: ioasidctl COMMAND [OPTIONS]\n"
"\n"
"Allocate PCIe PASIDs (IOASIDs) through /dev/ioasid, and read and set the\n"
"limits of the ioasids cgroup controller.\n"
"\n"
"Commands:\n"
"  alloc [--count N] [--range MIN:MAX] [--quota N] [--hold]\n"
"      Open /dev/ioasid, allocate N IDs (default 1, all or nothing) within\n"
"      [MIN, MAX] (default: the whole namespace) and print them, one per\n"
"      line. The IDs are charged to the ioasids cgroup of this process.\n"
"      --quota N sets the file's own quota first. Without --hold the IDs\n"
"      are freed when ioasidctl exits; with --hold it keeps them until its\n"
"      standard input closes or it gets SIGINT or SIGTERM.\n"
"      A refused allocation prints one line saying what refused it: the\n"
"      file's quota, the ioasids.max of a named cgroup, or the namespace.\n"
"\n"
"  info\n"
"      The namespace's capacity and ID range, how many IDs the whole system\n"
"      holds, and how many more this process could allocate now.\n"
"\n"
"  tree [CGROUP]\n"
"      The cgroup tree below CGROUP (default: the root) with ioasids.current,\n"
"      ioasids.max, ioasids.peak and the refusals counted in ioasids.events,\n"
"      for every cgroup where the controller is enabled.\n"
"\n"
"  set-max CGROUP N|max\n"
"      Write ioasids.max of CGROUP.\n"
"\n"
"CGROUP is a path below the cgroup v2 mount (\"machine.slice\",\n"
"\"/machine.slice/vm1.scope\") or an absolute path under it.\n"
"\n"
"Environment:\n"
"  IOASIDCTL_CGROUP_ROOT   where cgroup v2 is mounted (default /sys/fs/cgroup)\n"
"\n"
"Exit status:\n"
"  0  success\n"
"  1  the kernel refused: a limit, the namespace, or a bad value\n"
"  2  wrong usage\n"
"\n"
"Errors from allocation:\n"
"  EDQUOT  the file's quota or an ioasids.max on the cgroup's path\n"
"  ENOSPC  no free IDs in the range, or the system's capacity is used up\n"
"  EACCES  /dev/ioasid is not accessible (its group is kvm)\n";

static void usage(FILE *f)
{
	fputs(usage_text, f);
}

static int cg_path(const char *cg, char *out, size_t len)
{
	if (!strncmp(cg, cg_root, strlen(cg_root)) &&
	    (cg[strlen(cg_root)] == '/' || !cg[strlen(cg_root)]))
		return snprintf(out, len, "%s", cg) >= (int)len ? -1 : 0;
	while (*cg == '/')
		cg++;
	return snprintf(out, len, "%s/%s", cg_root, cg) >= (int)len ? -1 : 0;
}

/* Read the first line of DIR/FILE into buf, without the newline. */
static int read_file(const char *dir, const char *file, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static long read_long(const char *dir, const char *file)
{
	char buf[64];

	if (read_file(dir, file, buf, sizeof(buf)))
		return -1;
	return strtol(buf, NULL, 10);
}

/* The current process's cgroup v2 path, relative to the root ("" for it). */
static int own_cgroup(char *out, size_t len)
{
	char line[PATH_MAX];
	FILE *f = fopen("/proc/self/cgroup", "r");
	int ret = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		if ((size_t)snprintf(out, len, "%s",
				     strcmp(line + 3, "/") ? line + 3 : "") >= len)
			break;
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

/*
 * Say which ioasids.max refused a charge of @count: the nearest cgroup on
 * the path from ours to the root whose limit cannot take it.
 */
static void explain_edquot(unsigned int count, unsigned int quota,
			   unsigned int held)
{
	char rel[PATH_MAX], dir[PATH_MAX], max[64], *slash;
	long cur;

	if (quota && held + count > quota) {
		printf("ioasidctl: refused by this file's quota (%u, %u held)\n",
		       quota, held);
		return;
	}
	if (own_cgroup(rel, sizeof(rel)) == 0) {
		for (;;) {
			snprintf(dir, sizeof(dir), "%s%s", cg_root, rel);
			if (read_file(dir, "ioasids.max", max, sizeof(max)) == 0 &&
			    strcmp(max, "max")) {
				cur = read_long(dir, "ioasids.current");
				if (cur >= 0 && cur + count > strtol(max, NULL, 10)) {
					printf("ioasidctl: refused by ioasids.max of cgroup %s: ",
					       rel[0] ? rel : "/");
					printf("limit %s, %ld in use, %u asked\n",
					       max, cur, count);
					return;
				}
			}
			slash = strrchr(rel, '/');
			if (!slash)
				break;
			*slash = '\0';
		}
	}
	printf("ioasidctl: refused by an ioasids cgroup limit (ioasids.max)\n");
}

/* Wait until standard input closes or SIGINT or SIGTERM arrives. */
static void hold_until_told(void)
{
	struct pollfd p[2] = {
		{ .fd = 0, .events = POLLIN },
		{ .fd = -1, .events = POLLIN },
	};
	char buf[256];
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (!sigprocmask(SIG_BLOCK, &set, NULL))
		p[1].fd = signalfd(-1, &set, SFD_CLOEXEC);
	for (;;) {
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents)
			break;
		if (p[0].revents && read(0, buf, sizeof(buf)) <= 0)
			break;
	}
}

static int parse_uint(const char *s, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	if (!*s || *s == '-')
		return -1;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > UINT_MAX)
		return -1;
	*out = v;
	return 0;
}

static int cmd_alloc(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "range", required_argument, NULL, 'r' },
		{ "quota", required_argument, NULL, 'q' },
		{ "hold", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	unsigned int count = 1, min = 0, max = ~0U, quota = 0;
	struct ioasid_alloc cmd = { .size = sizeof(cmd) };
	struct ioasid_info info;
	bool hold = false;
	__u32 *ids;
	char *colon;
	int c, fd;

	while ((c = getopt_long(argc, argv, "n:r:q:Hh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_uint(optarg, &count) || !count) {
				fprintf(stderr, "ioasidctl: --count takes a number from 1\n");
				return 2;
			}
			break;
		case 'r':
			colon = strchr(optarg, ':');
			if (!colon) {
				fprintf(stderr, "ioasidctl: --range takes MIN:MAX\n");
				return 2;
			}
			*colon = '\0';
			if (parse_uint(optarg, &min) || parse_uint(colon + 1, &max) ||
			    min > max) {
				fprintf(stderr, "ioasidctl: --range takes MIN:MAX, MIN <= MAX\n");
				return 2;
			}
			break;
		case 'q':
			if (parse_uint(optarg, &quota)) {
				fprintf(stderr, "ioasidctl: --quota takes a number\n");
				return 2;
			}
			break;
		case 'H':
			hold = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "ioasidctl: alloc takes no arguments\n");
		return 2;
	}

	fd = open(DEV_IOASID, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("ioasidctl: cannot open %s: %s\n", DEV_IOASID,
		       strerror(errno));
		return 1;
	}
	if (quota) {
		struct ioasid_set_quota q = { .size = sizeof(q), .quota = quota };

		if (ioctl(fd, IOASID_SET_QUOTA, &q)) {
			printf("ioasidctl: cannot set the quota: %s\n",
			       strerror(errno));
			return 1;
		}
	}
	ids = calloc(count, sizeof(*ids));
	if (!ids) {
		printf("ioasidctl: out of memory\n");
		return 1;
	}
	cmd.min = min;
	cmd.max = max;
	cmd.count = count;
	cmd.ids = (uintptr_t)ids;
	if (ioctl(fd, IOASID_ALLOC, &cmd)) {
		int err = errno;

		info = (struct ioasid_info){ .size = sizeof(info) };
		ioctl(fd, IOASID_GET_INFO, &info);
		if (err == EDQUOT) {
			explain_edquot(count, info.quota, info.count);
		} else if (err == ENOSPC && info.room < count &&
			   min <= info.min_id && max >= info.max_id) {
			printf("ioasidctl: refused by the namespace: ");
			printf("%u IDs, %u free, %u asked\n",
			       info.capacity, info.room, count);
		} else if (err == ENOSPC) {
			printf("ioasidctl: refused by the namespace: ");
			printf("no %u free IDs in [%u, %u]\n", count, min, max);
		} else {
			printf("ioasidctl: allocation failed: %s\n",
			       strerror(err));
		}
		return 1;
	}
	for (unsigned int i = 0; i < count; i++)
		printf("%u\n", ids[i]);
	fflush(stdout);

	if (hold)
		hold_until_told();
	close(fd);
	free(ids);
	return 0;
}

static int cmd_info(int argc, char **argv)
{
	struct ioasid_info info = { .size = sizeof(info) };
	int fd;

	if (argc > 1) {
		fprintf(stderr, "ioasidctl: info takes no arguments\n");
		return 2;
	}
	fd = open(DEV_IOASID, O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, IOASID_GET_INFO, &info)) {
		printf("ioasidctl: %s: %s\n", DEV_IOASID, strerror(errno));
		return 1;
	}
	printf("capacity:  %u\n", info.capacity);
	printf("range:     %u-%u\n", info.min_id, info.max_id);
	printf("in use:    %ld\n", read_long(cg_root, "ioasids.current"));
	printf("room here: %u\n", info.room);
	close(fd);
	return 0;
}

static void tree_walk(const char *dir, const char *name, int depth)
{
	char max[64] = "-", events[64] = "-", child[PATH_MAX];
	struct dirent **list;
	int n;

	if (read_long(dir, "ioasids.current") < 0)
		return;
	read_file(dir, "ioasids.max", max, sizeof(max));
	read_file(dir, "ioasids.events", events, sizeof(events));
	printf("%*s%-*s %8ld %8s %8ld %8s\n", depth * 2, "",
	       40 - depth * 2, name, read_long(dir, "ioasids.current"), max,
	       read_long(dir, "ioasids.peak"),
	       strncmp(events, "max ", 4) ? events : events + 4);

	n = scandir(dir, &list, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		struct stat st;

		snprintf(child, sizeof(child), "%s/%s", dir, list[i]->d_name);
		if (list[i]->d_name[0] != '.' && !stat(child, &st) &&
		    S_ISDIR(st.st_mode))
			tree_walk(child, list[i]->d_name, depth + 1);
		free(list[i]);
	}
	if (n >= 0)
		free(list);
}

static int cmd_tree(int argc, char **argv)
{
	char dir[PATH_MAX];

	if (argc > 2) {
		fprintf(stderr, "ioasidctl: tree takes at most one CGROUP\n");
		return 2;
	}
	if (cg_path(argc == 2 ? argv[1] : "", dir, sizeof(dir)) ||
	    read_long(dir, "ioasids.current") < 0) {
		printf("ioasidctl: %s: no ioasids controller there\n",
		       argc == 2 ? argv[1] : cg_root);
		return 1;
	}
	printf("%-40s %8s %8s %8s %8s\n", "CGROUP", "CURRENT", "MAX", "PEAK",
	       "REFUSED");
	tree_walk(dir, argc == 2 ? argv[1] : "/", 0);
	return 0;
}

static int cmd_set_max(int argc, char **argv)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	int fd, err = 0;

	if (argc != 3) {
		fprintf(stderr, "ioasidctl: set-max takes CGROUP and N or max\n");
		return 2;
	}
	if (cg_path(argv[1], dir, sizeof(dir)))
		return 2;
	snprintf(path, sizeof(path), "%s/ioasids.max", dir);
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, argv[2], strlen(argv[2])) < 0)
		err = errno;
	if (fd >= 0)
		close(fd);
	if (err == EINVAL)
		printf("ioasidctl: %s: ioasids.max takes a count or \"max\"\n",
		       argv[2]);
	else if (err)
		printf("ioasidctl: %s: %s\n", path, strerror(err));
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *env = getenv("IOASIDCTL_CGROUP_ROOT");

	if (env && *env)
		cg_root = env;
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "alloc"))
		return cmd_alloc(argc - 1, argv + 1);
	if (!strcmp(argv[1], "info"))
		return cmd_info(argc - 1, argv + 1);
	if (!strcmp(argv[1], "tree"))
		return cmd_tree(argc - 1, argv + 1);
	if (!strcmp(argv[1], "set-max"))
		return cmd_set_max(argc - 1, argv + 1);
	fprintf(stderr, "ioasidctl: unknown command '%s' (see --help)\n",
		argv[1]);
	return 2;
}

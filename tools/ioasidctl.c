// SPDX-License-Identifier: GPL-2.0
/*
 * ioasidctl: allocate PASIDs through /dev/ioasid, list who holds them, and
 * read and set the ioasids cgroup controller's limits. Tables are
 * util-linux's libsmartcols (as lsblk, lsns and findmnt print theirs).
 *
 * Errors go to stderr, results to stdout. Exit statuses: EXIT_REFUSED,
 * EXIT_USAGE and EXIT_ENV below, documented in --help and ioasidctl(8).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <libsmartcols.h>
#include <linux/ioasid.h>

#include "compiler.h"

#ifndef IOASIDCTL_VERSION
#define IOASIDCTL_VERSION "unknown"
#endif

#define DEV_IOASID	"/dev/ioasid"

/* Exit statuses. */
/*
 * Exit statuses: success; a limit refused (EDQUOT: a quota or an
 * ioasids.max; ENOSPC: the namespace); wrong usage (options, values, a
 * CGROUP that is not one); the system (no /dev/ioasid or no access to it,
 * no controller, no cgroup v2).
 */
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define EXIT_OK		0
#define EXIT_REFUSED	1
#define EXIT_USAGE	2
#define EXIT_ENV	3

static const char *cg_root = "/sys/fs/cgroup";
static const char *proc_root = "/proc";

static void __printf(1, 2) errmsg(const char *fmt, ...);

/* Messages too long for their call's line. */
static const char refused_by_max[] =
	"refused by ioasids.max of cgroup %s: limit %s, %lld in use, %u asked";
static const char no_set_key[] =
	"%zu open %s file(s) without an ioasid-set: line in fdinfo (a kernel without it?) left out";
static const char fdinfo_unparsed[] =
	"%zu %s file(s) with an fdinfo value too long to show, or no memory for it, left out";
static const char systemd_unasked[] =
	"%s: cannot ask systemd if it owns ioasids.max (systemctl %sshow %s)";
static const char systemd_user_how[] =
	"nothing written; use: systemctl --user -M %s@ set-property '%s' IOASIDsMax=%s";
static const char systemd_owned[] =
	"%s: %s sets IOASIDsMax=%s, which systemd writes back at each reload";

static void errmsg(const char *fmt, ...)
{
	va_list ap;

	fputs("ioasidctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- help ---- */

static const char exit_text[] =
"Exit status:\n"
"  0  success\n"
"  1  refused by a limit: EDQUOT (the file's quota or an ioasids.max on\n"
"     the cgroup's path) or ENOSPC (no free IDs in the namespace or range)\n"
"  2  usage error: a bad option, value or column, a CGROUP that does not\n"
"     exist or that leaves the cgroup tree, set-max on a unit whose\n"
"     IOASIDsMax= systemd owns\n"
"  3  environment: no /dev/ioasid or no access to it (EACCES), no cgroup v2\n"
"     mount, the ioasids controller not enabled (an ioasids.* file\n"
"     missing), or another system error\n";

static const char alloc_help[] =
"Usage: ioasidctl alloc [--count N] [--range MIN:MAX] [--quota N] [--hold]\n"
"\n"
"Open /dev/ioasid, allocate N IDs (default 1, all or nothing) within\n"
"[MIN, MAX] (default: the whole namespace) and print them, one per line.\n"
"The IDs are charged to the ioasids cgroup of this process.\n"
"\n"
"  -n, --count N        how many IDs\n"
"  -r, --range MIN:MAX  where\n"
"  -q, --quota N        set the file's own quota first\n"
"  -H, --hold           keep the IDs until standard input closes or\n"
"                       SIGINT or SIGTERM arrives (without it they are\n"
"                       freed when ioasidctl exits)\n"
"\n"
"A refused allocation prints one line on stderr saying what refused it:\n"
"the file's quota, the ioasids.max of a named cgroup, or the namespace;\n"
"exit status 1.\n";

static const char info_help[] =
"Usage: ioasidctl info [-J]\n"
"\n"
"The namespace's capacity and ID range, how many IDs the whole system\n"
"holds (the root's ioasids.current), and how many more this process\n"
"could allocate now (room).\n"
"\n"
"  -J, --json   one JSON object in an array \"info\": capacity, min_id,\n"
"               max_id, in_use, room\n";

static const char cgcols_help[] =
"Columns (-o, --output; +COLS adds to the default ones):\n"
"  CGROUP           the cgroup (tree: its name in the tree; top: its path)\n"
"  PATH             its path from the cgroup root\n"
"  UNIT             the systemd unit: the last component of the path that\n"
"                   ends in .service, .scope or .slice\n"
"  CURRENT MAX PEAK ioasids.current, ioasids.max, ioasids.peak\n"
"  REFUSED          refusals here and below: ioasids.events max + capacity\n"
"  EVENTS_MAX EVENTS_CAPACITY  the keys of ioasids.events\n"
"  LOCAL_MAX LOCAL_CAPACITY    the keys of ioasids.events.local\n"
"  SETS KERNEL SVA FD          the keys of ioasids.stat\n"
"  UNLIMITED        whether ioasids.max is \"max\": yes or no\n"
"Default: CGROUP,CURRENT,MAX,PEAK,REFUSED,UNIT, and with -J UNLIMITED after\n"
"MAX. A value a cgroup does not have (the root has no ioasids.max) is \"-\",\n"
"null in JSON.\n";

static const char tree_help[] =
"Usage: ioasidctl tree [-J] [-o COLUMNS] [CGROUP]\n"
"\n"
"The cgroup tree below CGROUP (default: the root), every cgroup where the\n"
"ioasids controller is enabled, one per line.\n"
"\n"
"  -J, --json            JSON: an array \"cgroups\", children nested in\n"
"                        \"children\"; numbers as numbers, MAX too: null\n"
"                        for \"max\", with \"unlimited\" true\n"
"  -o, --output COLUMNS  the columns, comma-separated\n"
"\n";

static const char top_help[] =
"Usage: ioasidctl top [-b] [-d SECONDS] [-n ITERATIONS] [-o COLUMNS]\n"
"\n"
"Every cgroup with the ioasids controller, sorted by ioasids.current, then\n"
"ioasids.peak, refreshed every SECONDS (default 1). On a terminal the\n"
"screen is redrawn until q or Ctrl-C; with -n, -b, or when standard output\n"
"is not a terminal, frames are printed one after the other, with no\n"
"terminal escapes, separated by a blank line.\n"
"\n"
"  -b, --batch           plain frames\n"
"  -d, --delay SECONDS   between frames (decimals allowed)\n"
"  -n, --iterations N    stop after N frames\n"
"  -o, --output COLUMNS  the columns, comma-separated\n"
"\n";

static const char ps_help[] =
"Usage: ioasidctl ps [-J] [-o COLUMNS]\n"
"\n"
"Every open /dev/ioasid file of every process: a file whose\n"
"/proc/PID/fd/N links to a path (/dev/ioasid, or a node of it made\n"
"elsewhere; not a socket, pipe or anonymous inode) and whose\n"
"/proc/PID/fdinfo/N has an ioasid-set: line. Processes ioasidctl cannot\n"
"read are left out, with a note.\n"
"\n"
"  -J, --json            JSON: an array \"processes\"; QUOTA a number, null\n"
"                        for \"max\", with \"unlimited\" true\n"
"  -o, --output COLUMNS  the columns, comma-separated\n"
"\n"
"Columns: PID COMM FD, SET (the set's number), COUNT (IDs it holds), QUOTA\n"
"(N or max), CGROUP (charged, as seen from ioasidctl's cgroup namespace),\n"
"UNIT (its systemd unit), DEVICES (DEVICE=N for each device with N of the\n"
"set's IDs bound, comma-separated), UNLIMITED (whether QUOTA is max). Default:\n"
"all but UNLIMITED, which -J adds after QUOTA.\n";

static const char set_max_help[] =
"Usage: ioasidctl set-max CGROUP N|max\n"
"\n"
"Write ioasids.max of CGROUP. CGROUP must resolve (symlinks and ..\n"
"followed) to a directory inside the cgroup tree, or it is refused with\n"
"exit status 2. When CGROUP has no ioasids.max, says how to enable the\n"
"controller (echo +ioasids > PARENT/cgroup.subtree_control); exit status 3.\n"
"\n"
"When CGROUP is a systemd unit's own cgroup (its name ends in .slice,\n"
".scope, .service, .socket, .mount or .swap, PID 1 is systemd, and the\n"
"unit's ControlGroup is CGROUP), asks its manager (PID 1, or the user's\n"
"below user@UID.service) for the unit's IOASIDsMax=. A unit that sets\n"
"IOASIDsMax= gets its value written back at each reload, so the write is\n"
"refused with exit status 2 and the systemctl set-property command to use;\n"
"if systemd cannot be asked, exit status 3. Nothing is written in either\n"
"case.\n";

static const char metrics_help[] =
"Usage: ioasidctl metrics [--only limited,used,refused] [--textfile FILE]\n"
"\n"
"Every cgroup's ioasids files in the Prometheus text exposition format:\n"
"ioasids_capacity, and by cgroup ioasids_current, ioasids_max (+Inf for\n"
"\"max\", none for the root), ioasids_peak, ioasids_refusals_total (reason\n"
"\"max\" and \"capacity\", from ioasids.events), ioasids_sets and\n"
"ioasids_ids (kind \"kernel\", \"sva\", \"fd\", from ioasids.stat).\n"
"\n"
"  --only WHICH         only the root and the cgroups that are WHICH, a\n"
"                       comma-separated list: limited (an ioasids.max\n"
"                       other than max), used (ioasids.current above 0),\n"
"                       refused (a refusal counted in ioasids.events)\n"
"  -t, --textfile FILE  write FILE atomically (a temporary file in its\n"
"                       directory, then rename), for the node exporter's\n"
"                       textfile collector\n";

static const char usage_text[] =
"Usage: ioasidctl [--version] [--help] COMMAND [OPTIONS]\n"
"\n"
"Allocate PCIe PASIDs (IOASIDs) through /dev/ioasid, see who holds them,\n"
"and read and set the limits of the ioasids cgroup controller.\n"
"\n"
"Commands:\n"
"  alloc [--count N] [--range MIN:MAX] [--quota N] [--hold]\n"
"                          allocate IDs, print them\n"
"  info [-J]               the namespace, and the room left here\n"
"  tree [-J] [-o COLS] [CGROUP]\n"
"                          the cgroup tree with its counts and limits\n"
"  ps [-J] [-o COLS]       processes holding /dev/ioasid files\n"
"  top [-b] [-d S] [-n N]  cgroups by ioasids.current, refreshed\n"
"  set-max CGROUP N|max    write ioasids.max\n"
"  metrics [--only WHICH] [--textfile FILE]\n"
"                          Prometheus text format\n"
"  help [COMMAND]          this, or a command's help (also COMMAND --help)\n"
"\n"
"CGROUP is a path below the cgroup v2 mount (\"machine.slice\",\n"
"\"/machine.slice/vm1.scope\") or an absolute path under it.\n"
"\n"
"Environment:\n"
"  IOASIDCTL_CGROUP_ROOT   where cgroup v2 is mounted (default /sys/fs/cgroup)\n"
"  IOASIDCTL_PROC_ROOT     where proc is mounted (default /proc), for ps\n"
"\n"
"Errors from allocation:\n"
"  EDQUOT  the file's quota or an ioasids.max on the cgroup's path\n"
"  ENOSPC  no free IDs in the range, or the system's capacity is used up\n"
"  EACCES  /dev/ioasid is not accessible (its group is kvm)\n"
"\n";

static int help_for(const char *text, const char *extra)
{
	fputs(text, stdout);
	if (extra)
		fputs(extra, stdout);
	fputs("\n", stdout);
	fputs(exit_text, stdout);
	return EXIT_OK;
}

/* ---- files ---- */

/*
 * snprintf() that never truncates silently: false, with errno set to
 * ENAMETOOLONG, when the result does not fit in len bytes.
 */
static bool __printf(3, 4) fmt(char *buf, size_t len, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(buf, len, f, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return false;
	}
	return true;
}

/*
 * Read all of DIR/FILE into buf, NUL-terminated; -1 with errno set, EFBIG
 * when it has more than len - 1 bytes (never a silent prefix).
 */
static int read_all(const char *dir, const char *file, char *buf, size_t len)
{
	char path[PATH_MAX], more;
	size_t n = 0;
	ssize_t r;
	int fd;

	if (!fmt(path, sizeof(path), "%s/%s", dir, file))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (n < len - 1 && (r = read(fd, buf + n, len - 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		n += r;
	}
	buf[n] = '\0';
	while ((r = read(fd, &more, 1)) < 0 && errno == EINTR)
		;
	if (r) {
		if (r > 0)
			errno = EFBIG;
		goto fail;
	}
	close(fd);
	return 0;
fail:
	r = errno;
	close(fd);
	errno = r;
	return -1;
}

/* All that fd has to read, however long, NUL-terminated (free it). */
static char *read_fd(int fd)
{
	size_t n = 0, cap = 4096;
	char *buf = malloc(cap), *bigger;
	ssize_t r;

	if (!buf)
		return NULL;
	while ((r = read(fd, buf + n, cap - 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		n += r;
		if (n == cap - 1) {
			bigger = realloc(buf, 2 * cap);
			if (!bigger)
				goto fail;
			buf = bigger;
			cap *= 2;
		}
	}
	buf[n] = '\0';
	return buf;
fail:
	free(buf);
	return NULL;
}

/* All of the file at DIRFD/PATH, however long, NUL-terminated (free it). */
static char *read_at(int dirfd, const char *path)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	char *text;

	if (fd < 0)
		return NULL;
	text = read_fd(fd);
	close(fd);
	return text;
}

/* The first line of DIR/FILE, without the newline. */
static int read_file(const char *dir, const char *file, char *buf, size_t len)
{
	if (read_all(dir, file, buf, len))
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static long long read_ll(const char *dir, const char *file)
{
	char buf[64];

	if (read_file(dir, file, buf, sizeof(buf)) || !isdigit((unsigned char)buf[0]))
		return -1;
	return strtoll(buf, NULL, 10);
}

/* The value of KEY in a flat-keyed file's text ("key value" lines), or -1. */
static long long keyed(const char *text, const char *key)
{
	size_t len = strlen(key);
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, key, len) && p[len] == ' ')
			return strtoll(p + len + 1, NULL, 10);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

/* The current process's cgroup v2 path, relative to the root ("" for it). */
static int own_cgroup(char *out, size_t len)
{
	char line[PATH_MAX], path[PATH_MAX];
	FILE *f;
	int ret = -1;

	if (!fmt(path, sizeof(path), "%s/self/cgroup", proc_root))
		return -1;
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		if (!strchr(line, '\n') && !feof(f))
			break;	/* longer than PATH_MAX: no prefix of it */
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
 * The systemd unit of a cgroup path: its last component that ends in
 * .service, .scope or .slice; NULL when none does.
 */
static const char *unit_of(const char *path, char *buf, size_t len)
{
	static const char *const sfx[] = { ".service", ".scope", ".slice", ".socket",
					   ".mount", ".swap" };
	const char *p = path, *found = NULL, *end;
	size_t n = 0;

	while (*p) {
		while (*p == '/')
			p++;
		end = p + strcspn(p, "/");
		for (size_t i = 0; i < ARRAY_SIZE(sfx); i++) {
			size_t l = strlen(sfx[i]);

			if ((size_t)(end - p) > l && !strncmp(end - l, sfx[i], l)) {
				found = p;
				n = end - p;
			}
		}
		p = end;
	}
	if (!found || n >= len)
		return NULL;
	memcpy(buf, found, n);
	buf[n] = '\0';
	return buf;
}

/* ---- the cgroup tree: where it is, what is in it ---- */

/* Is WORD one of the space-separated words of DIR/FILE? */
static bool has_word(const char *dir, const char *file, const char *word)
{
	char buf[1024], *tok, *save;

	if (read_file(dir, file, buf, sizeof(buf)))
		return false;
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		if (!strcmp(tok, word))
			return true;
	return false;
}

/* A cgroup v2 mount with the controller, or EXIT_ENV and why not. */
static int need_controller(void)
{
	char path[PATH_MAX];

	if (!fmt(path, sizeof(path), "%s/cgroup.controllers", cg_root)) {
		errmsg("%s: %s", cg_root, strerror(errno));
		return EXIT_ENV;
	}
	if (access(path, F_OK)) {
		errmsg("no cgroup v2 mount at %s (%s is missing)", cg_root, path);
		return EXIT_ENV;
	}
	/* Shorter than the one above: it fits. */
	fmt(path, sizeof(path), "%s/ioasids.current", cg_root);
	if (access(path, F_OK)) {
		errmsg("the kernel has no ioasids controller (%s is missing)", path);
		return EXIT_ENV;
	}
	return EXIT_OK;
}

/* Do a relative path's ".." components climb above where it starts? */
static bool lexically_leaves(const char *p)
{
	int depth = 0;

	while (*p) {
		size_t n;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (n == 2 && !strncmp(p, "..", 2)) {
			if (--depth < 0)
				return true;
		} else if (n && !(n == 1 && *p == '.')) {
			depth++;
		}
		p += n;
	}
	return false;
}

/*
 * Resolve CGROUP to its real directory ABS under the real cgroup root, and
 * its path REL from the root ("/" or "/a/b"). EXIT_USAGE, said, when it
 * does not exist or leaves the tree.
 */
static int resolve_cgroup(const char *arg, char *abs, char *rel, size_t len)
{
	const char *cg = arg;
	char root[PATH_MAX], joined[PATH_MAX * 2];
	size_t rl = strlen(cg_root), n;

	if (!realpath(cg_root, root)) {
		errmsg("%s: %s", cg_root, strerror(errno));
		return EXIT_ENV;
	}
	if (*cg == '/' && !strncmp(cg, cg_root, rl) && (cg[rl] == '/' || !cg[rl]))
		cg += rl;
	while (*cg == '/')
		cg++;
	if (!fmt(joined, sizeof(joined), "%s/%s", cg_root, cg)) {
		errmsg("%s: %s", arg, strerror(errno));
		return EXIT_USAGE;
	}
	if (lexically_leaves(cg)) {
		errmsg("%s: leaves the cgroup tree (%s is outside %s)", arg,
		       joined, cg_root);
		return EXIT_USAGE;
	}
	if (!realpath(joined, abs)) {
		if (errno == ENOENT || errno == ENOTDIR) {
			errmsg("%s: no such cgroup (%s)", arg, joined);
			return EXIT_USAGE;
		}
		errmsg("%s: %s", joined, strerror(errno));
		return EXIT_ENV;
	}
	n = strlen(root);
	if (!strcmp(root, "/"))
		n = 0;
	if (strncmp(abs, root, n) || (abs[n] && abs[n] != '/')) {
		errmsg("%s: leaves the cgroup tree: it resolves to %s, outside %s",
		       arg, abs, root);
		return EXIT_USAGE;
	}
	if (!fmt(rel, len, "%s", abs[n] ? abs + n : "/")) {
		errmsg("%s: %s", arg, strerror(errno));
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/*
 * The cgroup REL (under the root) has no ioasids files: say so and how to
 * enable the controller, from the highest cgroup above it where it is off.
 */
static int not_enabled(const char *rel, const char *file)
{
	char anc[PATH_MAX], dir[PATH_MAX * 2];
	const char *p = rel;
	bool said = false;

	errmsg("%s%s: no %s: the ioasids controller is not enabled there; enable it with:",
	       cg_root, strcmp(rel, "/") ? rel : "", file);
	/* Every ancestor of REL, the root first. */
	anc[0] = '\0';
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		if (!fmt(dir, sizeof(dir), "%s%s", cg_root, anc))
			break;
		if (!has_word(dir, "cgroup.subtree_control", "ioasids")) {
			fprintf(stderr, "  echo +ioasids > %s/cgroup.subtree_control\n", dir);
			said = true;
		}
		size_t l = strlen(anc), c = strcspn(p, "/");

		if (!fmt(anc + l, sizeof(anc) - l, "/%.*s", (int)c, p))
			break;
		p += c;
	}
	if (!said)
		fprintf(stderr,
			"  echo +ioasids > PARENT/cgroup.subtree_control (in every cgroup above it)\n");
	return EXIT_ENV;
}

struct cg {
	char *path;		/* from the root: "/" or "/a/b" */
	char *name;		/* the last component, or the path for the top one */
	int parent;		/* index in the list, -1 for the first */
	char max[32];		/* "" where there is none (the root) */
	long long current, peak, ev_max, ev_cap, loc_max, loc_cap;
	long long sets, kernel, sva, fd;
	struct libscols_line *ln;
};

struct cglist {
	struct cg *v;
	size_t n, cap;
};

/* Add the cgroup at DIR (REL from the root) and, depth first, those below. */
static void collect(struct cglist *l, const char *dir, const char *rel,
		    const char *name, int parent)
{
	char buf[512], child[PATH_MAX], crel[PATH_MAX];
	struct dirent **list;
	struct cg *c;
	int n, me;

	if (read_ll(dir, "ioasids.current") < 0)
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v) {
			errmsg("out of memory");
			exit(EXIT_ENV);
		}
	}
	me = l->n++;
	c = &l->v[me];
	memset(c, 0, sizeof(*c));
	c->path = strdup(rel);
	c->name = strdup(name);
	c->parent = parent;
	if (read_file(dir, "ioasids.max", c->max, sizeof(c->max)))
		c->max[0] = '\0';
	c->current = read_ll(dir, "ioasids.current");
	c->peak = read_ll(dir, "ioasids.peak");
	if (read_all(dir, "ioasids.events", buf, sizeof(buf)))
		buf[0] = '\0';
	c->ev_max = keyed(buf, "max");
	c->ev_cap = keyed(buf, "capacity");
	if (read_all(dir, "ioasids.events.local", buf, sizeof(buf)))
		buf[0] = '\0';
	c->loc_max = keyed(buf, "max");
	c->loc_cap = keyed(buf, "capacity");
	if (read_all(dir, "ioasids.stat", buf, sizeof(buf)))
		buf[0] = '\0';
	c->sets = keyed(buf, "sets");
	c->kernel = keyed(buf, "kernel");
	c->sva = keyed(buf, "sva");
	c->fd = keyed(buf, "fd");

	n = scandir(dir, &list, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		struct stat st;

		if (list[i]->d_name[0] == '.') {
			free(list[i]);
			continue;
		}
		if (!fmt(child, sizeof(child), "%s/%s", dir, list[i]->d_name) ||
		    !fmt(crel, sizeof(crel), "%s/%s", strcmp(rel, "/") ? rel : "",
			 list[i]->d_name))
			errmsg("%s/%s: path too long, left out", dir, list[i]->d_name);
		else if (!lstat(child, &st) && S_ISDIR(st.st_mode))
			collect(l, child, crel, list[i]->d_name, me);
		free(list[i]);
	}
	if (n >= 0)
		free(list);
}

static void cglist_free(struct cglist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].name);
	}
	free(l->v);
	*l = (struct cglist){};
}

/* ---- columns ---- */

struct coldef {
	const char *name;
	int json;		/* SCOLS_JSON_* */
	int flags;		/* SCOLS_FL_* */
};

enum { CG_CGROUP, CG_PATH, CG_UNIT, CG_CURRENT, CG_MAX, CG_PEAK, CG_REFUSED,
	CG_EV_MAX, CG_EV_CAP, CG_LOC_MAX, CG_LOC_CAP, CG_SETS, CG_KERNEL,
	CG_SVA, CG_FD, CG_UNLIMITED, CG_NCOLS };

static const struct coldef cgcols[CG_NCOLS] = {
	[CG_CGROUP] = { "CGROUP", SCOLS_JSON_STRING, 0 },
	[CG_PATH] = { "PATH", SCOLS_JSON_STRING, 0 },
	[CG_UNIT] = { "UNIT", SCOLS_JSON_STRING, 0 },
	[CG_CURRENT] = { "CURRENT", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT },
	[CG_MAX] = { "MAX", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT },
	[CG_PEAK] = { "PEAK", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT },
	[CG_REFUSED] = { "REFUSED", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT },
	[CG_EV_MAX] = { "EVENTS_MAX", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT },
	[CG_EV_CAP] = { "EVENTS_CAPACITY", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT },
	[CG_LOC_MAX] = { "LOCAL_MAX", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT },
	[CG_LOC_CAP] = { "LOCAL_CAPACITY", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT },
	[CG_SETS] = { "SETS", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT },
	[CG_KERNEL] = { "KERNEL", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT },
	[CG_SVA] = { "SVA", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT },
	[CG_FD] = { "FD", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT },
	[CG_UNLIMITED] = { "UNLIMITED", SCOLS_JSON_BOOLEAN, 0 },
};

static const int cg_default[] = { CG_CGROUP, CG_CURRENT, CG_MAX, CG_PEAK,
	CG_REFUSED, CG_UNIT, -1 };

enum { PS_PID, PS_COMM, PS_FD, PS_SET, PS_COUNT, PS_QUOTA, PS_CGROUP,
	PS_UNIT, PS_DEVICES, PS_UNLIMITED, PS_NCOLS };

static const struct coldef pscols[PS_NCOLS] = {
	[PS_PID] = { "PID", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT },
	[PS_COMM] = { "COMM", SCOLS_JSON_STRING, 0 },
	[PS_FD] = { "FD", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT },
	[PS_SET] = { "SET", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT },
	[PS_COUNT] = { "COUNT", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT },
	[PS_QUOTA] = { "QUOTA", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT },
	[PS_CGROUP] = { "CGROUP", SCOLS_JSON_STRING, 0 },
	[PS_UNIT] = { "UNIT", SCOLS_JSON_STRING, 0 },
	[PS_DEVICES] = { "DEVICES", SCOLS_JSON_STRING, 0 },
	[PS_UNLIMITED] = { "UNLIMITED", SCOLS_JSON_BOOLEAN, 0 },
};

static const int ps_default[] = { PS_PID, PS_COMM, PS_FD, PS_SET, PS_COUNT,
	PS_QUOTA, PS_CGROUP, PS_UNIT, PS_DEVICES, -1 };

#define MAXCOLS 32

/*
 * Parse -o LIST ("A,B" or "+A,B" to add to DEFAULTS) into COLS, ended by
 * -1. EXIT_USAGE, said, for a name that is no column.
 */
static int parse_columns(const char *list, const struct coldef *defs, int ndefs,
			 const int *defaults, int *cols)
{
	char *copy, *tok, *save;
	int n = 0;

	if (!list || *list == '+') {
		for (; defaults[n] >= 0; n++)
			cols[n] = defaults[n];
		if (!list) {
			cols[n] = -1;
			return EXIT_OK;
		}
		list++;
	}
	copy = strdup(list);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int i;

		for (i = 0; i < ndefs && strcasecmp(tok, defs[i].name); i++)
			;
		if (i == ndefs) {
			errmsg("unknown column '%s' (see --help)", tok);
			free(copy);
			return EXIT_USAGE;
		}
		if (n == MAXCOLS - 1) {
			errmsg("too many columns");
			free(copy);
			return EXIT_USAGE;
		}
		cols[n++] = i;
	}
	free(copy);
	if (!n) {
		errmsg("no columns");
		return EXIT_USAGE;
	}
	cols[n] = -1;
	return EXIT_OK;
}

/*
 * With -J and the default columns (no -o, or -o +LIST), NUMCOL, a limit
 * that JSON gives as a number or null, is followed by FLAGCOL, which says
 * whether that null means "max": a consumer never parses "max".
 */
static void json_flag_after(const char *list, bool json, int *cols,
			    int numcol, int flagcol)
{
	int i, n;

	if (!json || (list && *list != '+'))
		return;
	for (n = 0; cols[n] >= 0; n++)
		if (cols[n] == flagcol)
			return;
	for (i = 0; i < n && cols[i] != numcol; i++)
		;
	if (i == n || n >= MAXCOLS - 1)
		return;
	memmove(&cols[i + 2], &cols[i + 1], (n - i) * sizeof(*cols));
	cols[i + 1] = flagcol;
}

static struct libscols_table *new_table(const char *name, bool json,
					const struct coldef *defs, const int *cols,
					int tree_col)
{
	struct libscols_table *tb = scols_new_table();

	if (!tb) {
		errmsg("out of memory");
		exit(EXIT_ENV);
	}
	scols_table_set_name(tb, name);
	scols_table_enable_json(tb, json);
	for (int i = 0; cols[i] >= 0; i++) {
		const struct coldef *d = &defs[cols[i]];
		struct libscols_column *cl;

		cl = scols_table_new_column(tb, d->name, 0,
					    d->flags | (cols[i] == tree_col ? SCOLS_FL_TREE : 0));
		if (!cl) {
			errmsg("out of memory");
			exit(EXIT_ENV);
		}
		scols_column_set_json_type(cl, d->json);
	}
	return tb;
}

/* Cell I of LN: VALUE, or none ("-", null in JSON). */
static void cell(struct libscols_line *ln, int i, const char *value, bool json)
{
	scols_line_set_data(ln, i, value && *value ? value : (json ? NULL : "-"));
}

static void cell_ll(struct libscols_line *ln, int i, long long v, bool json)
{
	char buf[32];

	if (v < 0) {
		cell(ln, i, NULL, json);
		return;
	}
	snprintf(buf, sizeof(buf), "%lld", v);
	cell(ln, i, buf, json);
}

/*
 * A limit's cell: the number; "max" in a table and null in JSON for none,
 * and none at all ("-", null) where there is no limit file.
 */
static void cell_limit(struct libscols_line *ln, int i, const char *value,
		       bool json)
{
	cell(ln, i, json && value && !strcmp(value, "max") ? NULL : value, json);
}

/* Whether a limit is "max": yes or no, and none without a limit file. */
static void cell_unlimited(struct libscols_line *ln, int i, const char *value,
			   bool json)
{
	if (!value || !*value)
		cell(ln, i, NULL, json);
	else if (json)
		cell(ln, i, strcmp(value, "max") ? "0" : "1", json);
	else
		cell(ln, i, strcmp(value, "max") ? "no" : "yes", json);
}

static void cg_cells(struct libscols_line *ln, const int *cols, const struct cg *c,
		     bool json, bool path_as_name)
{
	char unit[256];

	for (int i = 0; cols[i] >= 0; i++) {
		switch (cols[i]) {
		case CG_CGROUP:
			cell(ln, i, path_as_name ? c->path : c->name, json);
			break;
		case CG_PATH:
			cell(ln, i, c->path, json);
			break;
		case CG_UNIT:
			cell(ln, i, unit_of(c->path, unit, sizeof(unit)), json);
			break;
		case CG_CURRENT:
			cell_ll(ln, i, c->current, json);
			break;
		case CG_MAX:
			cell_limit(ln, i, c->max, json);
			break;
		case CG_UNLIMITED:
			cell_unlimited(ln, i, c->max, json);
			break;
		case CG_PEAK:
			cell_ll(ln, i, c->peak, json);
			break;
		case CG_REFUSED:
			cell_ll(ln, i, c->ev_max < 0 ? -1 :
				c->ev_max + (c->ev_cap > 0 ? c->ev_cap : 0), json);
			break;
		case CG_EV_MAX:
			cell_ll(ln, i, c->ev_max, json);
			break;
		case CG_EV_CAP:
			cell_ll(ln, i, c->ev_cap, json);
			break;
		case CG_LOC_MAX:
			cell_ll(ln, i, c->loc_max, json);
			break;
		case CG_LOC_CAP:
			cell_ll(ln, i, c->loc_cap, json);
			break;
		case CG_SETS:
			cell_ll(ln, i, c->sets, json);
			break;
		case CG_KERNEL:
			cell_ll(ln, i, c->kernel, json);
			break;
		case CG_SVA:
			cell_ll(ln, i, c->sva, json);
			break;
		case CG_FD:
			cell_ll(ln, i, c->fd, json);
			break;
		}
	}
}

/* ---- alloc ---- */

/*
 * Say which ioasids.max refused a charge of @count: the nearest cgroup on
 * the path from ours to the root whose limit cannot take it.
 */
static void explain_edquot(unsigned int count, unsigned int quota,
			   unsigned int held)
{
	char rel[PATH_MAX], dir[PATH_MAX * 2], max[64], *slash;
	long long cur;

	if (quota && held + count > quota) {
		errmsg("refused by this file's quota (%u, %u held)", quota, held);
		return;
	}
	if (own_cgroup(rel, sizeof(rel)) == 0) {
		for (;;) {
			if (!fmt(dir, sizeof(dir), "%s%s", cg_root, rel))
				break;
			if (read_file(dir, "ioasids.max", max, sizeof(max)) == 0 &&
			    strcmp(max, "max")) {
				cur = read_ll(dir, "ioasids.current");
				if (cur >= 0 && cur + count > strtoll(max, NULL, 10)) {
					errmsg(refused_by_max, rel[0] ? rel : "/",
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
	errmsg("refused by an ioasids cgroup limit (ioasids.max)");
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

/* Open /dev/ioasid, or EXIT_ENV (-1 in *fd) and why not. */
static int open_dev(int *fd)
{
	*fd = open(DEV_IOASID, O_RDWR | O_CLOEXEC);
	if (*fd >= 0)
		return EXIT_OK;
	if (errno == ENOENT)
		errmsg("no %s: the kernel has no /dev/ioasid (CONFIG_IOASID_USER)",
		       DEV_IOASID);
	else if (errno == EACCES || errno == EPERM)
		errmsg("cannot open %s: %s (its group is kvm)", DEV_IOASID,
		       strerror(errno));
	else
		errmsg("cannot open %s: %s", DEV_IOASID, strerror(errno));
	return EXIT_ENV;
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
	int c, fd, ret;

	while ((c = getopt_long(argc, argv, "n:r:q:Hh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_uint(optarg, &count) || !count) {
				errmsg("--count takes a number from 1");
				return EXIT_USAGE;
			}
			break;
		case 'r':
			colon = strchr(optarg, ':');
			if (!colon) {
				errmsg("--range takes MIN:MAX");
				return EXIT_USAGE;
			}
			*colon = '\0';
			if (parse_uint(optarg, &min) || parse_uint(colon + 1, &max) ||
			    min > max) {
				errmsg("--range takes MIN:MAX, MIN <= MAX");
				return EXIT_USAGE;
			}
			break;
		case 'q':
			if (parse_uint(optarg, &quota)) {
				errmsg("--quota takes a number");
				return EXIT_USAGE;
			}
			break;
		case 'H':
			hold = true;
			break;
		case 'h':
			return help_for(alloc_help, NULL);
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		errmsg("alloc takes no arguments");
		return EXIT_USAGE;
	}

	ret = open_dev(&fd);
	if (ret)
		return ret;
	if (quota) {
		struct ioasid_set_quota q = { .size = sizeof(q), .quota = quota };

		if (ioctl(fd, IOASID_SET_QUOTA, &q)) {
			errmsg("cannot set the quota: %s", strerror(errno));
			return errno == EINVAL ? EXIT_USAGE : EXIT_ENV;
		}
	}
	ids = calloc(count, sizeof(*ids));
	if (!ids) {
		errmsg("out of memory");
		return EXIT_ENV;
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
			errmsg("refused by the namespace: %u IDs, %u free, %u asked",
			       info.capacity, info.room, count);
		} else if (err == ENOSPC) {
			errmsg("refused by the namespace: no %u free IDs in [%u, %u]",
			       count, min, max);
		} else {
			errmsg("allocation failed: %s", strerror(err));
			return err == EINVAL || err == E2BIG ? EXIT_USAGE : EXIT_ENV;
		}
		return EXIT_REFUSED;
	}
	for (unsigned int i = 0; i < count; i++)
		printf("%u\n", ids[i]);
	fflush(stdout);

	if (hold)
		hold_until_told();
	close(fd);
	free(ids);
	return EXIT_OK;
}

/* ---- info ---- */

static int cmd_info(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	static const struct coldef defs[] = {
		{ "CAPACITY", SCOLS_JSON_NUMBER, 0 },
		{ "MIN_ID", SCOLS_JSON_NUMBER, 0 },
		{ "MAX_ID", SCOLS_JSON_NUMBER, 0 },
		{ "IN_USE", SCOLS_JSON_NUMBER, 0 },
		{ "ROOM", SCOLS_JSON_NUMBER, 0 },
	};
	static const int cols[] = { 0, 1, 2, 3, 4, -1 };
	struct ioasid_info info = { .size = sizeof(info) };
	bool json = false;
	long long in_use;
	int c, fd, ret;

	while ((c = getopt_long(argc, argv, "Jh", opts, NULL)) != -1) {
		switch (c) {
		case 'J':
			json = true;
			break;
		case 'h':
			return help_for(info_help, NULL);
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		errmsg("info takes no arguments");
		return EXIT_USAGE;
	}
	ret = open_dev(&fd);
	if (ret)
		return ret;
	if (ioctl(fd, IOASID_GET_INFO, &info)) {
		errmsg("%s: IOASID_GET_INFO: %s", DEV_IOASID, strerror(errno));
		return EXIT_ENV;
	}
	close(fd);
	in_use = read_ll(cg_root, "ioasids.current");
	if (json) {
		struct libscols_table *tb = new_table("info", true, defs, cols, -1);
		struct libscols_line *ln = scols_table_new_line(tb, NULL);

		cell_ll(ln, 0, info.capacity, true);
		cell_ll(ln, 1, info.min_id, true);
		cell_ll(ln, 2, info.max_id, true);
		cell_ll(ln, 3, in_use, true);
		cell_ll(ln, 4, info.room, true);
		scols_print_table(tb);
		scols_unref_table(tb);
		return EXIT_OK;
	}
	printf("capacity:  %u\n", info.capacity);
	printf("range:     %u-%u\n", info.min_id, info.max_id);
	if (in_use < 0)
		printf("in use:    -\n");
	else
		printf("in use:    %lld\n", in_use);
	printf("room here: %u\n", info.room);
	return EXIT_OK;
}

/* ---- tree ---- */

static int cmd_tree(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	char abs[PATH_MAX], rel[PATH_MAX];
	const char *output = NULL;
	struct cglist l = {};
	struct libscols_table *tb;
	int cols[MAXCOLS], c, ret, tree_col = -1;
	bool json = false;

	while ((c = getopt_long(argc, argv, "Jo:h", opts, NULL)) != -1) {
		switch (c) {
		case 'J':
			json = true;
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			return help_for(tree_help, cgcols_help);
		default:
			return EXIT_USAGE;
		}
	}
	if (argc - optind > 1) {
		errmsg("tree takes at most one CGROUP");
		return EXIT_USAGE;
	}
	ret = parse_columns(output, cgcols, CG_NCOLS, cg_default, cols);
	if (ret)
		return ret;
	json_flag_after(output, json, cols, CG_MAX, CG_UNLIMITED);
	ret = need_controller();
	if (ret)
		return ret;
	ret = resolve_cgroup(optind < argc ? argv[optind] : "", abs, rel, sizeof(rel));
	if (ret)
		return ret;
	collect(&l, abs, rel, rel, -1);
	if (!l.n)
		return not_enabled(rel, "ioasids.current");

	for (int i = 0; cols[i] >= 0; i++)
		if (cols[i] == CG_CGROUP && tree_col < 0)
			tree_col = CG_CGROUP;
	tb = new_table("cgroups", json, cgcols, cols, tree_col);
	for (size_t i = 0; i < l.n; i++) {
		struct cg *cg = &l.v[i];

		cg->ln = scols_table_new_line(tb, cg->parent < 0 ? NULL :
					      l.v[cg->parent].ln);
		cg_cells(cg->ln, cols, cg, json, false);
	}
	scols_print_table(tb);
	scols_unref_table(tb);
	cglist_free(&l);
	return EXIT_OK;
}

/* ---- top ---- */

static int cg_cmp(const void *a, const void *b)
{
	const struct cg *x = a, *y = b;

	if (x->current != y->current)
		return x->current > y->current ? -1 : 1;
	if (x->peak != y->peak)
		return x->peak > y->peak ? -1 : 1;
	return strcmp(x->path, y->path);
}

static struct termios saved_tio;
static bool tio_saved;

static void restore_tty(void)
{
	if (tio_saved)
		tcsetattr(0, TCSANOW, &saved_tio);
}

/*
 * Set by the signal handler, read by the loop: atomic accesses, so that
 * the compiler neither caches it nor tears it (what volatile did).
 */
static sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	__atomic_store_n(&stop_flag, 1, __ATOMIC_RELAXED);
}

static int stopped(void)
{
	return __atomic_load_n(&stop_flag, __ATOMIC_RELAXED);
}

static int cmd_top(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "batch", no_argument, NULL, 'b' },
		{ "delay", required_argument, NULL, 'd' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	unsigned int iterations = 0;
	const char *output = NULL;
	double delay = 1;
	bool batch = false, plain;
	int cols[MAXCOLS], c, ret;
	char *end;

	while ((c = getopt_long(argc, argv, "bd:n:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			batch = true;
			break;
		case 'd':
			errno = 0;
			delay = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(delay >= 0) || delay > 86400) {
				errmsg("--delay takes seconds, from 0 to 86400");
				return EXIT_USAGE;
			}
			break;
		case 'n':
			if (parse_uint(optarg, &iterations) || !iterations) {
				errmsg("--iterations takes a number from 1");
				return EXIT_USAGE;
			}
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			return help_for(top_help, cgcols_help);
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		errmsg("top takes no arguments");
		return EXIT_USAGE;
	}
	ret = parse_columns(output, cgcols, CG_NCOLS, cg_default, cols);
	if (ret)
		return ret;
	ret = need_controller();
	if (ret)
		return ret;
	plain = batch || iterations || !isatty(1);
	if (!plain) {
		struct sigaction sa = { .sa_handler = on_signal };
		struct termios tio;

		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		if (isatty(0) && !tcgetattr(0, &saved_tio)) {
			tio = saved_tio;
			tio.c_lflag &= ~(ICANON | ECHO);
			tio.c_cc[VMIN] = 0;
			tio.c_cc[VTIME] = 0;
			tio_saved = !tcsetattr(0, TCSANOW, &tio);
			atexit(restore_tty);
		}
	}

	for (unsigned int frame = 0; !stopped() && (!iterations || frame < iterations); frame++) {
		struct cglist l = {};
		struct libscols_table *tb;
		long long cap = read_ll(cg_root, "ioasids.capacity"), in_use;
		size_t rows = SIZE_MAX;

		if (frame) {
			int ms = (int)(delay * 1000);

			if (plain) {
				struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

				while (nanosleep(&ts, &ts) && errno == EINTR && !stopped())
					;
				putchar('\n');
			} else {
				struct pollfd p = { .fd = 0, .events = POLLIN };
				char ch;

				if (tio_saved && poll(&p, 1, ms) > 0 &&
				    read(0, &ch, 1) == 1 && (ch == 'q' || ch == 'Q'))
					break;
				if (!tio_saved)
					poll(NULL, 0, ms);
				if (stopped())
					break;
			}
		}
		collect(&l, cg_root, "/", "/", -1);
		/* The root comes first, before sorting. */
		in_use = l.n ? l.v[0].current : -1;
		qsort(l.v, l.n, sizeof(*l.v), cg_cmp);
		if (!plain) {
			struct winsize ws;

			fputs("\033[H\033[2J", stdout);
			if (!ioctl(1, TIOCGWINSZ, &ws) && ws.ws_row > 3)
				rows = ws.ws_row - 3;
		}
		printf("ioasids: %lld of %lld in use, %zu cgroups\n",
		       in_use, cap, l.n);
		tb = new_table("cgroups", false, cgcols, cols, -1);
		for (size_t i = 0; i < l.n && i < rows; i++)
			cg_cells(scols_table_new_line(tb, NULL), cols, &l.v[i], false, true);
		scols_print_table(tb);
		scols_unref_table(tb);
		fflush(stdout);
		cglist_free(&l);
	}
	return EXIT_OK;
}

/* ---- ps ---- */

struct fdrec {
	int pid, fd;
	char comm[64];
	char set[32], count[32], quota[32];
	char *cgroup;		/* "" for none */
	char *devices;		/* "name=n,name=n", "" for none */
};

static void fdrec_free(struct fdrec *r)
{
	free(r->cgroup);
	free(r->devices);
}

/*
 * Parse the fdinfo text of a file into r: 1 when it is a /dev/ioasid file,
 * 0 when it is not (no ioasid-set: line), -1 when a value does not fit or
 * memory runs out (r's strings are freed then).
 */
static int parse_fdinfo(char *text, struct fdrec *r)
{
	size_t dlen = 0;
	bool found = false;
	char *line, *save, *v, *more;

	r->set[0] = '\0';
	r->count[0] = '\0';
	r->quota[0] = '\0';
	r->cgroup = strdup("");
	r->devices = strdup("");
	if (!r->cgroup || !r->devices)
		goto bad;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');
		bool fits = true;

		if (!colon || strncmp(line, "ioasid-", 7))
			continue;
		*colon = '\0';
		v = colon + 1;
		while (*v == '\t' || *v == ' ')
			v++;
		if (!strcmp(line, "ioasid-set")) {
			fits = fmt(r->set, sizeof(r->set), "%s", v);
			found = true;
		} else if (!strcmp(line, "ioasid-count")) {
			fits = fmt(r->count, sizeof(r->count), "%s", v);
		} else if (!strcmp(line, "ioasid-quota")) {
			fits = fmt(r->quota, sizeof(r->quota), "%s", v);
		} else if (!strcmp(line, "ioasid-cgroup")) {
			free(r->cgroup);
			r->cgroup = strdup(strcmp(v, "-") ? v : "");
			fits = r->cgroup;
		} else if (!strcmp(line, "ioasid-device")) {
			/* "<name> <n>": name=n, comma-separated */
			char *sp = strrchr(v, ' ');
			size_t vl = strlen(v);

			if (sp)
				*sp = '=';
			more = realloc(r->devices, dlen + vl + 2);
			fits = more;
			if (more) {
				r->devices = more;
				if (dlen)
					r->devices[dlen++] = ',';
				memcpy(r->devices + dlen, v, vl + 1);
				dlen += vl;
			}
		}
		if (!fits)
			goto bad;
	}
	if (found)
		return 1;
	fdrec_free(r);
	return 0;
bad:
	fdrec_free(r);
	return -1;
}

/*
 * Where the file at /proc/PID/fd/FD points, into link (a path, or
 * "socket:[n]" and the like); false when it is gone or does not fit.
 */
static bool fd_link(int piddir, long fd, char *link, size_t len)
{
	char name[32];
	ssize_t ll;

	fmt(name, sizeof(name), "fd/%ld", fd);
	ll = readlinkat(piddir, name, link, len);
	if (ll < 0 || (size_t)ll >= len)
		return false;
	link[ll] = '\0';
	return true;
}

static int pid_cmp(const void *a, const void *b)
{
	const struct fdrec *x = a, *y = b;

	return x->pid != y->pid ? (x->pid < y->pid ? -1 : 1) :
		(x->fd < y->fd ? -1 : x->fd > y->fd);
}

static int cmd_ps(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct fdrec *recs = NULL, r;
	size_t n = 0, cap = 0, unreadable = 0, no_key = 0, unparsed = 0;
	const char *output = NULL;
	struct libscols_table *tb;
	int cols[MAXCOLS], c, ret;
	struct dirent *pe;
	bool json = false;
	DIR *proc;

	while ((c = getopt_long(argc, argv, "Jo:h", opts, NULL)) != -1) {
		switch (c) {
		case 'J':
			json = true;
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			return help_for(ps_help, NULL);
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		errmsg("ps takes no arguments");
		return EXIT_USAGE;
	}
	ret = parse_columns(output, pscols, PS_NCOLS, ps_default, cols);
	if (ret)
		return ret;
	json_flag_after(output, json, cols, PS_QUOTA, PS_UNLIMITED);
	proc = opendir(proc_root);
	if (!proc) {
		errmsg("%s: %s", proc_root, strerror(errno));
		return EXIT_ENV;
	}
	while ((pe = readdir(proc))) {
		char link[PATH_MAX], again[PATH_MAX], name[32], *text;
		struct dirent *fe;
		int piddir, fdsfd;
		char *end;
		DIR *fds;
		long pid = strtol(pe->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		/*
		 * Everything of the process through one directory fd: if the
		 * PID is reused meanwhile, reads fail (ESRCH), and never
		 * return another process's files.
		 */
		piddir = openat(dirfd(proc), pe->d_name,
				O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (piddir < 0)
			continue;
		fdsfd = openat(piddir, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		fds = fdsfd < 0 ? NULL : fdopendir(fdsfd);
		if (!fds) {
			if (errno != ENOENT && errno != ESRCH)
				unreadable++;
			if (fdsfd >= 0)
				close(fdsfd);
			close(piddir);
			continue;
		}
		while ((fe = readdir(fds))) {
			long fd = strtol(fe->d_name, &end, 10);
			int is_ioasid;

			if (*end || fd < 0 || fe->d_name[0] == '.')
				continue;
			/*
			 * Only files with a path: /dev/ioasid, or a node of
			 * it anywhere else; not sockets, pipes, anon inodes.
			 */
			if (!fd_link(piddir, fd, link, sizeof(link)) || link[0] != '/')
				continue;
			fmt(name, sizeof(name), "fdinfo/%ld", fd);
			text = read_at(piddir, name);
			if (!text)
				continue;	/* closed meanwhile */
			memset(&r, 0, sizeof(r));
			is_ioasid = parse_fdinfo(text, &r);
			free(text);
			/*
			 * The fd may have been closed, and its number given to
			 * another file, between the link and the fdinfo: a
			 * record counts only if the fd still has that path.
			 */
			if (!fd_link(piddir, fd, again, sizeof(again)) || strcmp(link, again)) {
				if (is_ioasid > 0)
					fdrec_free(&r);
				continue;
			}
			if (is_ioasid < 0) {
				unparsed++;
				continue;
			}
			if (!is_ioasid) {
				if (!strcmp(link, DEV_IOASID))
					no_key++;
				continue;
			}
			r.pid = pid;
			r.fd = fd;
			text = read_at(piddir, "comm");
			if (!text || !fmt(r.comm, sizeof(r.comm), "%.*s",
					  (int)strcspn(text, "\n"), text))
				r.comm[0] = '\0';
			free(text);
			if (n == cap) {
				cap = cap ? 2 * cap : 32;
				recs = realloc(recs, cap * sizeof(*recs));
				if (!recs) {
					errmsg("out of memory");
					return EXIT_ENV;
				}
			}
			recs[n++] = r;
		}
		closedir(fds);
		close(piddir);
	}
	closedir(proc);
	if (no_key)
		errmsg(no_set_key, no_key, DEV_IOASID);
	if (unreadable)
		errmsg("%zu process(es) whose files could not be read left out (not root?)",
		       unreadable);
	if (unparsed)
		errmsg(fdinfo_unparsed, unparsed, DEV_IOASID);
	if (n)
		qsort(recs, n, sizeof(*recs), pid_cmp);

	tb = new_table("processes", json, pscols, cols, -1);
	for (size_t i = 0; i < n; i++) {
		struct libscols_line *ln = scols_table_new_line(tb, NULL);
		char unit[256];

		for (int k = 0; cols[k] >= 0; k++) {
			switch (cols[k]) {
			case PS_PID:
				cell_ll(ln, k, recs[i].pid, json);
				break;
			case PS_COMM:
				cell(ln, k, recs[i].comm, json);
				break;
			case PS_FD:
				cell_ll(ln, k, recs[i].fd, json);
				break;
			case PS_SET:
				cell(ln, k, recs[i].set, json);
				break;
			case PS_COUNT:
				cell(ln, k, recs[i].count, json);
				break;
			case PS_QUOTA:
				cell_limit(ln, k, recs[i].quota, json);
				break;
			case PS_UNLIMITED:
				cell_unlimited(ln, k, recs[i].quota, json);
				break;
			case PS_CGROUP:
				cell(ln, k, recs[i].cgroup, json);
				break;
			case PS_UNIT:
				cell(ln, k, unit_of(recs[i].cgroup, unit, sizeof(unit)), json);
				break;
			case PS_DEVICES:
				cell(ln, k, recs[i].devices, json);
				break;
			}
		}
	}
	scols_print_table(tb);
	scols_unref_table(tb);
	for (size_t i = 0; i < n; i++)
		fdrec_free(&recs[i]);
	free(recs);
	return EXIT_OK;
}

/* ---- set-max ---- */

/*
 * The child of systemd_show(): systemctl show, its stdout into @out. As
 * another user (@user), it may be traced by that user: so it gets nothing
 * of ours, no terminal (a session of its own, stdin and stderr
 * /dev/null), no other fd, and an environment of three variables, and it
 * runs with the user's own groups.
 */
static void __noreturn systemd_show_child(const char *unit, const struct passwd *user,
					  int out)
{
	char rt[64], *argv[12], *env[4];
	int null = open("/dev/null", O_RDWR | O_CLOEXEC), n = 0;

	if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(null, 2) < 0)
		_exit(127);
	close_range(3, ~0U, 0);
	if (setsid() < 0)
		_exit(127);
	env[n++] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	env[n++] = "LC_ALL=C";
	if (user) {
		if (!fmt(rt, sizeof(rt), "XDG_RUNTIME_DIR=/run/user/%u",
			 (unsigned int)user->pw_uid))
			_exit(127);
		env[n++] = rt;
		/* Root becomes the user; the user, asking of its own, stays. */
		if (getuid() != user->pw_uid &&
		    (initgroups(user->pw_name, user->pw_gid) ||
		     setresgid(user->pw_gid, user->pw_gid, user->pw_gid) ||
		     setresuid(user->pw_uid, user->pw_uid, user->pw_uid)))
			_exit(127);
	}
	env[n] = NULL;
	n = 0;
	argv[n++] = "systemctl";
	if (user)
		argv[n++] = "--user";
	argv[n++] = "show";
	argv[n++] = "-p";
	argv[n++] = "LoadState";
	argv[n++] = "-p";
	argv[n++] = "ControlGroup";
	argv[n++] = "-p";
	argv[n++] = "IOASIDsMax";
	argv[n++] = "--";
	argv[n++] = (char *)unit;
	argv[n] = NULL;
	/* systemctl as our PATH finds it (a test's stub too), in env. */
	execvpe("systemctl", argv, env);
	_exit(127);
}

/*
 * "systemctl show" of UNIT's LoadState, ControlGroup and IOASIDsMax, all
 * of its output (malloc'ed, NUL-terminated) in *out; -1 when systemctl
 * could not be run or failed. With @user, the user manager of that user
 * is asked, by systemctl --user run as that user (its private socket in
 * /run/user/UID, no session bus needed).
 */
static int systemd_show(const char *unit, const struct passwd *user, char **out)
{
	int p[2], status;
	char *text;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (!pid)
		systemd_show_child(unit, user, p[1]);
	close(p[1]);
	/* All of it: systemctl never blocks on a full pipe, nothing is cut. */
	text = read_fd(p[0]);
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			free(text);
			return -1;
		}
	}
	if (!text || !WIFEXITED(status) || WEXITSTATUS(status)) {
		free(text);
		return -1;
	}
	*out = text;
	return 0;
}

/*
 * The value of KEY in systemctl show's "KEY=value" lines, into buf; "" when
 * there is none, false when it does not fit.
 */
static bool show_value(const char *text, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);

	buf[0] = '\0';
	for (const char *line = text; *line; ) {
		size_t l = strcspn(line, "\n");

		if (l > klen && !strncmp(line, key, klen) && line[klen] == '=')
			return fmt(buf, len, "%.*s", (int)(l - klen - 1), line + klen + 1);
		line += l;
		if (*line)
			line++;
	}
	return true;
}

/*
 * The user whose service manager owns cgroup REL: UID when REL is below
 * /user.slice/user-UID.slice/user@UID.service/ (that unit itself is PID
 * 1's), as systemd names them; -1 otherwise.
 */
static long user_manager(const char *rel)
{
	static const char head[] = "/user.slice/user-";
	char want[96];
	unsigned long uid;
	const char *p;
	char *end;

	if (strncmp(rel, head, sizeof(head) - 1) || !isdigit((unsigned char)rel[sizeof(head) - 1]))
		return -1;
	p = rel + sizeof(head) - 1;
	errno = 0;
	uid = strtoul(p, &end, 10);
	if (errno || uid >= (uid_t)-1 || (*p == '0' && end - p > 1))
		return -1;
	if (!fmt(want, sizeof(want), "%s%lu.slice/user@%lu.service/", head, uid, uid) ||
	    strncmp(rel, want, strlen(want)) || !rel[strlen(want)])
		return -1;
	return uid;
}

/*
 * Is REL a systemd unit's own cgroup whose limit systemd owns? A unit
 * with IOASIDsMax= (the patched systemd) gets its value written back on
 * each realization, daemon-reload and daemon-reexec, so a write here
 * would last only until then: refuse it, and say what to run instead.
 * The manager asked is PID 1, or the user's for a cgroup below
 * user@UID.service (delegated to it). The cgroup is the unit's own only
 * if the manager says so: the unit is loaded and its ControlGroup is REL
 * (systemd prefixes some names with "_"). Debian's systemd knows no
 * IOASIDsMax (it prints nothing of it), and a unit without one shows
 * "infinity": there the file is ours to write. When PID 1 is systemd but
 * the manager cannot be asked, refuse too (EXIT_ENV).
 */
static int systemd_owns(const char *rel, const char *value)
{
	char unit[NAME_MAX + 1], comm[64], load[32], cg[PATH_MAX], limit[32], *text;
	const char *base = strrchr(rel, '/');
	long uid = user_manager(rel);
	struct passwd *user = NULL;
	const char *max_word;

	base = base ? base + 1 : rel;
	if (*base == '_')
		base++;
	if (!unit_of(base, unit, sizeof(unit)) || strcmp(unit, base))
		return EXIT_OK;
	if (read_file(proc_root, "1/comm", comm, sizeof(comm))) {
		if (errno == ENOENT)
			return EXIT_OK;		/* no PID 1 to ask */
		errmsg("%s/1/comm: %s; nothing written", proc_root, strerror(errno));
		return EXIT_ENV;
	}
	if (strcmp(comm, "systemd"))
		return EXIT_OK;
	if (uid >= 0) {
		errno = 0;
		user = getpwuid(uid);
		if (!user) {
			errmsg("%s: no user %ld, whose manager %s is; nothing written",
			       rel, uid, unit);
			return EXIT_ENV;
		}
	}
	if (systemd_show(unit, user, &text)) {
		errmsg(systemd_unasked, rel, user ? "--user " : "", unit);
		errmsg("nothing written");
		return EXIT_ENV;
	}
	if (!show_value(text, "LoadState", load, sizeof(load)) ||
	    !show_value(text, "ControlGroup", cg, sizeof(cg)) ||
	    !show_value(text, "IOASIDsMax", limit, sizeof(limit))) {
		free(text);
		errmsg("%s: systemctl show's answer about %s does not fit; nothing written",
		       rel, unit);
		return EXIT_ENV;
	}
	free(text);
	if (strcmp(load, "loaded") || strcmp(cg, rel) || !limit[0] ||
	    !strcmp(limit, "infinity"))
		return EXIT_OK;
	errmsg(systemd_owned, rel, unit, limit);
	max_word = strcmp(value, "max") ? value : "infinity";
	if (user)
		errmsg(systemd_user_how, user->pw_name, unit, max_word);
	else
		errmsg("nothing written; use: systemctl set-property '%s' IOASIDsMax=%s",
		       unit, max_word);
	return EXIT_USAGE;
}

static int cmd_set_max(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	char abs[PATH_MAX], rel[PATH_MAX];
	unsigned int v;
	int c, dfd, fd, ret;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			return help_for(set_max_help, NULL);
		default:
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		errmsg("set-max takes CGROUP and N or max");
		return EXIT_USAGE;
	}
	if (strcmp(argv[optind + 1], "max") && parse_uint(argv[optind + 1], &v)) {
		errmsg("%s: ioasids.max takes a count or \"max\"", argv[optind + 1]);
		return EXIT_USAGE;
	}
	ret = resolve_cgroup(argv[optind], abs, rel, sizeof(rel));
	if (ret)
		return ret;
	if (!strcmp(rel, "/")) {
		errmsg("%s: the root cgroup has no ioasids.max", argv[optind]);
		return EXIT_USAGE;
	}
	ret = systemd_owns(rel, argv[optind + 1]);
	if (ret)
		return ret;
	/* The resolved directory, no symlink on the way to the file. */
	dfd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0) {
		errmsg("%s: %s", abs, strerror(errno));
		return errno == ENOTDIR ? EXIT_USAGE : EXIT_ENV;
	}
	fd = openat(dfd, "ioasids.max", O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
	close(dfd);
	if (fd < 0 && errno == ENOENT)
		return not_enabled(rel, "ioasids.max");
	if (fd < 0) {
		errmsg("%s/ioasids.max: %s", abs, strerror(errno));
		return EXIT_ENV;
	}
	if (write(fd, argv[optind + 1], strlen(argv[optind + 1])) < 0) {
		int err = errno;

		close(fd);
		if (err == EINVAL) {
			errmsg("%s: ioasids.max takes a count or \"max\"", argv[optind + 1]);
			return EXIT_USAGE;
		}
		errmsg("%s/ioasids.max: %s", abs, strerror(err));
		return EXIT_ENV;
	}
	close(fd);
	return EXIT_OK;
}

/* ---- metrics ---- */

/* A label value: backslash, double quote and newline escaped. */
static void label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(FILE *f, const char *name, const struct cg *c,
		   const char *key, const char *kv, const char *value)
{
	fprintf(f, "%s{cgroup=\"", name);
	label(f, c->path);
	if (key)
		fprintf(f, "\",%s=\"%s", key, kv);
	fprintf(f, "\"} %s\n", value);
}

static void sample_ll(FILE *f, const char *name, const struct cg *c,
		      const char *key, const char *kv, long long v)
{
	char buf[32];

	if (v < 0)
		return;
	snprintf(buf, sizeof(buf), "%lld", v);
	sample(f, name, c, key, kv, buf);
}

/* What metrics --only keeps: the root always, and these. */
#define ONLY_LIMITED	1
#define ONLY_USED	2
#define ONLY_REFUSED	4

static int parse_only(const char *arg, int *only)
{
	char buf[64], *tok, *save = NULL;

	if (snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf)) {
		errmsg("--only: too long: %s", arg);
		return EXIT_USAGE;
	}
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "limited")) {
			*only |= ONLY_LIMITED;
		} else if (!strcmp(tok, "used")) {
			*only |= ONLY_USED;
		} else if (!strcmp(tok, "refused")) {
			*only |= ONLY_REFUSED;
		} else {
			errmsg("--only: unknown '%s' (limited, used, refused)", tok);
			return EXIT_USAGE;
		}
	}
	if (!*only) {
		errmsg("--only: nothing named (limited, used, refused)");
		return EXIT_USAGE;
	}
	return 0;
}

/* Drop from L what --only ONLY does not keep (0: keep everything). */
static void only_filter(struct cglist *l, int only)
{
	size_t i, n = 0;

	for (i = 0; i < l->n; i++) {
		struct cg *c = &l->v[i];
		bool keep = !only || c->parent < 0 ||
			    ((only & ONLY_LIMITED) && *c->max && strcmp(c->max, "max")) ||
			    ((only & ONLY_USED) && c->current > 0) ||
			    ((only & ONLY_REFUSED) && (c->ev_max > 0 || c->ev_cap > 0));

		if (keep) {
			l->v[n++] = *c;
		} else {
			free(c->path);
			free(c->name);
		}
	}
	l->n = n;	/* (parent indices are stale now: metrics reads none) */
}

static void write_metrics(FILE *f, const struct cglist *l)
{
	long long cap = read_ll(cg_root, "ioasids.capacity");
	size_t i;

	if (cap >= 0) {
		family(f, "ioasids_capacity", "gauge",
		       "IOASIDs (PASIDs) the system can hand out (ioasids.capacity).");
		fprintf(f, "ioasids_capacity %lld\n", cap);
	}
	family(f, "ioasids_current", "gauge",
	       "IOASIDs charged to a cgroup and its descendants (ioasids.current).");
	for (i = 0; i < l->n; i++)
		sample_ll(f, "ioasids_current", &l->v[i], NULL, NULL, l->v[i].current);
	family(f, "ioasids_max", "gauge",
	       "The limit of a cgroup (ioasids.max), +Inf for max.");
	for (i = 0; i < l->n; i++) {
		const char *m = l->v[i].max;

		if (!*m)
			continue;
		sample(f, "ioasids_max", &l->v[i], NULL, NULL,
		       strcmp(m, "max") ? m : "+Inf");
	}
	family(f, "ioasids_peak", "gauge",
	       "The most IOASIDs a cgroup and its descendants held (ioasids.peak).");
	for (i = 0; i < l->n; i++)
		sample_ll(f, "ioasids_peak", &l->v[i], NULL, NULL, l->v[i].peak);
	family(f, "ioasids_refusals_total", "counter",
	       "Requests refused in a cgroup or below (ioasids.events), by reason: a limit (max) or the namespace (capacity).");
	for (i = 0; i < l->n; i++) {
		const struct cg *c = &l->v[i];

		sample_ll(f, "ioasids_refusals_total", c, "reason", "max", c->ev_max);
		sample_ll(f, "ioasids_refusals_total", c, "reason", "capacity", c->ev_cap);
	}
	family(f, "ioasids_sets", "gauge",
	       "IOASID sets charging a cgroup and its descendants (ioasids.stat).");
	for (i = 0; i < l->n; i++)
		sample_ll(f, "ioasids_sets", &l->v[i], NULL, NULL, l->v[i].sets);
	family(f, "ioasids_ids", "gauge",
	       "IOASIDs charged to a cgroup and its descendants by kind (ioasids.stat).");
	for (i = 0; i < l->n; i++) {
		sample_ll(f, "ioasids_ids", &l->v[i], "kind", "kernel", l->v[i].kernel);
		sample_ll(f, "ioasids_ids", &l->v[i], "kind", "sva", l->v[i].sva);
		sample_ll(f, "ioasids_ids", &l->v[i], "kind", "fd", l->v[i].fd);
	}
}

static int cmd_metrics(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "textfile", required_argument, NULL, 't' },
		{ "only", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *out = NULL, *slash;
	char tmp[PATH_MAX];
	struct cglist l = {};
	int c, ret, fd, only = 0;
	FILE *f;

	while ((c = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			out = optarg;
			break;
		case 'w':
			ret = parse_only(optarg, &only);
			if (ret)
				return ret;
			break;
		case 'h':
			return help_for(metrics_help, NULL);
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		errmsg("metrics takes no arguments");
		return EXIT_USAGE;
	}
	ret = need_controller();
	if (ret)
		return ret;
	collect(&l, cg_root, "/", "/", -1);
	only_filter(&l, only);
	if (!out) {
		write_metrics(stdout, &l);
		cglist_free(&l);
		return fflush(stdout) ? EXIT_ENV : EXIT_OK;
	}
	/* FILE's directory, a hidden name that does not end in .prom. */
	slash = strrchr(out, '/');
	if (slash)
		ret = snprintf(tmp, sizeof(tmp), "%.*s/.%s.XXXXXX", (int)(slash - out),
			       out, slash + 1);
	else
		ret = snprintf(tmp, sizeof(tmp), ".%s.XXXXXX", out);
	if (ret < 0 || (size_t)ret >= sizeof(tmp)) {
		errmsg("%s: %s", out, strerror(ENAMETOOLONG));
		cglist_free(&l);
		return EXIT_ENV;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		errmsg("%s: %s", tmp, strerror(errno));
		cglist_free(&l);
		return EXIT_ENV;
	}
	f = fdopen(fd, "w");
	if (!f || fchmod(fd, 0644)) {
		errmsg("%s: %s", tmp, strerror(errno));
		unlink(tmp);
		cglist_free(&l);
		return EXIT_ENV;
	}
	write_metrics(f, &l);
	cglist_free(&l);
	if (fflush(f) || fsync(fd) || fclose(f) || rename(tmp, out)) {
		errmsg("%s: %s", out, strerror(errno));
		unlink(tmp);
		return EXIT_ENV;
	}
	return EXIT_OK;
}

/* ---- main ---- */

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help, *extra;
} commands[] = {
	{ "alloc", cmd_alloc, alloc_help, NULL },
	{ "info", cmd_info, info_help, NULL },
	{ "tree", cmd_tree, tree_help, cgcols_help },
	{ "ps", cmd_ps, ps_help, NULL },
	{ "top", cmd_top, top_help, cgcols_help },
	{ "set-max", cmd_set_max, set_max_help, NULL },
	{ "metrics", cmd_metrics, metrics_help, NULL },
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const char *env = getenv("IOASIDCTL_CGROUP_ROOT");
	const struct command *cmd;

	if (env && *env)
		cg_root = env;
	env = getenv("IOASIDCTL_PROC_ROOT");
	if (env && *env)
		proc_root = env;
	if (argc < 2) {
		fputs(usage_text, stderr);
		fputs(exit_text, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    (!strcmp(argv[1], "help") && argc == 2))
		return help_for(usage_text, NULL);
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("ioasidctl %s\n", IOASIDCTL_VERSION);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "help")) {
		cmd = find_command(argv[2]);
		if (!cmd || argc > 3) {
			errmsg("help: no command '%s' (see --help)", argv[2]);
			return EXIT_USAGE;
		}
		return help_for(cmd->help, cmd->extra);
	}
	cmd = find_command(argv[1]);
	if (!cmd) {
		errmsg("unknown command '%s' (see --help)", argv[1]);
		return EXIT_USAGE;
	}
	return cmd->fn(argc - 1, argv + 1);
}

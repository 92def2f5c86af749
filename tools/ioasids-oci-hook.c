// SPDX-License-Identifier: GPL-2.0
/*
 * ioasids-oci-hook: an OCI runtime hook (the createRuntime or prestart
 * stage) that gives a container, or its pod, the PASID limit its
 * annotations name:
 *
 *   ioasids.max       ioasids.max of the container's cgroup
 *   ioasids.pod-max   ioasids.max of the parent of the container's cgroup,
 *                     which must be named as a pod's is (is_pod_cgroup())
 *
 * a number or "max". It reads the container's state (the OCI runtime
 * spec's "State": ociVersion, id, status, pid, bundle, annotations) from
 * stdin, takes the annotations from it (or, if the state has none, from
 * the bundle's config.json), finds the container's cgroup in the unified
 * ("0::") line of /proc/PID/cgroup, enables the controller in
 * cgroup.subtree_control from the root down to the parent of the cgroup
 * it writes (down to the container's parent cgroup for ioasids.max, to
 * the pod's parent for ioasids.pod-max), and writes the limits, the pod's
 * first.
 *
 * It fails closed: on anything it cannot parse, check or write it says
 * why on stderr and to syslog and exits 1, and the runtime does not start the
 * container. A state without either annotation is not an error: nothing
 * is written. "--dry-run" prints what it would write and writes nothing.
 *
 * The JSON parser below takes RFC 8259 JSON (strict UTF-8, no NaN, no
 * comments, no trailing commas, at most MAX_DEPTH levels, at most
 * MAX_DOC bytes) and refuses a document that names "pid", "bundle",
 * "annotations" or one of the two annotations twice.
 *
 * IOASIDS_HOOK_CGROUP_ROOT and IOASIDS_HOOK_PROC_ROOT replace
 * /sys/fs/cgroup and /proc (for testing).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "compiler.h"

#ifndef IOASIDS_HOOK_VERSION
#define IOASIDS_HOOK_VERSION "unknown"
#endif

#define MAX_DOC	(4 << 20)	/* bytes of state or config.json */
#define MAX_DEPTH	64		/* nesting of objects and arrays */
#define MAX_VALUE	20		/* characters of a limit */

#define ANNOT_MAX	"ioasids.max"
#define ANNOT_POD_MAX	"ioasids.pod-max"

static const char *cg_root = "/sys/fs/cgroup";
static const char *proc_root = "/proc";

static void __printf(1, 2) errmsg(const char *fmt, ...);

/*
 * An error, on stderr and to syslog (the journal): runtimes do not all
 * show a hook's stderr (crun 1.8.1 drops it unless the annotation
 * run.oci.hooks.stderr names a file).
 */
static void errmsg(const char *fmt, ...)
{
	va_list ap;

	fputs("ioasids-oci-hook: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	va_start(ap, fmt);
	vsyslog(LOG_ERR, fmt, ap);
	va_end(ap);
}

/* What the hook needs of a state or config.json. */
struct doc {
	long pid;		/* 0: none */
	char *bundle;
	bool has_annotations;
	char *max;		/* the annotations' values, or NULL */
	char *pod_max;
};

struct parser {
	const char *start, *p, *end;
	int depth;
	const char *what;	/* "state" or the config's path */
};

static bool __printf(2, 3) perr(struct parser *ps, const char *fmt, ...);

/* A parse error at the current offset; always false. */
static bool perr(struct parser *ps, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	errmsg("%s: byte %td: %s", ps->what, ps->p - ps->start, msg);
	return false;
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
				   *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static bool expect_lit(struct parser *ps, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, lit, n))
		return perr(ps, "invalid value");
	ps->p += n;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool read_u4(struct parser *ps, unsigned int *cp)
{
	int i, v;

	if (ps->end - ps->p < 4)
		return perr(ps, "short \\u escape");
	*cp = 0;
	for (i = 0; i < 4; i++) {
		v = hexval(ps->p[i]);
		if (v < 0)
			return perr(ps, "bad \\u escape");
		*cp = *cp << 4 | v;
	}
	ps->p += 4;
	return true;
}

static size_t put_utf8(char *out, unsigned int cp)
{
	if (cp < 0x80) {
		out[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = 0xc0 | cp >> 6;
		out[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = 0xe0 | cp >> 12;
		out[1] = 0x80 | (cp >> 6 & 0x3f);
		out[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	out[0] = 0xf0 | cp >> 18;
	out[1] = 0x80 | (cp >> 12 & 0x3f);
	out[2] = 0x80 | (cp >> 6 & 0x3f);
	out[3] = 0x80 | (cp & 0x3f);
	return 4;
}

/*
 * The length of the well-formed UTF-8 sequence at p (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or 0.
 */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	size_t n, i;
	unsigned int cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/*
 * A string at ps->p (the opening quote). With out, its decoded bytes go to
 * a new NUL-terminated buffer and *outlen is their count (a \u0000 in it
 * makes strlen() shorter: callers that need a C string check).
 */
static bool parse_string(struct parser *ps, char **out, size_t *outlen)
{
	const char *p;
	char *buf = NULL;
	size_t len = 0, n;
	unsigned int cp, lo;

	ps->p++;
	if (out) {
		/* Never longer than the rest of the input. */
		buf = malloc(ps->end - ps->p + 1);
		if (!buf)
			return perr(ps, "out of memory");
	}
	while (ps->p < ps->end && *ps->p != '"') {
		p = ps->p;
		if ((unsigned char)*p < 0x20) {
			perr(ps, "control character in a string");
			goto fail;
		}
		if (*p != '\\') {
			n = utf8_len((const unsigned char *)p,
				     (const unsigned char *)ps->end);
			if (!n) {
				perr(ps, "invalid UTF-8");
				goto fail;
			}
			if (buf)
				memcpy(buf + len, p, n);
			len += n;
			ps->p += n;
			continue;
		}
		if (ps->end - p < 2) {
			perr(ps, "unterminated escape");
			goto fail;
		}
		ps->p += 2;
		switch (p[1]) {
		case '"': case '\\': case '/':
			cp = p[1];
			break;
		case 'b':
			cp = '\b';
			break;
		case 'f':
			cp = '\f';
			break;
		case 'n':
			cp = '\n';
			break;
		case 'r':
			cp = '\r';
			break;
		case 't':
			cp = '\t';
			break;
		case 'u':
			if (!read_u4(ps, &cp))
				goto fail;
			if (cp >= 0xdc00 && cp <= 0xdfff) {
				perr(ps, "lone low surrogate");
				goto fail;
			}
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (ps->end - ps->p < 2 || ps->p[0] != '\\' ||
				    ps->p[1] != 'u') {
					perr(ps, "lone high surrogate");
					goto fail;
				}
				ps->p += 2;
				if (!read_u4(ps, &lo))
					goto fail;
				if (lo < 0xdc00 || lo > 0xdfff) {
					perr(ps, "bad surrogate pair");
					goto fail;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				     (lo - 0xdc00);
			}
			break;
		default:
			ps->p = p;
			perr(ps, "bad escape");
			goto fail;
		}
		if (buf)
			len += put_utf8(buf + len, cp);
		else
			len += cp < 0x80 ? 1 : 4;
	}
	if (ps->p >= ps->end) {
		perr(ps, "unterminated string");
		goto fail;
	}
	ps->p++;
	if (buf) {
		buf[len] = '\0';
		*out = buf;
		*outlen = len;
	}
	return true;
fail:
	free(buf);
	return false;
}

/*
 * A number. With pid, it must be an integer from 1 to INT_MAX, stored
 * there.
 */
static bool parse_number(struct parser *ps, long *pid)
{
	const char *s = ps->p;
	bool integer = true;
	long v = 0;

	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
		return perr(ps, "invalid number");
	if (*ps->p == '0')
		ps->p++;
	else
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	if (ps->p < ps->end && *ps->p == '.') {
		integer = false;
		ps->p++;
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
			return perr(ps, "invalid number");
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		integer = false;
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
			return perr(ps, "invalid number");
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	if (!pid)
		return true;
	if (!integer || *s == '-' || *s == '0' || ps->p - s > 10)
		goto bad;
	for (; s < ps->p; s++)
		v = v * 10 + (*s - '0');
	if (v > INT_MAX)
		goto bad;
	*pid = v;
	return true;
bad:
	ps->p = s;
	return perr(ps, "\"pid\" must be a process ID (an integer from 1)");
}

static bool at_number(struct parser *ps)
{
	return ps->p < ps->end &&
	       (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'));
}

enum obj { TOP, ANNOTATIONS, OTHER };

static bool parse_value(struct parser *ps, enum obj level, struct doc *d);

/* A member's string value: into *dst, refused if already set. */
static bool member_string(struct parser *ps, const char *key, char **dst)
{
	size_t len;

	skip_ws(ps);
	if (ps->p >= ps->end || *ps->p != '"')
		return perr(ps, "\"%s\" must be a string", key);
	if (*dst)
		return perr(ps, "\"%s\" given twice", key);
	if (!parse_string(ps, dst, &len))
		return false;
	if (strlen(*dst) != len)
		return perr(ps, "\"%s\" contains a NUL character", key);
	return true;
}

/*
 * An object. At the top it takes "pid", "bundle" and "annotations"; in
 * "annotations", the two of ours, whose values and every other's must be
 * strings (as the runtime spec says).
 */
static bool parse_object(struct parser *ps, enum obj level, struct doc *d)
{
	char *key = NULL;
	size_t klen;
	bool first = true, ok = false;

	ps->p++;
	for (;;) {
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == '}' && first) {
			ps->p++;
			return true;
		}
		if (ps->p >= ps->end || *ps->p != '"')
			return perr(ps, "expected a member name");
		if (!parse_string(ps, level == OTHER ? NULL : &key, &klen))
			return false;
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != ':') {
			perr(ps, "expected ':'");
			goto out;
		}
		ps->p++;
		if (level == TOP && !strcmp(key, "pid") && strlen(key) == klen) {
			skip_ws(ps);
			if (d->pid) {
				perr(ps, "\"pid\" given twice");
				goto out;
			}
			if (!at_number(ps)) {
				perr(ps, "\"pid\" must be a number");
				goto out;
			}
			if (!parse_number(ps, &d->pid))
				goto out;
		} else if (level == TOP && !strcmp(key, "bundle") &&
			   strlen(key) == klen) {
			if (!member_string(ps, "bundle", &d->bundle))
				goto out;
		} else if (level == TOP && !strcmp(key, "annotations") &&
			   strlen(key) == klen) {
			skip_ws(ps);
			if (d->has_annotations) {
				perr(ps, "\"annotations\" given twice");
				goto out;
			}
			if (ps->p >= ps->end || *ps->p != '{') {
				perr(ps, "\"annotations\" must be an object");
				goto out;
			}
			d->has_annotations = true;
			if (!parse_value(ps, ANNOTATIONS, d))
				goto out;
		} else if (level == ANNOTATIONS) {
			char **dst = NULL;
			size_t jlen;

			if (!strcmp(key, ANNOT_MAX) && strlen(key) == klen)
				dst = &d->max;
			else if (!strcmp(key, ANNOT_POD_MAX) &&
				 strlen(key) == klen)
				dst = &d->pod_max;
			if (dst) {
				if (!member_string(ps, key, dst))
					goto out;
			} else {
				skip_ws(ps);
				if (ps->p >= ps->end || *ps->p != '"') {
					perr(ps, "annotations must be strings");
					goto out;
				}
				if (!parse_string(ps, NULL, &jlen))
					goto out;
			}
		} else if (!parse_value(ps, OTHER, d)) {
			goto out;
		}
		free(key);
		key = NULL;
		first = false;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == '}') {
			ps->p++;
			return true;
		}
		return perr(ps, "expected ',' or '}'");
	}
out:
	free(key);
	return ok;
}

static bool parse_array(struct parser *ps)
{
	bool first = true;

	ps->p++;
	for (;;) {
		skip_ws(ps);
		if (first && ps->p < ps->end && *ps->p == ']') {
			ps->p++;
			return true;
		}
		if (!parse_value(ps, OTHER, NULL))
			return false;
		first = false;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == ']') {
			ps->p++;
			return true;
		}
		return perr(ps, "expected ',' or ']'");
	}
}

static bool parse_value(struct parser *ps, enum obj level, struct doc *d)
{
	bool ok;
	size_t len;

	skip_ws(ps);
	if (ps->p >= ps->end)
		return perr(ps, "unexpected end");
	switch (*ps->p) {
	case '{':
	case '[':
		if (++ps->depth > MAX_DEPTH)
			return perr(ps, "nested deeper than %d", MAX_DEPTH);
		if (*ps->p == '{')
			ok = parse_object(ps, level, d);
		else
			ok = parse_array(ps);
		ps->depth--;
		return ok;
	case '"':
		return parse_string(ps, NULL, &len);
	case 't':
		return expect_lit(ps, "true");
	case 'f':
		return expect_lit(ps, "false");
	case 'n':
		return expect_lit(ps, "null");
	default:
		return parse_number(ps, NULL);
	}
}

/* A whole document, which must be one object. */
static bool parse_doc(const char *buf, size_t len, const char *what,
		      struct doc *d)
{
	struct parser ps = {
		.start = buf, .p = buf, .end = buf + len, .what = what,
	};

	skip_ws(&ps);
	if (ps.p >= ps.end || *ps.p != '{')
		return perr(&ps, "not a JSON object");
	if (!parse_value(&ps, TOP, d))
		return false;
	skip_ws(&ps);
	if (ps.p != ps.end)
		return perr(&ps, "trailing data after the object");
	return true;
}

/* All of fd, at most MAX_DOC bytes, into a new buffer. */
static char *read_all(int fd, const char *what, size_t *lenp)
{
	size_t len = 0, size = 4096;
	char *buf = malloc(size), *nbuf;
	ssize_t n;

	if (!buf) {
		errmsg("out of memory");
		return NULL;
	}
	for (;;) {
		if (len == size) {
			if (size >= MAX_DOC) {
				errmsg("%s: longer than %d bytes", what,
				       MAX_DOC);
				goto fail;
			}
			size *= 2;
			nbuf = realloc(buf, size);
			if (!nbuf) {
				errmsg("out of memory");
				goto fail;
			}
			buf = nbuf;
		}
		n = read(fd, buf + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			errmsg("cannot read %s: %s", what, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += n;
	}
	*lenp = len;
	return buf;
fail:
	free(buf);
	return NULL;
}

/* A limit: "max" or 1 to MAX_VALUE decimal digits. */
static bool valid_limit(const char *key, const char *v)
{
	size_t n = strlen(v), i;
	char shown[64];

	if (!strcmp(v, "max"))
		return true;
	if (n && n <= MAX_VALUE && strspn(v, "0123456789") == n)
		return true;
	/* The value as given, printable ASCII only, cut short. */
	for (i = 0; i < n && i < sizeof(shown) - 1; i++)
		shown[i] = v[i] >= 0x20 && v[i] < 0x7f ? v[i] : '?';
	shown[i] = '\0';
	errmsg("annotation %s=\"%s%s\": want a number or \"max\"", key, shown,
	       n > i ? "..." : "");
	return false;
}

/*
 * The container's cgroup, from the "0::" line of /proc/PID/cgroup, as a
 * path relative to the root ("/a/b"): never the root, never with "." or
 * ".." components.
 */
static char *container_cgroup(long pid)
{
	char path[PATH_MAX], *line = NULL, *cg = NULL, *nl, *c;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%ld/cgroup", proc_root, pid);
	f = fopen(path, "re");
	if (!f) {
		errmsg("cannot read %s: %s (is the container's process gone?)",
		       path, strerror(errno));
		return NULL;
	}
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, "0::", 3))
			continue;
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		cg = strdup(line + 3);
		break;
	}
	free(line);
	fclose(f);
	if (!cg) {
		errmsg("%s has no cgroup v2 (\"0::\") line", path);
		return NULL;
	}
	if (cg[0] != '/' || !strcmp(cg, "/")) {
		errmsg("%s: the container is in cgroup \"%s\", not below the root",
		       path, cg);
		goto bad;
	}
	for (c = cg; c; c = strchr(c + 1, '/')) {
		if (!strncmp(c, "/../", 4) || !strcmp(c, "/..") ||
		    !strncmp(c, "/./", 3) || !strcmp(c, "/.") ||
		    !strncmp(c, "//", 2) || !strcmp(c, "/")) {
			errmsg("%s: odd cgroup path \"%s\"", path, cg);
			goto bad;
		}
	}
	return cg;
bad:
	free(cg);
	return NULL;
}

static bool write_file(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0) {
		errmsg("cannot open %s: %s", path, strerror(errno));
		return false;
	}
	n = write(fd, val, len);
	if (n != (ssize_t)len) {
		errmsg("cannot write \"%s\" to %s: %s", val, path,
		       n < 0 ? strerror(errno) : "short write");
		close(fd);
		return false;
	}
	if (close(fd)) {
		errmsg("cannot write \"%s\" to %s: %s", val, path,
		       strerror(errno));
		return false;
	}
	return true;
}

/* Whether the whitespace-separated list in file has word; -1: error. */
static int file_has_word(const char *path, const char *word)
{
	char buf[4096], *tok, *save;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		errmsg("cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		errmsg("cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	for (tok = strtok_r(buf, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save))
		if (!strcmp(tok, word))
			return 1;
	return 0;
}

/*
 * +ioasids in cgroup.subtree_control of the root and of every cgroup
 * below it down to cg (a path relative to the root, "" for the root).
 */
static bool enable_down_to(const char *cg, bool dry_run)
{
	char dir[PATH_MAX], file[PATH_MAX + 32];
	size_t rootlen = strlen(cg_root), i, n = strlen(cg);
	int has;

	snprintf(file, sizeof(file), "%s/cgroup.controllers", cg_root);
	has = file_has_word(file, "ioasids");
	if (has < 0)
		return false;
	if (!has) {
		errmsg("%s has no ioasids: the kernel has no ioasids controller",
		       file);
		return false;
	}
	if (rootlen + n >= sizeof(dir)) {
		errmsg("cgroup path too long");
		return false;
	}
	for (i = 0; i <= n; i++) {
		if (i < n && cg[i] != '/')
			continue;
		snprintf(dir, sizeof(dir), "%s%.*s", cg_root, (int)i, cg);
		snprintf(file, sizeof(file), "%s/cgroup.subtree_control", dir);
		has = file_has_word(file, "ioasids");
		if (has < 0)
			return false;
		if (has)
			continue;
		if (dry_run) {
			printf("%s: +ioasids\n", file);
			continue;
		}
		if (!write_file(file, "+ioasids"))
			return false;
	}
	return true;
}

/*
 * Whether cg (a path below the root) is named as a pod's cgroup is:
 * Kubernetes' pod<UID> (cgroupfs driver), kubepods-...-pod<UID>.slice
 * (systemd driver), podman's machine-libpod_pod_<ID>.slice. Not what a
 * runtime puts all its containers under (machine.slice, /libpod_parent),
 * which is what a container outside a pod has as its parent.
 */
static bool is_pod_cgroup(const char *cg)
{
	const char *name = strrchr(cg, '/') + 1;
	size_t n = strlen(name);

	if (n > 3 && !strncmp(name, "pod", 3))
		return true;
	return n > 6 && !strcmp(name + n - 6, ".slice") &&
	       (strstr(name, "-pod") || strstr(name, "_pod_"));
}

static bool set_max(const char *cg, const char *val, bool dry_run)
{
	char file[PATH_MAX];

	if ((size_t)snprintf(file, sizeof(file), "%s%s/ioasids.max", cg_root,
			     cg) >= sizeof(file)) {
		errmsg("cgroup path too long");
		return false;
	}
	if (dry_run) {
		printf("%s: %s\n", file, val);
		return true;
	}
	return write_file(file, val);
}

/* The annotations of the bundle's config.json, into d. */
static bool read_config(struct doc *d)
{
	char path[PATH_MAX], *buf;
	struct doc cfg = { 0 };
	size_t len;
	bool ok;
	int fd;

	if (!d->bundle) {
		errmsg("the state has neither annotations nor a bundle");
		return false;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/config.json",
			     d->bundle) >= sizeof(path)) {
		errmsg("bundle path too long");
		return false;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		errmsg("cannot read %s: %s", path, strerror(errno));
		return false;
	}
	buf = read_all(fd, path, &len);
	close(fd);
	if (!buf)
		return false;
	ok = parse_doc(buf, len, path, &cfg);
	free(buf);
	free(cfg.bundle);
	d->max = cfg.max;
	d->pod_max = cfg.pod_max;
	return ok;
}

static void usage(FILE *f)
{
	fputs("Usage: ioasids-oci-hook [--dry-run]\n"
	      "An OCI runtime hook (createRuntime or prestart): reads the container's\n"
	      "state on stdin and writes ioasids.max of its cgroup from the annotation\n"
	      "ioasids.max, and of its parent (pod) cgroup from ioasids.pod-max, each a\n"
	      "number or \"max\". Exit status 0, or 1 (the container does not start).\n"
	      "  --dry-run  print what would be written, write nothing\n",
	      f);
}

int main(int argc, char **argv)
{
	struct doc d = { 0 };
	bool dry_run = false, ok = false;
	char *buf = NULL, *cg = NULL, *pod = NULL, *slash;
	const char *env;
	size_t len;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dry-run")) {
			dry_run = true;
			continue;
		}
		if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--version")) {
			puts("ioasids-oci-hook " IOASIDS_HOOK_VERSION);
			return 0;
		}
		usage(stderr);
		return 1;
	}
	openlog("ioasids-oci-hook", LOG_PID, LOG_DAEMON);
	env = getenv("IOASIDS_HOOK_CGROUP_ROOT");
	if (env && *env)
		cg_root = env;
	env = getenv("IOASIDS_HOOK_PROC_ROOT");
	if (env && *env)
		proc_root = env;

	buf = read_all(STDIN_FILENO, "the state on stdin", &len);
	if (!buf)
		return 1;
	if (!parse_doc(buf, len, "state", &d))
		goto out;
	if (!d.has_annotations && !read_config(&d))
		goto out;
	if (!d.max && !d.pod_max) {
		ok = true;	/* nothing asked for */
		goto out;
	}
	if ((d.max && !valid_limit(ANNOT_MAX, d.max)) ||
	    (d.pod_max && !valid_limit(ANNOT_POD_MAX, d.pod_max)))
		goto out;
	if (!d.pid) {
		errmsg("the state has no \"pid\"");
		goto out;
	}
	cg = container_cgroup(d.pid);
	if (!cg)
		goto out;
	pod = strdup(cg);
	if (!pod) {
		errmsg("out of memory");
		goto out;
	}
	slash = strrchr(pod, '/');
	*slash = '\0';
	if (d.pod_max && !*pod) {
		errmsg("%s: the container's cgroup %s is right below the root: no pod cgroup",
		       ANNOT_POD_MAX, cg);
		goto out;
	}
	if (d.pod_max && !is_pod_cgroup(pod)) {
		errmsg("%s: parent cgroup %s is not a pod's (pod*, *-pod*.slice)",
		       ANNOT_POD_MAX, pod);
		goto out;
	}
	/* Down to the pod's parent for the pod's limit, to the pod for ours. */
	if (d.max) {
		if (!enable_down_to(pod, dry_run))
			goto out;
	} else {
		slash = strrchr(pod, '/');
		*slash = '\0';
		if (!enable_down_to(pod, dry_run))
			goto out;
		*slash = '/';
	}
	if (d.pod_max && !set_max(pod, d.pod_max, dry_run))
		goto out;
	if (d.max && !set_max(cg, d.max, dry_run))
		goto out;
	ok = true;
out:
	free(buf);
	free(cg);
	free(pod);
	free(d.bundle);
	free(d.max);
	free(d.pod_max);
	return ok ? 0 : 1;
}

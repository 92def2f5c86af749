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
 * Annotations are tenant input (CRI-O passes every pod annotation to
 * hooks): they may lower a limit, never raise one. A value is refused
 * (nothing is written, exit 1) when it is above the cgroup's current
 * ioasids.max ("max" is above every number) or above the admin's ceiling
 * in /etc/ioasids/oci-hook.conf (IOASIDS_POD_MAX_CEILING,
 * IOASIDS_MAX_CEILING; no file, no ceiling). Refused, not clamped: the
 * container would otherwise run with a limit other than the one its
 * annotation names, and nobody would be told. Each cgroup's limit is read
 * and written under an exclusive flock(2) on its directory, so that two
 * hooks of one pod, started at once, cannot raise what the other lowered.
 *
 * The container's cgroup must name the container (its last component,
 * less ".scope", is the state's "id" or ends in "-<id>"; crun's
 * "container" sub-cgroup of such a scope counts as the scope's), and must
 * not be the hook's own cgroup or one above it (a state whose "pid" is
 * not the container's). The pod is the parent of the cgroup that names
 * the container, and must be named exactly as a pod's cgroup is
 * (is_pod_cgroup()).
 *
 * It fails closed: on anything it cannot parse, check or write it says
 * why on stderr and to syslog and exits 1, and the runtime does not start the
 * container. A state without either annotation is not an error: nothing
 * is written. "--dry-run" prints what it would write and writes nothing.
 *
 * The JSON parser below takes RFC 8259 JSON (strict UTF-8, no NaN, no
 * comments, no trailing commas, at most MAX_DEPTH levels, at most
 * MAX_DOC bytes) and refuses a document that names "pid", "id", "bundle",
 * "annotations" or one of the two annotations twice.
 *
 * IOASIDS_HOOK_CGROUP_ROOT, IOASIDS_HOOK_PROC_ROOT and IOASIDS_HOOK_CONF
 * replace /sys/fs/cgroup, /proc and /etc/ioasids/oci-hook.conf (for
 * testing).
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
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "compiler.h"

#ifndef IOASIDS_HOOK_VERSION
#define IOASIDS_HOOK_VERSION "unknown"
#endif

#define MAX_DOC	(4 << 20)	/* bytes of state or config.json */
#define MAX_DEPTH	64		/* nesting of objects and arrays */
#define MAX_VALUE	20		/* characters of a limit */
/* What a container ID may be made of. */
#define ID_CHARS	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+.-"
#define MAX_ID		1024		/* characters of a container id */
#define MAX_CONF	65536		/* bytes of the ceilings file */
#define LOCK_WAIT_MS	20000		/* for a cgroup's lock */

#define ANNOT_MAX	"ioasids.max"
#define ANNOT_POD_MAX	"ioasids.pod-max"

static const char *cg_root = "/sys/fs/cgroup";
static const char *proc_root = "/proc";
static const char *conf_path = "/etc/ioasids/oci-hook.conf";

#define CONF_POD_MAX	"IOASIDS_POD_MAX_CEILING"
#define CONF_MAX	"IOASIDS_MAX_CEILING"

/* A limit: "max" (unlimited) or a number. */
struct limit {
	bool set;		/* given at all */
	bool max;
	unsigned long long v;
};

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
	char *id;
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
 * An object. At the top it takes "pid", "id", "bundle" and "annotations"; in
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
		} else if (level == TOP && !strcmp(key, "id") &&
			   strlen(key) == klen) {
			if (!member_string(ps, "id", &d->id))
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

/* Printable ASCII of v, cut short, for a message. */
static void shown(char *out, size_t size, const char *v)
{
	size_t n = strlen(v), i;

	for (i = 0; i < n && i + 4 < size; i++)
		out[i] = v[i] >= 0x20 && v[i] < 0x7f ? v[i] : '?';
	snprintf(out + i, size - i, "%s", n > i ? "..." : "");
}

/* "max" or 1 to MAX_VALUE decimal digits, at most ULLONG_MAX, into *l. */
static bool str_to_limit(const char *v, struct limit *l)
{
	size_t n = strlen(v);
	char *end;

	l->set = true;
	l->max = !strcmp(v, "max");
	if (l->max)
		return true;
	if (!n || n > MAX_VALUE || strspn(v, "0123456789") != n)
		return false;
	errno = 0;
	l->v = strtoull(v, &end, 10);
	return !errno && !*end;
}

/* An annotation's value, into *l. */
static bool parse_limit(const char *key, const char *v, struct limit *l)
{
	char buf[64];

	if (str_to_limit(v, l))
		return true;
	shown(buf, sizeof(buf), v);
	errmsg("annotation %s=\"%s\": want a number or \"max\"", key, buf);
	return false;
}

/* Whether a is above b ("max" is above every number). */
static bool limit_above(const struct limit *a, const struct limit *b)
{
	if (b->max)
		return false;
	return a->max || a->v > b->v;
}

/* The limit as ioasids.max takes it. */
static void limit_str(char *buf, size_t size, const struct limit *l)
{
	if (l->max)
		snprintf(buf, size, "max");
	else
		snprintf(buf, size, "%llu", l->v);
}

/*
 * The admin's ceilings, from conf_path: lines "KEY=VALUE" (blanks around
 * either allowed), KEY IOASIDS_POD_MAX_CEILING or IOASIDS_MAX_CEILING,
 * VALUE a number or "max"; blank lines and lines starting with "#". No
 * file: no ceilings. A file that is not a regular file owned by root (or
 * by us) and written by its owner only, an unknown key, a key given twice
 * or a bad value: refused.
 */
static bool read_ceilings(struct limit *pod_ceil, struct limit *ceil)
{
	char *buf, *line, *next, *eq, *k, *v, *e;
	struct stat st;
	size_t len;
	int fd, n = 0;
	bool ok = false;

	pod_ceil->set = false;
	ceil->set = false;
	fd = open(conf_path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)
		return true;
	if (fd < 0) {
		errmsg("cannot read %s: %s", conf_path, strerror(errno));
		return false;
	}
	if (fstat(fd, &st)) {
		errmsg("cannot read %s: %s", conf_path, strerror(errno));
		close(fd);
		return false;
	}
	if (!S_ISREG(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & 022)) {
		errmsg("%s: not a regular file owned by root and writable by root only",
		       conf_path);
		close(fd);
		return false;
	}
	if (st.st_size > MAX_CONF) {
		errmsg("%s: longer than %d bytes", conf_path, MAX_CONF);
		close(fd);
		return false;
	}
	buf = read_all(fd, conf_path, &len);
	close(fd);
	if (!buf)
		return false;
	if (memchr(buf, '\0', len)) {
		errmsg("%s: contains a NUL byte", conf_path);
		goto out;
	}
	buf[len] = '\0';	/* read_all() leaves room */
	for (line = buf; line; line = next) {
		struct limit *dst;

		n++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		k = line + strspn(line, " \t");
		e = k + strlen(k);
		while (e > k && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			*--e = '\0';
		if (!*k || *k == '#')
			continue;
		eq = strchr(k, '=');
		if (!eq) {
			errmsg("%s: line %d: want KEY=VALUE", conf_path, n);
			goto out;
		}
		v = eq + 1 + strspn(eq + 1, " \t");
		while (eq > k && (eq[-1] == ' ' || eq[-1] == '\t'))
			eq--;
		*eq = '\0';
		if (!strcmp(k, CONF_POD_MAX)) {
			dst = pod_ceil;
		} else if (!strcmp(k, CONF_MAX)) {
			dst = ceil;
		} else {
			char sk[64];

			shown(sk, sizeof(sk), k);
			errmsg("%s: line %d: unknown key \"%s\" (want %s or %s)",
			       conf_path, n, sk, CONF_POD_MAX, CONF_MAX);
			goto out;
		}
		if (dst->set) {
			errmsg("%s: line %d: %s given twice", conf_path, n, k);
			goto out;
		}
		if (!str_to_limit(v, dst)) {
			char sv[64];

			shown(sv, sizeof(sv), v);
			errmsg("%s: line %d: %s=\"%s\": want a number or \"max\"",
			       conf_path, n, k, sv);
			goto out;
		}
	}
	ok = true;
out:
	free(buf);
	return ok;
}

/* A container id as runc takes one: [A-Za-z0-9_+.-], not "." or "..". */
static bool valid_id(const char *id)
{
	size_t n = strlen(id);
	char buf[64];

	if (n && n <= MAX_ID && strcmp(id, ".") && strcmp(id, "..") &&
	    strspn(id, ID_CHARS) == n)
		return true;
	shown(buf, sizeof(buf), id);
	errmsg("the state's \"id\" \"%s\" is not a container id", buf);
	return false;
}

/*
 * The unified ("0::") line of proc_root/WHO/cgroup, as a new string, or
 * NULL with the reason said.
 */
static char *read_cgroup(const char *who, char *path, size_t size)
{
	char *line = NULL, *cg = NULL, *nl;
	size_t cap = 0;
	FILE *f;

	snprintf(path, size, "%s/%s/cgroup", proc_root, who);
	f = fopen(path, "re");
	if (!f) {
		errmsg("cannot read %s: %s%s", path, strerror(errno),
		       strcmp(who, "self") ? " (is the container's process gone?)" : "");
		return NULL;
	}
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, "0::", 3))
			continue;
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		cg = strdup(line + 3);
		if (!cg)
			errmsg("out of memory");
		break;
	}
	if (!cg && !ferror(f))
		errmsg("%s has no cgroup v2 (\"0::\") line", path);
	free(line);
	fclose(f);
	return cg;
}

/*
 * The container's cgroup, from the "0::" line of /proc/PID/cgroup, as a
 * path relative to the root ("/a/b"): never the root, never with "." or
 * ".." components.
 */
static char *container_cgroup(long pid)
{
	char path[PATH_MAX], who[32], *cg, *c;

	snprintf(who, sizeof(who), "%ld", pid);
	cg = read_cgroup(who, path, sizeof(path));
	if (!cg)
		return NULL;
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

/*
 * Whether cg is the hook's own cgroup or above it: then the state's "pid"
 * is not a container's process (a runtime's, or the caller's own), and a
 * limit there would limit the runtime, not a container.
 */
static bool hooks_own(const char *cg, bool *own)
{
	char path[PATH_MAX], *self;
	size_t n = strlen(cg);

	self = read_cgroup("self", path, sizeof(path));
	if (!self)
		return false;
	*own = !strcmp(self, cg) || (!strncmp(self, cg, n) && self[n] == '/');
	free(self);
	return true;
}

/* The last component of cg, and its length. */
static const char *base(const char *cg, size_t *n)
{
	const char *b = strrchr(cg, '/');

	b = b ? b + 1 : cg;
	*n = strlen(b);
	return b;
}

/* Whether the component name[0..n) names the container id. */
static bool names_id(const char *name, size_t n, const char *id)
{
	size_t idn = strlen(id);

	if (n > 6 && !memcmp(name + n - 6, ".scope", 6))
		n -= 6;
	if (n < idn || memcmp(name + n - idn, id, idn))
		return false;
	return n == idn || name[n - idn - 1] == '-';
}

/*
 * The length of the prefix of cg that is the container's own cgroup: cg
 * if its last component names the container (<id>, <prefix>-<id>,
 * <prefix>-<id>.scope), its parent if cg is crun's "container"
 * sub-cgroup of such a scope; 0 if neither.
 */
static size_t named_part(const char *cg, const char *id)
{
	size_t n, pn;
	const char *b = base(cg, &n), *pb;

	if (names_id(b, n, id))
		return strlen(cg);
	if (strcmp(b, "container") || b - 1 == cg)
		return 0;
	pn = b - 1 - cg;			/* the parent: cg[0..pn) */
	for (pb = cg + pn; pb > cg && pb[-1] != '/'; pb--)
		;
	return names_id(pb, cg + pn - pb, id) ? pn : 0;
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

static bool is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/*
 * Whether s[0..n) is a Kubernetes pod UID: a UUID (lower-case, 8-4-4-4-12,
 * with dash as its separator: '-', or '_' in systemd's names), or the 32
 * hex digits kubelet gives a static pod.
 */
static bool is_pod_uid(const char *s, size_t n, char dash)
{
	size_t i;

	if (n == 32)
		return is_hex(s, n);
	if (n != 36)
		return false;
	for (i = 0; i < n; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != dash)
				return false;
		} else if (!is_hex(s + i, 1)) {
			return false;
		}
	}
	return true;
}

/* Whether name[0..n) is prefix, then a pod UID, then suffix. */
static bool pod_name(const char *name, size_t n, const char *prefix,
		     const char *suffix, char dash)
{
	size_t p = strlen(prefix), q = strlen(suffix);

	return n > p + q && !strncmp(name, prefix, p) &&
	       !strcmp(name + n - q, suffix) &&
	       is_pod_uid(name + p, n - p - q, dash);
}

/* Whether the component before the last of cg (or "" at the top) is want. */
static bool parent_is(const char *cg, const char *want)
{
	const char *end = strrchr(cg, '/'), *b;

	if (!end)
		return false;
	for (b = end; b > cg && b[-1] != '/'; b--)
		;
	return (size_t)(end - b) == strlen(want) && !strncmp(b, want, end - b);
}

/*
 * Whether cg (a path below the root) is a pod's cgroup, named exactly as
 * these name it, under the parent they put it in:
 *   Kubernetes, cgroupfs driver:  .../kubepods[/burstable|/besteffort]/pod<UID>
 *   Kubernetes, systemd driver:   kubepods.slice/kubepods-pod<UID>.slice,
 *     kubepods-burstable.slice/kubepods-burstable-pod<UID>.slice (and
 *     besteffort), the UID's dashes as '_'
 *   podman, systemd manager:      machine.slice/machine-libpod_pod_<64 hex>.slice
 * Never what a runtime puts many containers under (machine.slice,
 * podman.slice, /libpod_parent, a QoS class), whose limit would cap them
 * all together.
 */
static bool is_pod_cgroup(const char *cg)
{
	size_t n, pn;
	const char *name = base(cg, &n);
	char *parent;
	bool ok = false;

	if (pod_name(name, n, "pod", "", '-')) {
		if (parent_is(cg, "kubepods"))
			return true;
		if (!parent_is(cg, "burstable") && !parent_is(cg, "besteffort"))
			return false;
		parent = strndup(cg, name - 1 - cg);
		if (!parent)
			return false;
		ok = parent_is(parent, "kubepods");
		free(parent);
		return ok;
	}
	if (pod_name(name, n, "kubepods-pod", ".slice", '_'))
		return parent_is(cg, "kubepods.slice");
	if (pod_name(name, n, "kubepods-burstable-pod", ".slice", '_'))
		return parent_is(cg, "kubepods-burstable.slice");
	if (pod_name(name, n, "kubepods-besteffort-pod", ".slice", '_'))
		return parent_is(cg, "kubepods-besteffort.slice");
	pn = strlen("machine-libpod_pod_");
	if (n == pn + 64 + 6 && !strncmp(name, "machine-libpod_pod_", pn) &&
	    is_hex(name + pn, 64) && !strcmp(name + pn + 64, ".slice"))
		return parent_is(cg, "machine.slice");
	return false;
}

/*
 * An exclusive flock(2) on the cgroup's directory, waited for up to
 * LOCK_WAIT_MS: every hook reads and writes a cgroup's ioasids.max under
 * it. The fd, or -1 with the reason said.
 */
static int lock_cgroup(const char *cg)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	char dir[PATH_MAX];
	int fd, waited;

	if ((size_t)snprintf(dir, sizeof(dir), "%s%s", cg_root, cg) >= sizeof(dir)) {
		errmsg("cgroup path too long");
		return -1;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		errmsg("cannot open %s: %s", dir, strerror(errno));
		return -1;
	}
	for (waited = 0; flock(fd, LOCK_EX | LOCK_NB); waited += 20) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			errmsg("cannot lock %s: %s", dir, strerror(errno));
			close(fd);
			return -1;
		}
		if (waited >= LOCK_WAIT_MS) {
			errmsg("%s: locked by another hook for %d s", dir,
			       LOCK_WAIT_MS / 1000);
			close(fd);
			return -1;
		}
		nanosleep(&ts, NULL);
	}
	return fd;
}

/*
 * ioasids.max of cg, into *l. A cgroup without the file (the controller
 * not enabled in its parent yet) has no limit of its own: "max".
 */
static bool get_max(const char *cg, struct limit *l)
{
	char file[PATH_MAX], buf[64];
	ssize_t n;
	int fd;

	if ((size_t)snprintf(file, sizeof(file), "%s%s/ioasids.max", cg_root,
			     cg) >= sizeof(file)) {
		errmsg("cgroup path too long");
		return false;
	}
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		l->set = true;
		l->max = true;
		return true;
	}
	if (fd < 0) {
		errmsg("cannot read %s: %s", file, strerror(errno));
		return false;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		errmsg("cannot read %s: %s", file, strerror(errno));
		return false;
	}
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	if (!str_to_limit(buf, l)) {
		errmsg("%s: cannot parse \"%s\"", file, buf);
		return false;
	}
	return true;
}

static bool set_max(const char *cg, const struct limit *l, bool dry_run)
{
	char file[PATH_MAX], val[32];

	limit_str(val, sizeof(val), l);
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
	free(cfg.id);
	d->max = cfg.max;
	d->pod_max = cfg.pod_max;
	return ok;
}

static void usage(FILE *f)
{
	fputs("Usage: ioasids-oci-hook [--dry-run]\n"
	      "An OCI runtime hook (createRuntime or prestart): reads the container's\n"
	      "state on stdin and lowers ioasids.max of its cgroup to the annotation\n"
	      "ioasids.max, and of its pod's cgroup to ioasids.pod-max, each a number or\n"
	      "\"max\". A value above the cgroup's current limit, or above the ceiling in\n"
	      "/etc/ioasids/oci-hook.conf, is refused. Exit status 0, or 1 (the\n"
	      "container does not start).\n"
	      "  --dry-run  print what would be written, write nothing\n",
	      f);
}

/*
 * The value of annotation key for cgroup cg may be written: not above the
 * admin's ceiling, nor above cg's current limit (read under the lock the
 * caller holds).
 */
static bool may_lower(const char *key, const char *val, const struct limit *want,
		      const char *cg)
{
	struct limit cur;
	char buf[64], curs[32];

	if (!get_max(cg, &cur))
		return false;
	if (!limit_above(want, &cur))
		return true;
	shown(buf, sizeof(buf), val);
	limit_str(curs, sizeof(curs), &cur);
	errmsg("annotation %s=\"%s\" is above ioasids.max of %s: %s (may only lower it)",
	       key, buf, cg, curs);
	return false;
}

/* Not above the admin's ceiling (none: anything). */
static bool under_ceiling(const char *key, const char *val,
			  const struct limit *want, const struct limit *ceil,
			  const char *conf_key)
{
	char buf[64], cs[32];

	if (!ceil->set || !limit_above(want, ceil))
		return true;
	shown(buf, sizeof(buf), val);
	limit_str(cs, sizeof(cs), ceil);
	errmsg("annotation %s=\"%s\" is above the ceiling %s of %s in %s",
	       key, buf, cs, conf_key, conf_path);
	return false;
}

int main(int argc, char **argv)
{
	struct doc d = { 0 };
	struct limit max = { 0 }, pod_max = { 0 }, ceil, pod_ceil;
	bool dry_run = false, ok = false, own;
	char *buf = NULL, *cg = NULL, *pod = NULL, *slash;
	int pod_lock = -1, ctr_lock = -1;
	const char *env;
	size_t len, named;
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
	env = getenv("IOASIDS_HOOK_CONF");
	if (env && *env)
		conf_path = env;

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
	if ((d.max && !parse_limit(ANNOT_MAX, d.max, &max)) ||
	    (d.pod_max && !parse_limit(ANNOT_POD_MAX, d.pod_max, &pod_max)))
		goto out;
	/* The admin's ceilings first: refused there, nothing is touched. */
	if (!read_ceilings(&pod_ceil, &ceil))
		goto out;
	if ((d.pod_max && !under_ceiling(ANNOT_POD_MAX, d.pod_max, &pod_max,
					 &pod_ceil, CONF_POD_MAX)) ||
	    (d.max && !under_ceiling(ANNOT_MAX, d.max, &max, &ceil, CONF_MAX)))
		goto out;
	if (!d.pid) {
		errmsg("the state has no \"pid\"");
		goto out;
	}
	if (!d.id) {
		errmsg("the state has no \"id\"");
		goto out;
	}
	if (!valid_id(d.id))
		goto out;
	cg = container_cgroup(d.pid);
	if (!cg)
		goto out;
	if (!hooks_own(cg, &own))
		goto out;
	if (own) {
		errmsg("the container's cgroup %s is the hook's own, or above it (pid %ld)",
		       cg, d.pid);
		goto out;
	}
	named = named_part(cg, d.id);
	if (!named) {
		errmsg("the container's cgroup %s does not name the container \"%s\"",
		       cg, d.id);
		goto out;
	}
	/* The pod: the parent of the cgroup that names the container. */
	pod = strndup(cg, named);
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
		errmsg("%s: parent cgroup %s is not a pod's (Kubernetes' or libpod's)",
		       ANNOT_POD_MAX, pod);
		goto out;
	}
	/*
	 * Read, checked and written under the cgroups' locks, the pod's
	 * first: a hook racing us for the same pod either finished before we
	 * read or reads what we wrote. A cgroup without ioasids.max yet (the
	 * controller not on above it) has no limit of its own: "max".
	 */
	if (d.pod_max && !dry_run) {
		pod_lock = lock_cgroup(pod);
		if (pod_lock < 0)
			goto out;
	}
	if (d.max && !dry_run) {
		ctr_lock = lock_cgroup(cg);
		if (ctr_lock < 0)
			goto out;
	}
	if (d.pod_max && !may_lower(ANNOT_POD_MAX, d.pod_max, &pod_max, pod))
		goto out;
	if (d.max && !may_lower(ANNOT_MAX, d.max, &max, cg))
		goto out;
	/*
	 * Only then the controller on down to the container's parent for its
	 * limit, to the pod's parent for the pod's. Enabling it limits
	 * nothing: a new ioasids.max reads "max".
	 */
	if (d.max) {
		slash = strrchr(cg, '/');
		*slash = '\0';
		ok = enable_down_to(cg, dry_run);
		*slash = '/';
	} else {
		slash = strrchr(pod, '/');
		*slash = '\0';
		ok = enable_down_to(pod, dry_run);
		*slash = '/';
	}
	if (!ok)
		goto out;
	ok = false;
	if (d.pod_max && !set_max(pod, &pod_max, dry_run))
		goto out;
	if (d.max && !set_max(cg, &max, dry_run))
		goto out;
	ok = true;
out:
	if (ctr_lock >= 0)
		close(ctr_lock);
	if (pod_lock >= 0)
		close(pod_lock);
	free(buf);
	free(cg);
	free(pod);
	free(d.id);
	free(d.bundle);
	free(d.max);
	free(d.pod_max);
	return ok ? 0 : 1;
}

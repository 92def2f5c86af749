// SPDX-License-Identifier: GPL-2.0
/*
 * A bounded random fuzzer for /dev/ioasid, the mock devices' ioctls and the
 * ioasids.* cgroup files.
 *
 * Each input is one of: an ioctl with a known or random command number on
 * a /dev/ioasid file, a mock device or another file, whose argument is a
 * struct of a random size with random flags, fields and ID pointers (valid,
 * NULL, unmapped, a kernel address, straddling an unmapped page), or a bare
 * bad pointer; or a write of random bytes to a random ioasids.* file. Every
 * error must be one the uAPI documents; ioasids.max must always read back
 * as "max" or a number. The fuzzing runs in a child process, so that its
 * files and its mm go when it exits; then nothing may be left: not a
 * charge, not a set, not a PASID table entry.
 *
 * A fuzzer that reaches nothing passes nothing: every file it fuzzes must
 * open, and each known ioctl must have succeeded a few times (a struct of
 * the right size, valid flags and a good pointer come up often enough) and
 * the cgroup files must have taken writes. Every run prints its seed.
 *
 *   ioasid_fuzz [inputs]     (default 100000; IOASIDS_SEED=<n> to repeat)
 *
 * Exits 0 when all of that held, 1 otherwise. The kernel's own checkers
 * (KASAN, lockdep, kmemleak) judge the rest.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <sys/mman.h>
#include <time.h>

#include "../selftests/ioasid/ioasid_util.h"
#include "ioasid_mock.h"

#define FUZZ_CG		CGROOT "/ioasid_fuzz"
#define NR_FDS		4
#define BUF_SIZE	(64 * 1024)

static unsigned long rng;

static unsigned long rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned long errors;

#define fail(fmt, ...)							\
	do {								\
		if (errors++ < 20)					\
			fprintf(stderr, "fuzz: " fmt "\n", ##__VA_ARGS__); \
	} while (0)

/* Memory to point the kernel at: a buffer that ends at an unmapped page. */
static char *buf;		/* BUF_SIZE bytes, then a PROT_NONE page */
static char *unmapped;
static long page;

/*
 * Values that reach past the argument checks: IDs that ALLOC returned
 * and the mock devices' file numbers. Without them FREE, FIND, BIND and
 * UNBIND never succeed.
 */
#define NR_HOT	64
static unsigned long hot[NR_HOT];
static unsigned int nr_hot;

static void add_hot(unsigned long v)
{
	hot[nr_hot++ % NR_HOT] = v;
}

static unsigned long any_u32(void)
{
	static const unsigned long interesting[] = {
		0, 1, 2, 15, 16, 17, 64, 4096, NAMESPACE, NAMESPACE + 1,
		1 << 20, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
	};

	if (nr_hot && rnd() % 3 == 0)
		return hot[rnd() % (nr_hot < NR_HOT ? nr_hot : NR_HOT)];
	if (rnd() % 3)
		return interesting[rnd() % ARRAY_SIZE(interesting)];
	return rnd() % 4 ? rnd() % 256 : (__u32)rnd();
}

/* An address to hand the kernel for an array of IDs, good or bad. */
static unsigned long any_pointer(void)
{
	switch (rnd() % 8) {
	case 0:
		return 0;
	case 1:
		return (unsigned long)unmapped;
	case 2:
		return 0xffffffff81000000UL;	/* the kernel's text */
	case 3:
		return (unsigned long)buf + BUF_SIZE - 4 * (rnd() % 8);
	case 4:
		return (unsigned long)buf + 1 + rnd() % 64;	/* misaligned */
	case 5:
		return rnd();
	default:
		return (unsigned long)buf + 4096 * (rnd() % 4);
	}
}

/* The ioctls and the size of the struct each takes; the mock's two last. */
static const struct {
	unsigned long cmd;
	unsigned int size;
} known[] = {
	{ IOASID_GET_INFO, sizeof(struct ioasid_info) },
	{ IOASID_ALLOC, sizeof(struct ioasid_alloc) },
	{ IOASID_FREE, sizeof(struct ioasid_free) },
	{ IOASID_SET_QUOTA, sizeof(struct ioasid_set_quota) },
	{ IOASID_FIND, sizeof(struct ioasid_find) },
	{ IOASID_BIND, sizeof(struct ioasid_bind) },
	{ IOASID_UNBIND, sizeof(struct ioasid_bind) },
	{ IOASID_MOCK_SVA_BIND, sizeof(__u32) },
	{ IOASID_MOCK_SVA_UNBIND, 0 },
};

#define NR_KNOWN ARRAY_SIZE(known)

/* What the uAPI documents; anything else is a finding. */
static bool documented(int err)
{
	switch (err) {
	case 0: case EFAULT: case E2BIG: case EOPNOTSUPP: case EINVAL:
	case ENOTTY: case EDQUOT: case ENOSPC: case EEXIST: case ENOENT:
	case EBADF: case ENODEV: case EOVERFLOW: case EBUSY: case ENOMEM:
	/* SET_QUOTA raising a quota; SET_CGROUP; a fatal signal in ALLOC. */
	case EPERM: case EACCES: case EINTR:
		return true;
	}
	return false;
}

struct files {
	int ioasid[NR_FDS];
	int dev[2];
	int null;
};

static int any_fd(struct files *f)
{
	switch (rnd() % 16) {
	case 0:
		return f->dev[0];
	case 1:
		return f->dev[1];
	case 2:
		return f->null;
	case 3:
		return rnd() % 2 ? -1 : 1000;	/* not open */
	default:
		return f->ioasid[rnd() % NR_FDS];
	}
}

/* Fill a struct: a plausible header, then random fields and pointers. */
static void *any_struct(unsigned int size, unsigned int *len)
{
	static const int delta[] = { 0, 0, 0, 0, 0, 0, 0, 0, -4, 4, 8, -8 };
	unsigned int i, n;
	__u32 *w;
	char *at;

	switch (rnd() % 8) {
	case 0:
		n = rnd() % 64;
		break;
	case 1:
		n = 4096 + 8;	/* bigger than a page, non-zero tail */
		break;
	default:
		n = size + delta[rnd() % ARRAY_SIZE(delta)];
		break;
	}
	if ((int)n < 8)
		n = 8;
	/* Sometimes right against the unmapped page, header still mapped. */
	i = n - rnd() % n;
	at = rnd() % 8 ? buf + BUF_SIZE / 2 : buf + BUF_SIZE - (i < 8 ? 8 : i);
	w = (__u32 *)at;
	memset(at, rnd() % 4 ? 0 : 0xff, buf + BUF_SIZE - at < n ?
	       buf + BUF_SIZE - at : n);
	for (i = 2; (i + 1) * 4 <= n && at + (i + 1) * 4 <= buf + BUF_SIZE; i++)
		w[i] = any_u32();
	w[0] = rnd() % 8 ? n : any_u32();
	w[1] = rnd() % 4 ? 0 : (rnd() % 2 ? 1 << (rnd() % 32) : any_u32());
	/* The ID array of ALLOC and FREE sits at offset 24. */
	if (size >= 32 && n >= 32 && at + 32 <= buf + BUF_SIZE)
		*(__u64 *)(at + 24) = any_pointer();
	*len = n;
	return at;
}

static unsigned long results[256];
/* Successes of each known ioctl, and of cgroup file writes. */
static unsigned long known_ok[ARRAY_SIZE(known)], writes_ok;

/* The least successes of each known ioctl in 100,000 inputs (scaled). */
#define KNOWN_FLOOR	3

/* Mostly a command the file takes, with a struct of about its size. */
/*
 * Now and then, a FREE, FIND, BIND or UNBIND that passes the argument
 * checks: one hot ID, valid flags, a mock device's file. Random structs
 * almost never do, and then the paths behind the checks go unfuzzed.
 */
static __u32 one_id, one_spid;
static struct ioasid_bind last_bind;

static bool well_formed(struct files *f, unsigned long cmd, void *arg,
			unsigned int len)
{
	__u32 id = hot[rnd() % (nr_hot < NR_HOT ? nr_hot : NR_HOT)];

	/* any_struct() may end it at the unmapped page: keep what is left. */
	if ((char *)arg + len > buf + BUF_SIZE)
		len = buf + BUF_SIZE - (char *)arg;
	if (cmd == IOASID_ALLOC && len >= sizeof(struct ioasid_alloc)) {
		struct ioasid_alloc *c = arg;

		one_spid = rnd() % 64;
		*c = (struct ioasid_alloc){ .size = sizeof(*c), .count = 1,
			.flags = IOASID_ALLOC_SPID, .spid = one_spid,
			.max = ~0U, .ids = (uintptr_t)&one_id };
	} else if (cmd == IOASID_FREE && len >= sizeof(struct ioasid_free)) {
		struct ioasid_free *c = arg;

		one_id = id;
		*c = (struct ioasid_free){ .size = sizeof(*c), .count = 1,
					   .ids = (uintptr_t)&one_id };
	} else if (cmd == IOASID_FIND && len >= sizeof(struct ioasid_find)) {
		struct ioasid_find *c = arg;

		*c = (struct ioasid_find){ .size = sizeof(*c), .id = id,
			.spid = id, .flags = rnd() % 2 ? IOASID_FIND_BY_ID :
							 IOASID_FIND_BY_SPID };
	} else if ((cmd == IOASID_BIND || cmd == IOASID_UNBIND) &&
		   len >= sizeof(struct ioasid_bind)) {
		struct ioasid_bind *c = arg;

		*c = (struct ioasid_bind){ .size = sizeof(*c), .id = id,
					   .dev_fd = f->dev[rnd() % 2] };
		/* Unbind, mostly, what the last bind programmed. */
		if (cmd == IOASID_UNBIND && last_bind.dev_fd && rnd() % 2)
			*c = last_bind;
		else if (cmd == IOASID_BIND)
			last_bind = *c;
	} else {
		return false;
	}
	return true;
}

static void fuzz_ioctl(struct files *f)
{
	unsigned long cmd, arg;
	unsigned int i, len;
	int fd = any_fd(f), ret;
	bool wf = false;

	if (rnd() % 8) {
		if (fd == f->dev[0] || fd == f->dev[1])
			i = NR_KNOWN - 2 + rnd() % 2;
		else
			i = rnd() % (NR_KNOWN - 2);
		if (rnd() % 16 == 0)
			i = rnd() % NR_KNOWN;
		cmd = known[i].cmd;
		arg = (unsigned long)any_struct(known[i].size ?: 8, &len);
		if (nr_hot && rnd() % 4 == 0)
			wf = well_formed(f, cmd, (void *)arg, len);
	} else {
		/* Any direction, size and number; our type or another. */
		cmd = _IOC(rnd() % 4, rnd() % 4 ? IOASID_TYPE : rnd() % 256,
			   rnd() % 4 ? 0x38 + rnd() % 48 : rnd() % 256,
			   rnd() % 4 ? 0 : rnd() % 64);
		arg = (unsigned long)any_struct(8 + rnd() % 32, &len);
	}
	if (rnd() % 16 == 0) {
		arg = any_pointer();
		wf = false;
	}
	ret = ioctl(fd, cmd, arg) ? errno : 0;
	results[ret & 255]++;
	if (!ret && wf && cmd == IOASID_ALLOC) {
		add_hot(one_id);
		add_hot(one_spid);
	}
	/* Half the binds that took are undone at once: UNBIND's success. */
	if (!ret && wf && cmd == IOASID_BIND && rnd() % 2) {
		cmd = IOASID_UNBIND;
		ret = ioctl(fd, cmd, &last_bind) ? errno : 0;
		results[ret & 255]++;
	}
	/* Remember what a successful ALLOC handed out (struct ioasid_alloc). */
	if (!ret && cmd == IOASID_ALLOC && arg >= (unsigned long)buf &&
	    arg + 32 <= (unsigned long)buf + BUF_SIZE) {
		struct ioasid_alloc *a = (void *)arg;
		__u32 *ids = (__u32 *)(unsigned long)a->ids;

		for (i = 0; i < a->count && i < 4; i++)
			if ((char *)&ids[i] >= buf &&
			    (char *)&ids[i + 1] <= buf + BUF_SIZE)
				add_hot(ids[i]);
	}
	for (i = 0; !ret && i < NR_KNOWN; i++)
		if (known[i].cmd == cmd)
			known_ok[i]++;
	if (!documented(ret))
		fail("ioctl(%d, %#lx): errno %d (%s) is not documented", fd,
		     cmd, ret, strerror(ret));
}

static const char * const cg_files[] = {
	"ioasids.max", "ioasids.current", "ioasids.peak", "ioasids.events",
	"ioasids.events.local", "ioasids.stat", "ioasids.capacity",
};

static void fuzz_write(void)
{
	static const char * const words[] = {
		"max", "max\n", "0", "1", "7\n", "-1", " 5", "5 ", "0x10", "1e3",
		"18446744073709551615", "18446744073709551616", "9223372036854775808",
		"max max", "reset", "", "\n", "m", "maxx", "4096",
	};
	const char *file = cg_files[rnd() % (sizeof(cg_files) /
					     sizeof(cg_files[0]))];
	const char *cg = rnd() % 4 ? FUZZ_CG : CGROOT;
	char path[PATH_MAX], data[4200], back[64];
	size_t len, i;
	int fd;

	if (rnd() % 2) {
		len = strlen(words[i = rnd() % ARRAY_SIZE(words)]);
		memcpy(data, words[i], len + 1);
		if (rnd() % 8 == 0)
			len++;			/* with its NUL */
	} else {
		len = rnd() % 3 ? rnd() % 24 : rnd() % sizeof(data);
		for (i = 0; i < len; i++)
			data[i] = rnd() % 2 ? "0123456789max\n -+"[rnd() % 17] :
					      (char)rnd();
	}
	snprintf(path, sizeof(path), "%s/%s", cg, file);
	fd = open(path, O_WRONLY);
	if (fd >= 0) {
		if (write(fd, data, len) >= 0)
			writes_ok++;
		else if (!documented(errno) && errno != EACCES)
			fail("write %s: errno %d", path, errno);
		close(fd);
	}
	/* Whatever was written, the limit reads back as one. */
	snprintf(path, sizeof(path), "%s/ioasids.max", FUZZ_CG);
	fd = open(path, O_RDONLY);
	len = fd >= 0 ? read(fd, back, sizeof(back) - 1) : 0;
	if (fd >= 0)
		close(fd);
	back[len > 0 && len < sizeof(back) ? len : 0] = '\0';
	if (strcmp(back, "max\n") &&
	    (back[0] < '0' || back[0] > '9' || back[strspn(back, "0123456789")] != '\n'))
		fail("ioasids.max reads \"%s\"", back);
	/* Keep the limit low: no fuzzed count may take the namespace. */
	cg_write(FUZZ_CG, "ioasids.max", "4096");
}

static int fuzz(unsigned long inputs)
{
	struct timespec t0, t1;
	struct files f;
	unsigned long n, writes = 0;
	int i;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (cg_enter(FUZZ_CG))
		return 2;
	for (i = 0; i < NR_FDS; i++)
		f.ioasid[i] = open("/dev/ioasid", O_RDWR);
	f.dev[0] = open("/dev/ioasid_mock0", O_RDWR);
	f.dev[1] = open("/dev/ioasid_mock1", O_RDWR);
	f.null = open("/dev/null", O_RDWR);
	/* Fuzzing closed files would only ever get EBADF. */
	for (i = 0; i < NR_FDS; i++)
		if (f.ioasid[i] < 0)
			fail("open /dev/ioasid: %s", strerror(errno));
	if (f.dev[0] < 0 || f.dev[1] < 0 || f.null < 0)
		fail("open the mock devices or /dev/null: %s", strerror(errno));
	if (errors)
		return 1;
	for (i = 0; i < 8; i++)
		add_hot(f.dev[i % 2]);

	for (n = 0; n < inputs; n++) {
		if (rnd() % 32 == 0) {
			fuzz_write();
			writes++;
			continue;
		}
		/* Now and then, a file goes with all it holds. */
		if (rnd() % 128 == 0) {
			i = rnd() % NR_FDS;
			close(f.ioasid[i]);
			f.ioasid[i] = open("/dev/ioasid", O_RDWR);
			if (f.ioasid[i] < 0) {
				fail("reopen /dev/ioasid: %s", strerror(errno));
				return 1;
			}
		}
		fuzz_ioctl(&f);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%s: %lu inputs in %ld s: %lu ioctls, %lu cgroup file writes\n",
	       __func__, inputs, (long)(t1.tv_sec - t0.tv_sec), inputs - writes,
	       writes);
	printf("%s: ioctl results:", __func__);
	for (i = 0; i < 256; i++)
		if (results[i])
			printf(" %s %lu", i ? strerror(i) : "ok", results[i]);
	printf("\n");
	printf("%s: successes:", __func__);
	for (i = 0; i < (int)NR_KNOWN; i++)
		printf(" %#lx %lu", known[i].cmd, known_ok[i]);
	printf(", cgroup writes %lu\n", writes_ok);
	/* It reached the code: each ioctl did its work now and then. */
	for (i = 0; i < (int)NR_KNOWN; i++)
		if (known_ok[i] < (KNOWN_FLOOR * inputs / 100000 ?: 1))
			fail("ioctl %#lx succeeded %lu times in %lu inputs: too few",
			     known[i].cmd, known_ok[i], inputs);
	if (!writes_ok)
		fail("no cgroup file write succeeded");
	return errors ? 1 : 0;
}

int main(int argc, char **argv)
{
	unsigned long inputs = argc > 1 ? strtoul(argv[1], NULL, 0) : 100000;
	char sets_base[4096], sets[4096];
	long root_base, cur;
	unsigned long seed;
	int status = 0;
	pid_t pid;

	seed = getenv("IOASIDS_SEED") ? strtoul(getenv("IOASIDS_SEED"), NULL, 0)
				      : (unsigned long)time(NULL);
	rng = seed;
	if (access("/dev/ioasid", R_OK | W_OK) || mock_entries(0) < 0) {
		printf("fuzz: needs /dev/ioasid and the mock hardware\n");
		return 4;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("fuzz: %lu inputs, IOASIDS_SEED=%lu\n", inputs, rng);
	rng = rng * 2654435761UL + 1;

	page = sysconf(_SC_PAGESIZE);
	buf = mmap(NULL, BUF_SIZE + 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return 1;
	mprotect(buf + BUF_SIZE, page, PROT_NONE);
	unmapped = buf + BUF_SIZE + page;
	munmap(unmapped, page);

	root_base = cg_current(CGROOT);
	read_sets(sets_base, sizeof(sets_base));
	cg_write(CGROOT, "cgroup.subtree_control", "+ioasids");
	mkdir(FUZZ_CG, 0755);
	cg_write(FUZZ_CG, "ioasids.max", "4096");

	pid = fork();
	if (pid == 0)
		_exit(fuzz(inputs));
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
		printf("fuzz: the fuzzing child died (status %#x); replay with IOASIDS_SEED=%lu\n",
		       status, seed);
		return 1;
	}
	errors = WEXITSTATUS(status) ? 1 : 0;

	/* It has exited: nothing may be left. */
	cur = wait_current(CGROOT, root_base);
	if (cur != root_base)
		fail("root current %ld, was %ld", cur, root_base);
	cur = cg_current(FUZZ_CG);
	if (cur)
		fail("current %ld left in the fuzzed cgroup", cur);
	if (!sets_settle(sets_base, sets, sizeof(sets)))
		fail("sets left:\n%s\nbefore:\n%s", sets, sets_base);
	if (!mocks_settle())
		fail("mock tables: %d and %d entries left", mock_entries(0),
		     mock_entries(1));
	if (rmdir(FUZZ_CG))
		fail("rmdir %s: %s", FUZZ_CG, strerror(errno));
	printf("fuzz: %lu errors\n", errors);
	if (errors)
		printf("fuzz: FAILED; replay with IOASIDS_SEED=%lu\n", seed);
	return errors ? 1 : 0;
}

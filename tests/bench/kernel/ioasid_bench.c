// SPDX-License-Identifier: GPL-2.0
/*
 * In-kernel benchmark for make bench (never upstream): the ioasids
 * controller's charge against the misc controller's, and the IOASID core's
 * alloc+free against a plain IDA, each in a tight loop in the writing task.
 *
 * Write "<test> <iterations>" to debugfs ioasid_bench/run, read back the
 * nanoseconds per operation. Tests:
 *   charge  ioasids_cg_try_charge() + ioasids_cg_uncharge() of 1, in the
 *           writer's ioasids cgroup
 *   misc    misc_cg_try_charge() + misc_cg_uncharge() of 1, in the writer's
 *           misc cgroup (resource "bench")
 *   ioasid  ioasid_alloc() + ioasid_free() in a set of the writer's
 *   ida     ida_alloc_range() + ida_free() over the same range
 *   ida_misc  what a maintainer would use instead of the core: a misc
 *           charge of 1 (resource "bench"), ida_alloc_range(), then
 *           ida_free() and the misc uncharge, in the writer's misc cgroup
 *   xa      xa_alloc() + xa_erase() on an allocating xarray, the same range
 *   fill    allocate <iterations> IDs and keep them (for scaling); "fill 0"
 *           gives them back
 *   ioasid_shared  ioasid_alloc() + ioasid_free() in one set that every
 *           writer of this test shares (made by the first)
 *   mm_lookup <others> <iterations>
 *           ioasid_set_find_mm() + ioasid_set_put() of one mm's set with
 *           <others> other mm sets in the core, each made by
 *           ioasid_mm_alloc() with a fake mm (a kmalloc'ed cookie); only
 *           the lookups are timed, and each must return the right set
 *   atomic_add  atomic64_add_return() of 1, then of -1, on one word: what
 *           misc pays per level to charge and uncharge
 *   atomic_cmpxchg  the same two changes each as a read and an
 *           atomic64_try_cmpxchg(): what a charge that must refuse without
 *           touching the word, or fold a mark, pays per level
 *   barrier <n>  the next <n> writers of "<test> <iterations> 1" (ioasid,
 *           ioasid_shared, ida, ida_misc) wait for each other and start
 *           together, each on its own open file
 *
 * Each open file reads back the result of its own last write. ioasid,
 * ioasid_shared, ida and ida_misc run without the module's lock, so that
 * two writers on two vCPUs contend as two callers of them would; the
 * others hold it.
 */
#include <linux/debugfs.h>
#include <linux/idr.h>
#include <linux/init.h>
#include <linux/ioasid.h>
#include <linux/ioasids_cgroup.h>
#include <linux/ktime.h>
#include <linux/misc_cgroup.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>

#include "ioasid_internal.h"

static DEFINE_MUTEX(bench_lock);
static DEFINE_IDA(bench_ida);
static DEFINE_XARRAY_ALLOC(bench_xa);
static int bench_cookie;	/* a non-NULL pointer to store */
static struct ioasid_set *fill_set, *shared_set;
static int shared_token;

/* The start barrier of concurrent runs. */
static atomic_long_t barrier_arrived, barrier_want;
static DECLARE_WAIT_QUEUE_HEAD(barrier_wq);
/* How long a writer waits at it for the others: then -ETIMEDOUT. */
#define BARRIER_WAIT	(30 * HZ)

/* A test that times only part of its work stores the ns here, or 0. */
static u64 bench_timed_ns;

static int bench_charge(unsigned long n)
{
	struct ioasids_cgroup *cg = ioasids_cg_get_current();
	int ret = 0;

	while (n-- && !ret) {
		ret = ioasids_cg_try_charge(cg, IOASIDS_FD, 1);
		if (!ret)
			ioasids_cg_uncharge(cg, IOASIDS_FD, 1);
	}
	ioasids_cg_put(cg);
	return ret;
}

static int bench_misc(unsigned long n)
{
	struct misc_cg *cg = get_current_misc_cg();
	int ret = 0;

	while (n-- && !ret) {
		ret = misc_cg_try_charge(MISC_CG_RES_BENCH, cg, 1);
		if (!ret)
			misc_cg_uncharge(MISC_CG_RES_BENCH, cg, 1);
	}
	put_misc_cg(cg);
	return ret;
}

static int bench_ioasid(unsigned long n)
{
	struct ioasid_set *set;
	int token;		/* one set per writer, as one per open file */
	ioasid_t id;
	int ret = 0;

	set = ioasid_set_alloc(IOASID_SET_TYPE_FD, &token, 0);
	if (IS_ERR(set))
		return PTR_ERR(set);
	while (n-- && !ret) {
		ret = ioasid_alloc(set, 0, ~0U, IOMMU_PASID_INVALID, &id);
		if (!ret)
			ret = ioasid_free(set, id);
	}
	ioasid_set_free(set);
	return ret;
}

/* ioasid_alloc() + ioasid_free() in the one set all its writers share. */
static int bench_ioasid_shared(unsigned long n)
{
	ioasid_t id;
	int ret = 0;

	mutex_lock(&bench_lock);
	if (!shared_set) {
		shared_set = ioasid_set_alloc(IOASID_SET_TYPE_FD, &shared_token, 0);
		if (IS_ERR(shared_set)) {
			ret = PTR_ERR(shared_set);
			shared_set = NULL;
		}
	}
	mutex_unlock(&bench_lock);
	while (n-- && !ret) {
		ret = ioasid_alloc(shared_set, 0, ~0U, IOMMU_PASID_INVALID, &id);
		if (!ret)
			ret = ioasid_free(shared_set, id);
	}
	return ret;
}

static int bench_ida_run(unsigned long n)
{
	u32 max = ioasid_max_pasids() - 1;
	int id;

	while (n--) {
		id = ida_alloc_range(&bench_ida, 1, max, GFP_KERNEL);
		if (id < 0)
			return id;
		ida_free(&bench_ida, id);
	}
	return 0;
}

/* 6.12's iommu_alloc_global_pasid() (an IDA) with a misc charge around it. */
static int bench_ida_misc_run(unsigned long n)
{
	struct misc_cg *cg = get_current_misc_cg();
	u32 max = ioasid_max_pasids() - 1;
	int id, ret = 0;

	while (n-- && !ret) {
		ret = misc_cg_try_charge(MISC_CG_RES_BENCH, cg, 1);
		if (ret)
			break;
		id = ida_alloc_range(&bench_ida, 1, max, GFP_KERNEL);
		if (id < 0)
			ret = id;
		else
			ida_free(&bench_ida, id);
		misc_cg_uncharge(MISC_CG_RES_BENCH, cg, 1);
	}
	put_misc_cg(cg);
	return ret;
}

static atomic64_t bench_word;

static int bench_atomic_add(unsigned long n)
{
	while (n--) {
		atomic64_add_return(1, &bench_word);
		atomic64_add_return(-1, &bench_word);
	}
	return 0;
}

static int bench_atomic_cmpxchg(unsigned long n)
{
	s64 old;

	while (n--) {
		old = atomic64_read(&bench_word);
		while (!atomic64_try_cmpxchg(&bench_word, &old, old + 1))
			;
		old = atomic64_read(&bench_word);
		while (!atomic64_try_cmpxchg(&bench_word, &old, old - 1))
			;
	}
	return 0;
}

/* The allocating xarray alone, as the core uses it for the namespace. */
static int bench_xa_run(unsigned long n)
{
	u32 id;
	int ret;

	while (n--) {
		ret = xa_alloc(&bench_xa, &id, &bench_cookie,
			       XA_LIMIT(1, ioasid_max_pasids() - 1),
			       GFP_KERNEL_ACCOUNT);
		if (ret)
			return ret;
		xa_erase(&bench_xa, id);
	}
	return 0;
}

static int bench_fill(unsigned long n)
{
	ioasid_t *ids;
	int ret;

	if (fill_set) {
		ioasid_set_free(fill_set);
		fill_set = NULL;
	}
	if (!n)
		return 0;
	fill_set = ioasid_set_alloc(IOASID_SET_TYPE_FD, &fill_set, 0);
	if (IS_ERR(fill_set)) {
		ret = PTR_ERR(fill_set);
		fill_set = NULL;
		return ret;
	}
	ids = kvmalloc_array(n, sizeof(*ids), GFP_KERNEL);
	if (!ids)
		return -ENOMEM;
	ret = ioasid_alloc_reserve(fill_set, 0, ~0U, n, IOMMU_PASID_INVALID,
				   ids);
	if (!ret)
		ioasid_alloc_finalize(fill_set, ids, n);
	kvfree(ids);
	return ret;
}

/*
 * Fake mms: the core only compares an mm set's token with the mm it is
 * asked about, so a distinct kmalloc'ed pointer per set stands in for one.
 */
struct bench_mm {
	struct mm_struct *mm;
	ioasid_t pasid;
};

static void bench_mm_drop(struct bench_mm *mms, unsigned long n)
{
	while (n--) {
		ioasid_mm_drop(mms[n].mm, mms[n].pasid);
		kfree(mms[n].mm);
		if (!(n % 1024))
			cond_resched();
	}
	ioasid_flush_mm_drops();
}

static bool bench_mm_found(struct mm_struct *mm, ioasid_t pasid)
{
	struct ioasid_set *set = ioasid_set_find_mm(mm, pasid);

	if (set)
		ioasid_set_put(set);
	return set;
}

static int bench_mm_lookup(unsigned long others, unsigned long n)
{
	u32 max = ioasid_max_pasids() - 1;
	struct ioasid_set *want, *set;
	struct ioasid_set_info info;
	struct bench_mm *mms;
	unsigned long i, made = 0;
	u64 start;
	int ret = 0;

	if (!n)
		return -EINVAL;
	/* The others, then the mm looked up: the last one, mms[others]. */
	mms = kvcalloc(others + 1, sizeof(*mms), GFP_KERNEL);
	if (!mms)
		return -ENOMEM;
	for (made = 0; made <= others; made++) {
		mms[made].mm = kmalloc(sizeof(long), GFP_KERNEL);
		if (!mms[made].mm) {
			ret = -ENOMEM;
			break;
		}
		ret = ioasid_mm_alloc(mms[made].mm, max, &mms[made].pasid);
		if (ret) {
			kfree(mms[made].mm);
			break;
		}
		if (!(made % 1024))
			cond_resched();
	}
	if (ret)
		goto out;

	/* Every set is found by its own mm and PASID, and only by them. */
	want = ioasid_set_find_mm(mms[others].mm, mms[others].pasid);
	if (!want) {
		ret = -ENOENT;
		goto out;
	}
	ioasid_set_get_info(want, &info);
	if (info.type != IOASID_SET_TYPE_MM || info.count != 1)
		ret = -EIO;
	for (i = 0; i < others && !ret; i++) {
		set = ioasid_set_find_mm(mms[i].mm, mms[i].pasid);
		if (!set || set == want)
			ret = -EIO;
		if (set)
			ioasid_set_put(set);
		if (bench_mm_found(mms[i].mm, mms[others].pasid) ||
		    bench_mm_found(mms[others].mm, mms[i].pasid))
			ret = -EIO;
	}
	if (ret) {
		ioasid_set_put(want);
		goto out;
	}

	start = ktime_get_ns();
	for (i = 0; i < n; i++) {
		set = ioasid_set_find_mm(mms[others].mm, mms[others].pasid);
		if (unlikely(set != want)) {
			ret = -EIO;
			if (set)
				ioasid_set_put(set);
			break;
		}
		ioasid_set_put(set);
	}
	bench_timed_ns = ktime_get_ns() - start;
	ioasid_set_put(want);
out:
	bench_mm_drop(mms, made);
	kvfree(mms);
	return ret;
}

/*
 * Wait until every writer the last "barrier <n>" asked for is here, at
 * most BARRIER_WAIT: a writer that never comes (its process failed) gives
 * the others -ETIMEDOUT, not a hung guest. One that gives up leaves.
 */
static int bench_barrier_wait(void)
{
	long left;

	if (atomic_long_inc_return(&barrier_arrived) >= atomic_long_read(&barrier_want)) {
		wake_up_all(&barrier_wq);
		return 0;
	}
	left = wait_event_interruptible_timeout(barrier_wq,
						atomic_long_read(&barrier_arrived) >=
						atomic_long_read(&barrier_want),
						BARRIER_WAIT);
	if (left > 0)
		return 0;
	atomic_long_dec(&barrier_arrived);
	return left ? -EINTR : -ETIMEDOUT;
}

/*
 * The tests that run without bench_lock, side by side: their result, or
 * BENCH_LOCKED when @name is not one of them.
 */
#define BENCH_LOCKED	1
static int bench_concurrent(const char *name, unsigned long n, unsigned long sync,
			    u64 *ns)
{
	int (*test)(unsigned long n);
	u64 start;
	int ret;

	if (!strcmp(name, "ioasid"))
		test = bench_ioasid;
	else if (!strcmp(name, "ioasid_shared"))
		test = bench_ioasid_shared;
	else if (!strcmp(name, "ida"))
		test = bench_ida_run;
	else if (!strcmp(name, "ida_misc"))
		test = bench_ida_misc_run;
	else
		return BENCH_LOCKED;
	if (sync) {
		ret = bench_barrier_wait();
		if (ret)
			return ret;
	}
	start = ktime_get_ns();
	ret = test(n);
	*ns = n ? (ktime_get_ns() - start) / n : 0;
	return ret;
}

static ssize_t bench_write(struct file *file, const char __user *ubuf,
			   size_t len, loff_t *ppos)
{
	u64 *result = file->private_data;
	char buf[48], name[16];
	unsigned long n, n2 = 0;
	u64 start;
	int ret;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	if (sscanf(buf, "%15s %lu %lu", name, &n, &n2) < 2)
		return -EINVAL;

	ret = bench_concurrent(name, n, n2, result);
	if (ret != BENCH_LOCKED)
		return ret ? ret : len;

	mutex_lock(&bench_lock);
	bench_timed_ns = 0;
	start = ktime_get_ns();
	if (!strcmp(name, "charge"))
		ret = bench_charge(n);
	else if (!strcmp(name, "misc"))
		ret = bench_misc(n);
	else if (!strcmp(name, "xa"))
		ret = bench_xa_run(n);
	else if (!strcmp(name, "atomic_add"))
		ret = bench_atomic_add(n);
	else if (!strcmp(name, "atomic_cmpxchg"))
		ret = bench_atomic_cmpxchg(n);
	else if (!strcmp(name, "fill"))
		ret = bench_fill(n);
	else if (!strcmp(name, "mm_lookup"))
		ret = bench_mm_lookup(n, n2);
	else if (!strcmp(name, "barrier"))
		ret = n ? 0 : -EINVAL;
	else
		ret = -EINVAL;
	if (!ret && !strcmp(name, "barrier")) {
		atomic_long_set(&barrier_arrived, 0);
		atomic_long_set(&barrier_want, n);
	}
	if (bench_timed_ns)	/* "<test> <others> <iterations>" */
		*result = n2 ? bench_timed_ns / n2 : 0;
	else
		*result = n ? (ktime_get_ns() - start) / n : 0;
	mutex_unlock(&bench_lock);
	return ret ? ret : len;
}

static int bench_open(struct inode *inode, struct file *file)
{
	file->private_data = kzalloc(sizeof(u64), GFP_KERNEL);
	return file->private_data ? 0 : -ENOMEM;
}

static int bench_release(struct inode *inode, struct file *file)
{
	kfree(file->private_data);
	return 0;
}

static ssize_t bench_read(struct file *file, char __user *ubuf, size_t len,
			  loff_t *ppos)
{
	u64 *result = file->private_data;
	char buf[32];
	int n = scnprintf(buf, sizeof(buf), "%llu\n", READ_ONCE(*result));

	return simple_read_from_buffer(ubuf, len, ppos, buf, n);
}

static const struct file_operations bench_fops = {
	.open = bench_open,
	.release = bench_release,
	.write = bench_write,
	.read = bench_read,
};

static int __init ioasid_bench_init(void)
{
	misc_cg_set_capacity(MISC_CG_RES_BENCH, 1U << 20);
	debugfs_create_file("run", 0600, debugfs_create_dir("ioasid_bench", NULL),
			    NULL, &bench_fops);
	return 0;
}
late_initcall(ioasid_bench_init);

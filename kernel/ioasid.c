// SPDX-License-Identifier: GPL-2.0
/*
 * IOASID core: the system-wide PCIe PASID namespace.
 *
 * Every PASID handed out on this system comes from here, whoever asks: the
 * kernel's own users through iommu_alloc_global_pasid(), a process's SVA
 * binding through its mm's set, user space through /dev/ioasid. Each ID
 * belongs to a set, and each set charges the ioasids cgroup that was current
 * when the set was created (or that its owner named since), for every ID,
 * before anyone but the allocator sees the ID. The ID is uncharged to that
 * same cgroup when it is finally released.
 *
 * An allocation is reserved, then finalized or aborted, as iommufd does with
 * its objects: until it is finalized, its IDs are in the namespace but
 * invisible to every lookup, so a second thread on the same set never sees
 * half of one. Everything the set can check is checked before the cgroup
 * is charged, and the charge is made for IDs in hand, so a refused request
 * leaves no trace but the event that counts it.
 *
 * Storage: one allocating xarray over the namespace is both the allocator
 * and the owner map. Its entry for an ID names the owning set, tagged with
 * the ID's state, so one store hands out an ID and records its owner
 * (about 9 bytes per live ID, dense); an ID that needs more than an owner
 * (a private ID, a bond to a device) has a struct ioasid_data instead,
 * made under the lock when first needed and dropped when no longer. Each
 * set keeps its own index of its IDs, a bit per ID in an xarray of words,
 * so that destroying a set walks its own IDs and not the namespace. An
 * allocation or a free takes the namespace's lock once per batch (yielding
 * every IOASID_RESCHED_EVERY IDs) and charges or uncharges the cgroup once.
 *
 * Freeing an ID clears it from every device's PASID table it is in (the
 * device's driver first) and drops the owner's reference; the ID goes back
 * to the pool, and is uncharged, only when the last reference goes, so it
 * is never handed out again while hardware may still use it.
 */
#define pr_fmt(fmt) "ioasid: " fmt

#include <kunit/visibility.h>
#include <linux/cgroup.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/init.h>
#include <linux/ioasid.h>
#include <linux/ioasids_cgroup.h>
#include <linux/list.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/nsproxy.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#define CREATE_TRACE_POINTS
#include <trace/events/ioasid.h>

#include "ioasid_internal.h"

/* PASID 0 is IOMMU_NO_PASID: DMA without a PASID. */
#define IOASID_MIN		IOMMU_FIRST_GLOBAL_PASID
#define IOASID_MAX_PASIDS	IOASIDS_MAX_CAPACITY

/*
 * set->nr while ioasid_set_set_cgroup() changes the set's cgroup: no
 * allocation may start, so that every charge and uncharge of an ID goes to
 * one cgroup.
 */
#define IOASID_NR_FROZEN	BIT(30)

/**
 * struct ioasid_set - a group of IDs with one owner and one cgroup
 * @id: the set's number for fdinfo and tracepoints, unique since boot
 * @type: the &enum ioasid_set_type
 * @token: the mm for %IOASID_SET_TYPE_MM, the owner's cookie otherwise
 * @cg: the ioasids cgroup charged for every ID; changes only while @nr is
 *	0 (ioasid_set_set_cgroup()), so it is stable for whoever holds an ID
 * @lock: serialises changes to @cg, @quota, @dead and @spids; held by a
 *	FREE of more than %IOASID_RESCHED_EVERY while it claims, and by
 *	ioasid_alloc_finalize() while it makes such a batch visible
 * @quota: the set's own quota, 0 for none; only lowered
 * @nr: IDs charged to the set or being allocated, ones a FREE under way
 *	holds included; %IOASID_NR_FROZEN while @cg changes
 * @dead: the owner destroyed the set; no more allocations
 * @finalizing: a batch of more than %IOASID_RESCHED_EVERY is being made
 *	visible, under @lock: lookups wait for it (ioasid_wait_visible())
 * @cg_named: ioasid_set_set_cgroup() named @cg; it cannot name another
 * @ids: the set's index: ID / %IOASID_CHUNK -> a value entry with a bit
 *	for each ID of that chunk the set holds or is allocating (not freed)
 * @spids: private ID -> struct ioasid_data
 * @bonds: device index -> how many of the set's IDs are in that device's
 *	PASID table (a value entry; none for 0); under ioasid_devices_lock
 * @ref: one for the owner, one per struct ioasid_data, and lookups'
 * @list: entry in ioasid_sets
 * @free_work: destroys an mm's set outside of mmdrop's context
 */
struct ioasid_set {
	u64 id;
	enum ioasid_set_type type;
	void *token;
	struct ioasids_cgroup *cg;
	struct mutex lock;	/* see @lock above */
	unsigned int quota;
	atomic_t nr;
	bool dead;
	bool finalizing;
	bool cg_named;
	struct xarray ids;
	struct xarray spids;
	struct xarray bonds;
	refcount_t ref;
	struct list_head list;
	struct work_struct free_work;
};

/* IDs per word of a set's index: a value entry holds BITS_PER_LONG - 1. */
#define IOASID_CHUNK		(BITS_PER_LONG / 2)

/*
 * The namespace: ID -> owner, for every ID taken. An entry is one of
 *  - ioasid_tag(set, IOASID_TAG_LIVE): a plain ID of @set, handed out;
 *  - ioasid_tag(set, IOASID_TAG_BUSY): a plain ID of @set that a call under
 *    way holds: an allocation not finalized yet, or a free whose
 *    teardown is not done. Invisible to every lookup;
 *  - a struct ioasid_data (untagged), in the state its @state says.
 * Changed only under its lock, which is taken after any set's @lock and
 * before any set's @ids lock; read under RCU.
 */
static DEFINE_XARRAY_FLAGS(ioasid_xa, XA_FLAGS_ALLOC | XA_FLAGS_ACCOUNT);

#define IOASID_TAG_LIVE		1
#define IOASID_TAG_BUSY		3

/*
 * A freed ID's slot holds IOASID_VACANT, marked free, rather than NULL:
 * the search for a free ID finds it by the mark all the same, and the tree's nodes are
 * not freed and allocated again as IDs come and go. The namespace's memory
 * is its high-water mark, about 9 bytes per ID, and allocating or freeing
 * an ID in it allocates nothing.
 */
#define IOASID_VACANT		xa_mk_value(0)

/*
 * An ID's life: BUSY while its allocation is under way (in the namespace,
 * but invisible to every lookup, FREE, FIND and BIND included), LIVE once
 * the allocation fully succeeded, FREED once its owner freed it while
 * references remain (bonds being torn down, a BIND under way).
 */
enum ioasid_state {
	IOASID_BUSY,
	IOASID_LIVE,
	IOASID_FREED,
};

/*
 * An ID that needs more than its owner: 40 bytes from its own cache. All
 * fields but @set and @id change under ioasid_xa's lock; @spid also under
 * the set's lock. @users counts the owner (until FREE), each bond and a
 * BIND under way; @nr_bonds the devices whose PASID table holds the ID.
 * An object that is down to its owner again becomes a plain entry.
 */
struct ioasid_data {
	struct ioasid_set *set;
	ioasid_t id;
	ioasid_t spid;
	unsigned int users;
	u8 state;
	u16 nr_bonds;
	struct rcu_head rcu;
};

static struct kmem_cache *ioasid_cache;
static struct workqueue_struct *ioasid_wq;	/* mm sets' teardown */

/* Each set's number, for fdinfo and tracepoints: never reused. */
static atomic64_t ioasid_set_seq;

/* Every set, for debugfs only: nothing on a hot path walks it. */
static LIST_HEAD(ioasid_sets);
static DEFINE_SPINLOCK(ioasid_sets_lock);

/* An mm's set, by the mm's PASID: found in O(1) however many sets exist. */
static DEFINE_XARRAY_FLAGS(ioasid_mm_sets, XA_FLAGS_ACCOUNT);

/*
 * Registered devices and their PASID tables; taken before any set's lock.
 * A tenant's call holds it for O(1) work per device or per ID it names,
 * never per ID of its set (fdinfo reads counts), so that reading its own
 * state cannot keep it from everyone else's BIND and UNBIND. A BIND's
 * allocations (a table entry, a set's first bond on a device) are made
 * under it, reclaiming from the tenant's memory cgroup if need be; a
 * device's removal holds it across the device's whole table.
 */
static LIST_HEAD(ioasid_devices);
static DEFINE_MUTEX(ioasid_devices_lock);
static DEFINE_IDA(ioasid_device_ida);

/* The namespace is [IOASID_MIN, ioasid_limit); 0 until something sets it. */
static DEFINE_SPINLOCK(ioasid_limit_lock);
static u32 ioasid_hw_max_pasids;
static u32 ioasid_limit;

static unsigned int max_pasids;
module_param(max_pasids, uint, 0444);
MODULE_PARM_DESC(max_pasids,
		 "Size of the PASID namespace: lowers what the IOMMUs support, or defines it when none registers (default: the largest IOMMU's)");

struct ioasid_set *ioasid_kernel_set;
EXPORT_SYMBOL_IF_KUNIT(ioasid_kernel_set);

/*
 * Placement: a user set's default allocations (min 0) come from
 * IOASID_USER_FLOOR up, and below it only when nothing above is free, so
 * that a tenant cannot take the low IDs that devices with 4- or 8-bit
 * PASID tables need. Only in a namespace of at least
 * IOASID_USER_FLOOR_MIN IDs; kernel and SVA allocations are lowest-first.
 */
#define IOASID_USER_FLOOR	256
#define IOASID_USER_FLOOR_MIN	1024

/* Work per call is bounded; long loops yield every so many IDs. */
#define IOASID_RESCHED_EVERY	64

/*
 * What an allocation may ask for while it holds the namespace's lock, and
 * otherwise. Every node and object a set makes the kernel allocate, in the
 * namespace's tree or its own, is charged to the memory cgroup of the task
 * that asked (the xarrays are XA_FLAGS_ACCOUNT, so xas_store()'s own
 * GFP_NOWAIT attempts are charged too), as iommufd charges its objects. A
 * request that its memory.max cannot hold fails with -ENOMEM after reclaim
 * (__GFP_RETRY_MAYFAIL), rather than OOM-killing for an ioctl.
 */
#define IOASID_GFP_LOCKED	(GFP_NOWAIT | __GFP_ACCOUNT | __GFP_NOWARN)
#define IOASID_GFP		(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL)

static enum ioasids_kind ioasid_kind(struct ioasid_set *set)
{
	switch (set->type) {
	case IOASID_SET_TYPE_MM:
		return IOASIDS_SVA;
	case IOASID_SET_TYPE_FD:
		return IOASIDS_FD;
	default:
		return IOASIDS_KERNEL;
	}
}

static void ioasid_update_limit(void)
{
	u32 limit = ioasid_hw_max_pasids;

	if (max_pasids && (!limit || max_pasids < limit))
		limit = max_pasids;
	limit = min_t(u32, limit, IOASID_MAX_PASIDS);
	WRITE_ONCE(ioasid_limit, limit);
	ioasids_cg_set_capacity(limit > IOASID_MIN ? limit - IOASID_MIN : 0);
}

/**
 * ioasid_register_max_pasids() - Tell the core how many PASIDs an IOMMU has.
 * @max_pasids: the IOMMU's PASID count (IDs 0 to @max_pasids - 1); 0 for
 *	an IOMMU without PASID support, which is ignored
 *
 * The namespace is as large as the largest count registered, at most 2^20,
 * and is reported to the ioasids controller as its capacity. A smaller
 * IOMMU takes nothing from the others: each allocation for a device is
 * bounded by that device's own PASID count (iommu_alloc_global_pasid(),
 * SVA, ioasid_bind()).
 *
 * Context: Process or atomic context, not an interrupt: it takes a plain
 * spinlock, which is also taken with interrupts on.
 */
void ioasid_register_max_pasids(u32 max_pasids)
{
	spin_lock(&ioasid_limit_lock);
	if (max_pasids > ioasid_hw_max_pasids)
		ioasid_hw_max_pasids = max_pasids;
	ioasid_update_limit();
	spin_unlock(&ioasid_limit_lock);
}
EXPORT_SYMBOL_IF_KUNIT(ioasid_register_max_pasids);

/**
 * ioasid_max_pasids() - The size of the namespace.
 *
 * Context: Any context.
 * Return: One more than the largest ID that can be allocated; 0 when no
 * IOMMU registered and no ioasid.max_pasids= was given.
 */
u32 ioasid_max_pasids(void)
{
	return READ_ONCE(ioasid_limit);
}
EXPORT_SYMBOL_IF_KUNIT(ioasid_max_pasids);

#if IS_ENABLED(CONFIG_IOASID_KUNIT_TEST)
/* Let the KUnit suite stand in for the IOMMUs and restore them after. */
u32 ioasid_test_swap_hw_max_pasids(u32 hw)
{
	u32 old;

	spin_lock(&ioasid_limit_lock);
	old = ioasid_hw_max_pasids;
	ioasid_hw_max_pasids = hw;
	ioasid_update_limit();
	spin_unlock(&ioasid_limit_lock);
	return old;
}
EXPORT_SYMBOL_IF_KUNIT(ioasid_test_swap_hw_max_pasids);
#endif

static void ioasid_set_free_work(struct work_struct *work)
{
	ioasid_set_free(container_of(work, struct ioasid_set, free_work));
}

/**
 * ioasid_set_alloc() - Create a set charged to the current task's cgroup.
 * @type: the &enum ioasid_set_type
 * @token: the mm for %IOASID_SET_TYPE_MM (required); an opaque cookie of
 *	the owner otherwise
 * @quota: the most IDs the set may hold, 0 for no quota of its own
 *
 * Every ID the set allocates is charged to the ioasids cgroup of the task
 * calling this, whatever task allocates or frees it later, unless
 * ioasid_set_set_cgroup() names another. An mm's set is made by
 * ioasid_mm_alloc(), whose caller ensures there is one per mm.
 *
 * Context: Process context.
 * Return: The set, or ERR_PTR(-EINVAL) for a bad @type or a missing mm,
 * ERR_PTR(-ENOMEM).
 */
struct ioasid_set *ioasid_set_alloc(enum ioasid_set_type type, void *token,
				    unsigned int quota)
{
	struct ioasid_set *set;

	if (type > IOASID_SET_TYPE_FD || (type == IOASID_SET_TYPE_MM && !token))
		return ERR_PTR(-EINVAL);

	set = kzalloc(sizeof(*set), IOASID_GFP);
	if (!set)
		return ERR_PTR(-ENOMEM);
	set->id = atomic64_inc_return(&ioasid_set_seq);
	set->type = type;
	set->token = token;
	set->quota = quota;
	mutex_init(&set->lock);
	xa_init_flags(&set->ids, XA_FLAGS_ACCOUNT);
	xa_init_flags(&set->spids, XA_FLAGS_ACCOUNT);
	xa_init_flags(&set->bonds, XA_FLAGS_ACCOUNT);
	refcount_set(&set->ref, 1);
	INIT_WORK(&set->free_work, ioasid_set_free_work);
	set->cg = ioasids_cg_get_current();

	spin_lock(&ioasid_sets_lock);
	list_add_tail(&set->list, &ioasid_sets);
	spin_unlock(&ioasid_sets_lock);
	ioasids_cg_set_attach(set->cg);
	return set;
}
EXPORT_SYMBOL_IF_KUNIT(ioasid_set_alloc);

/**
 * ioasid_set_put() - Drop a reference to a set.
 * @set: the set
 *
 * Context: Process context.
 */
void ioasid_set_put(struct ioasid_set *set)
{
	if (!refcount_dec_and_test(&set->ref))
		return;

	/* IDs still name it: better a leaked set than a freed one. */
	if (WARN_ON(atomic_read(&set->nr) || !xa_empty(&set->spids) ||
		    !xa_empty(&set->bonds)))
		return;
	spin_lock(&ioasid_sets_lock);
	list_del(&set->list);
	spin_unlock(&ioasid_sets_lock);
	xa_destroy(&set->ids);
	ioasids_cg_set_detach(set->cg);
	ioasids_cg_put(set->cg);
	mutex_destroy(&set->lock);
	kfree(set);
}
EXPORT_SYMBOL_IF_KUNIT(ioasid_set_put);

/**
 * ioasid_set_find_mm() - Find the set of an address space.
 * @mm: the mm
 * @pasid: the mm's PASID
 *
 * Context: Process context. O(1): one lookup by @pasid.
 * Return: The mm's set with a reference the caller drops with
 * ioasid_set_put(), or %NULL if @pasid is not @mm's live PASID.
 */
struct ioasid_set *ioasid_set_find_mm(struct mm_struct *mm, ioasid_t pasid)
{
	struct ioasid_set *set;

	xa_lock(&ioasid_mm_sets);
	set = xa_load(&ioasid_mm_sets, pasid);
	if (set && (set->token != mm || !refcount_inc_not_zero(&set->ref)))
		set = NULL;
	xa_unlock(&ioasid_mm_sets);
	return set;
}
EXPORT_SYMBOL_IF_KUNIT(ioasid_set_find_mm);

/**
 * ioasid_set_set_quota() - Lower a set's own quota.
 * @set: the set
 * @quota: the most IDs it may hold; the cgroup's ioasids.max applies
 *	whatever the quota
 *
 * A quota can only be lowered: once a set has one, a higher quota or 0
 * (none) is refused, so that whoever holds the set (a VMM given the file
 * by the manager that set the quota) cannot lift it. A quota below the
 * set's count is accepted and refuses new IDs until the count drops below
 * it.
 *
 * Context: Process context.
 * Return: 0; -EPERM to raise or remove a quota; -EINVAL for 0 on a set
 * without one.
 */
int ioasid_set_set_quota(struct ioasid_set *set, unsigned int quota)
{
	int ret = 0;

	mutex_lock(&set->lock);
	if (!quota && !set->quota)
		ret = -EINVAL;
	else if (!quota || (set->quota && quota > set->quota))
		ret = -EPERM;
	else
		WRITE_ONCE(set->quota, quota);
	mutex_unlock(&set->lock);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(ioasid_set_set_quota);

/**
 * ioasid_set_set_cgroup() - Charge a set's IDs to another cgroup.
 * @set: the set
 * @cg: the ioasids cgroup to charge from now on; the set takes over the
 *	caller's reference on success
 *
 * For a manager that opens /dev/ioasid and hands the file to a VMM in
 * another cgroup. The caller checks that it may name @cg. Once only: the
 * manager's choice holds whoever gets the set afterwards.
 *
 * Context: Process context.
 * Return: 0; -EBUSY if the set holds or is allocating IDs; -EPERM if a
 * cgroup was named already.
 */
int ioasid_set_set_cgroup(struct ioasid_set *set, struct ioasids_cgroup *cg)
{
	struct ioasids_cgroup *old;
	int frozen = IOASID_NR_FROZEN;

	mutex_lock(&set->lock);
	if (set->cg_named) {
		mutex_unlock(&set->lock);
		return -EPERM;
	}
	/*
	 * No ID, and none can be allocated until we are done. (Not a
	 * constant there: sparse would warn in arm64's cmpxchg, whose 8- and
	 * 16-bit cases, never taken, truncate it.)
	 */
	OPTIMIZER_HIDE_VAR(frozen);
	if (atomic_cmpxchg(&set->nr, 0, frozen)) {
		mutex_unlock(&set->lock);
		return -EBUSY;
	}
	set->cg_named = true;
	old = set->cg;
	ioasids_cg_set_attach(cg);
	/* debugfs reads it under ioasid_sets_lock. */
	spin_lock(&ioasid_sets_lock);
	WRITE_ONCE(set->cg, cg);	/* tracepoints read it under RCU */
	spin_unlock(&ioasid_sets_lock);
	atomic_set_release(&set->nr, 0);
	mutex_unlock(&set->lock);

	ioasids_cg_set_detach(old);
	ioasids_cg_put(old);
	return 0;
}

/**
 * ioasid_set_get_cgroup() - The cgroup a set's IDs are charged to now.
 * @set: the set
 *
 * For a caller that must vet moving the charge elsewhere: it may change
 * only by ioasid_set_set_cgroup(), once, so a later move from what this
 * returns fails with -EPERM if another came first.
 *
 * Context: Process context.
 * Return: @set's ioasids cgroup, with a reference the caller drops with
 * ioasids_cg_put(); %NULL without the controller; ERR_PTR(-EPERM) if
 * ioasid_set_set_cgroup() named one already.
 */
struct ioasids_cgroup *ioasid_set_get_cgroup(struct ioasid_set *set)
{
	struct ioasids_cgroup *cg = ERR_PTR(-EPERM);

	mutex_lock(&set->lock);
	if (!set->cg_named) {
		cg = set->cg;
		ioasids_cg_get(cg);
	}
	mutex_unlock(&set->lock);
	return cg;
}

/**
 * ioasid_set_get_info() - A snapshot of a set's usage and room.
 * @set: the set
 * @info: filled in
 *
 * Context: Process context.
 */
void ioasid_set_get_info(struct ioasid_set *set, struct ioasid_set_info *info)
{
	u32 limit = READ_ONCE(ioasid_limit);
	unsigned int nr;
	u32 room;

	/* Under the lock: never frozen, and the cgroup cannot change. */
	mutex_lock(&set->lock);
	nr = atomic_read(&set->nr);
	info->type = set->type;
	info->quota = set->quota;
	info->count = nr;
	room = ioasids_cg_room(set->cg);
	if (set->quota)
		room = min(room, set->quota > nr ? set->quota - nr : 0);
	mutex_unlock(&set->lock);
	info->capacity = limit > IOASID_MIN ? limit - IOASID_MIN : 0;
	info->room = min(room, info->capacity);
}
EXPORT_SYMBOL_IF_KUNIT(ioasid_set_get_info);

static const char *ioasid_device_name(struct ioasid_device *idev)
{
	return idev->dev ? dev_name(idev->dev) : "-";
}

/*
 * Count @delta more (or fewer) of @set's IDs in @idev's table. Only a new
 * device's first bond allocates, and may fail; going down never fails.
 */
static int ioasid_bonds_add(struct ioasid_set *set, struct ioasid_device *idev,
			    long delta)
{
	void *entry;

	lockdep_assert_held(&ioasid_devices_lock);
	entry = xa_load(&set->bonds, idev->index);
	if (WARN_ON_ONCE(!entry && delta < 0))
		return 0;
	delta += entry ? xa_to_value(entry) : 0;
	if (!delta) {
		xa_erase(&set->bonds, idev->index);
		return 0;
	}
	return xa_err(xa_store(&set->bonds, idev->index, xa_mk_value(delta),
			       IOASID_GFP));
}

/**
 * ioasid_set_show_fdinfo() - Describe a set in its file's fdinfo.
 * @m: the fdinfo file
 * @set: the set
 *
 * Prints, one per line and each as "key:<tab>value", as DRM's and other
 * fdinfo keys: ioasid-set (the set's number, as the tracepoints show it),
 * ioasid-count (IDs it holds, as GET_INFO's count), ioasid-quota (a number,
 * or "max" for none), ioasid-cgroup (the path of the cgroup it is charged
 * to, as seen from the reader's cgroup namespace; "-" without the
 * controller, "?" if the path cannot be had) and, for each device with
 * some of its IDs in its PASID table, ioasid-device (the device's name and
 * how many). The bonds are counted as they are made, so this is O(devices)
 * however many IDs the set holds.
 *
 * Context: Process context.
 */
void ioasid_set_show_fdinfo(struct seq_file *m, struct ioasid_set *set)
{
	struct ioasid_device *idev;
	unsigned int quota, nr;
	const char *cgroup = "-";
	struct ioasids_cgroup *cg;
	char *path = NULL;
	void *bonds;

	/* Under the lock: never frozen, and the cgroup cannot change. */
	mutex_lock(&set->lock);
	nr = atomic_read(&set->nr);
	quota = set->quota;
	cg = set->cg;
	ioasids_cg_get(cg);
	mutex_unlock(&set->lock);

	/* The path takes cgroup_mutex: not under the set's lock. */
	if (cg) {
		path = kmalloc(PATH_MAX, GFP_KERNEL);
		if (path && ioasids_cg_path(cg, path, PATH_MAX,
					    current->nsproxy->cgroup_ns) >= 0)
			cgroup = path;
		else
			cgroup = "?";
		ioasids_cg_put(cg);
	}
	seq_printf(m, "ioasid-set:\t%llu\n", set->id);
	seq_printf(m, "ioasid-count:\t%u\n", nr);
	if (quota)
		seq_printf(m, "ioasid-quota:\t%u\n", quota);
	else
		seq_puts(m, "ioasid-quota:\tmax\n");
	seq_printf(m, "ioasid-cgroup:\t%s\n", cgroup);
	kfree(path);

	mutex_lock(&ioasid_devices_lock);
	list_for_each_entry(idev, &ioasid_devices, list) {
		bonds = xa_load(&set->bonds, idev->index);
		if (bonds)
			seq_printf(m, "ioasid-device:\t%s %lu\n",
				   ioasid_device_name(idev), xa_to_value(bonds));
	}
	mutex_unlock(&ioasid_devices_lock);
}

static inline void *ioasid_tag(struct ioasid_set *set, unsigned long tag)
{
	return xa_tag_pointer(set, tag);
}

/* The object an entry of the namespace is, or NULL for a plain entry. */
static inline struct ioasid_data *ioasid_object(void *entry)
{
	return entry && !xa_pointer_tag(entry) ? entry : NULL;
}

/* Give the ID at @xas back to the pool; the namespace is locked. */
static void ioasid_vacate(struct xa_state *xas)
{
	xas_store(xas, IOASID_VACANT);
	xas_init_marks(xas);
}

/*
 * Let others have the CPU and the namespace's lock now and then; @xas
 * walks from the top again after.
 */
static void ioasid_xa_yield(struct xa_state *xas, unsigned int i)
{
	if (i && !(i % IOASID_RESCHED_EVERY)) {
		xas_reset(xas);
		xa_unlock(&ioasid_xa);
		cond_resched();
		xa_lock(&ioasid_xa);
	}
}

/*
 * Point @xas at @id, with the namespace locked, and return its entry: the
 * next slot when @id follows the last, so that a batch of consecutive IDs
 * walks the tree once; a walk from the top otherwise.
 */
static void *ioasid_seek(struct xa_state *xas, ioasid_t id)
{
	if (xas_valid(xas) && !xas_not_node(xas->xa_node) &&
	    xas->xa_index + 1 == id)
		return xas_next(xas);
	xas_set(xas, id);
	return xas_load(xas);
}

/*
 * The ID of the cgroup @set is charged to, for tracepoints (0 without the
 * controller). A cgroup is freed only after an RCU grace period, so reading
 * it while ioasid_set_set_cgroup() replaces it is safe.
 */
static u64 ioasid_cgroup_id(struct ioasid_set *set)
{
	u64 id;

	rcu_read_lock();
	id = ioasids_cg_id(READ_ONCE(set->cg));
	rcu_read_unlock();
	return id;
}

/* Uncharge @n IDs of @set that went back to the pool. */
static void ioasid_uncharge(struct ioasid_set *set, unsigned int n)
{
	/* set->nr counts them until now: set->cg cannot have changed. */
	ioasids_cg_uncharge(set->cg, ioasid_kind(set), n);
	/* The cgroup is done with before the count lets set->cg change. */
	smp_mb__before_atomic();
	atomic_sub(n, &set->nr);
}

/*
 * Count @n more IDs against @set's quota, or wait while its cgroup
 * changes. The quota is checked before the cgroup is charged.
 */
static int ioasid_nr_add(struct ioasid_set *set, unsigned int n)
{
	int old = atomic_read(&set->nr);
	unsigned int quota;

	do {
		while (old >= IOASID_NR_FROZEN) {
			/* ioasid_set_set_cgroup() holds the lock meanwhile. */
			mutex_lock(&set->lock);
			mutex_unlock(&set->lock);
			old = atomic_read(&set->nr);
		}
		quota = READ_ONCE(set->quota);
		if (quota && (old > quota || n > quota - old))
			return -EDQUOT;
	} while (!atomic_try_cmpxchg(&set->nr, &old, old + n));
	return 0;
}

/* A new object with its owner's reference; it holds one on @set. */
static void ioasid_data_init(struct ioasid_data *data, struct ioasid_set *set,
			     ioasid_t id, ioasid_t spid, enum ioasid_state state)
{
	*data = (struct ioasid_data) {
		.set = set,
		.id = id,
		.spid = spid,
		.users = 1,
		.state = state,
	};
	refcount_inc(&set->ref);
}

static void ioasid_data_free(struct ioasid_data *data)
{
	struct ioasid_set *set = data->set;

	kfree_rcu(data, rcu);
	ioasid_set_put(set);
}

/*
 * Drop a reference to @data, and a bond with @bond. An object down to its
 * owner's reference becomes a plain entry again; one down to none gives
 * its ID back to the pool, uncharged.
 */
static void ioasid_unref(struct ioasid_data *data, bool bond)
{
	XA_STATE(xas, &ioasid_xa, data->id);
	bool released = false;

	xas_lock(&xas);
	if (bond)
		data->nr_bonds--;
	if (--data->users) {
		if (data->users > 1 || data->state != IOASID_LIVE ||
		    data->spid != IOMMU_PASID_INVALID || data->nr_bonds) {
			xas_unlock(&xas);
			return;
		}
		/* Replacing an entry never allocates. */
		xas_store(&xas, ioasid_tag(data->set, IOASID_TAG_LIVE));
	} else {
		xas_load(&xas);
		ioasid_vacate(&xas);
		released = true;
	}
	xas_unlock(&xas);
	if (released)
		ioasid_uncharge(data->set, 1);
	ioasid_data_free(data);
}

/*
 * Before a lookup of @set's IDs: if a batch is being made visible, wait
 * until it is whole (ioasid_alloc_finalize() holds the set's lock
 * meanwhile), so that no lookup finds some of a batch's IDs and then not
 * the others. One who found one of them sees @finalizing set, through
 * the namespace's lock.
 */
static void ioasid_wait_visible(struct ioasid_set *set)
{
	if (READ_ONCE(set->finalizing)) {
		mutex_lock(&set->lock);
		mutex_unlock(&set->lock);
	}
}

static int ioasid_range(ioasid_t *min, ioasid_t *max)
{
	u32 limit = READ_ONCE(ioasid_limit);

	if (*min > *max)
		return -EINVAL;
	*min = max_t(ioasid_t, *min, IOASID_MIN);
	if (limit <= IOASID_MIN)
		return -ENOSPC;
	*max = min_t(ioasid_t, *max, limit - 1);
	return *min > *max ? -ENOSPC : 0;
}

/*
 * Take one free ID from [@min, *@max] and store @entry there, with the
 * namespace locked; from *@floor up first if *@floor is set, which is
 * cleared (and *@max lowered) once nothing above it is free. @xas must
 * start at *@floor, or @min, and goes on from the ID it took last: one
 * walk for a batch. -ENOMEM, with the error in @xas and nothing taken,
 * when the tree needs a node (xas_nomem(), then call again).
 */
static int ioasid_take_locked(struct xa_state *xas, void *entry, ioasid_t min,
			      ioasid_t *max, ioasid_t *floor, ioasid_t *id)
{
	for (;;) {
		xas_find_marked(xas, *max, XA_FREE_MARK);
		if (xas->xa_node != XAS_RESTART)
			break;
		if (!*floor)
			return -ENOSPC;
		/* Nothing free from the floor up: below it, then. */
		*max = *floor - 1;
		*floor = 0;
		xas_set(xas, min);
	}
	*id = xas->xa_index;
	xas_store(xas, entry);
	xas_clear_mark(xas, XA_FREE_MARK);
	return xas_error(xas);
}

/* The bits of @ids[i..*j) that share @ids[i]'s word of a set's index. */
static unsigned long ioasid_chunk_bits(const ioasid_t *ids, unsigned int i,
				       unsigned int n, unsigned int *j)
{
	unsigned long chunk = ids[i] / IOASID_CHUNK;
	unsigned long bits = 0;

	for (*j = i; *j < n && ids[*j] / IOASID_CHUNK == chunk; (*j)++)
		bits |= 1UL << (ids[*j] % IOASID_CHUNK);
	return bits;
}

/*
 * Take the IDs of @ids[i..) that share @ids[i]'s word out of @set's index;
 * return where the next word's begin. Never allocates: the namespace's
 * lock may be held.
 */
static unsigned int ioasid_index_clear(struct ioasid_set *set,
				       const ioasid_t *ids, unsigned int i,
				       unsigned int n)
{
	XA_STATE(xas, &set->ids, ids[i] / IOASID_CHUNK);
	unsigned long bits;
	unsigned int j;
	void *entry;

	bits = ioasid_chunk_bits(ids, i, n, &j);
	xas_lock(&xas);
	entry = xas_load(&xas);
	/* Words stay when they go to 0: no node churn for a busy set. */
	if (!WARN_ON(!xa_is_value(entry)))
		xas_store(&xas, xa_mk_value(xa_to_value(entry) & ~bits));
	xas_unlock(&xas);
	return j;
}

/*
 * Take @ids[0..n) out of @set's index; with @xas, the namespace is locked,
 * and given up now and then.
 */
static void ioasid_index_clear_all(struct ioasid_set *set, const ioasid_t *ids,
				   unsigned int n, struct xa_state *xas)
{
	unsigned int i, w;

	for (i = 0, w = 0; i < n; w++) {
		if (xas)
			ioasid_xa_yield(xas, w);
		i = ioasid_index_clear(set, ids, i, n);
	}
}

/*
 * Put @ids[0..n), IDs in hand and not visible yet, in @set's index; with
 * %IOASID_GFP_LOCKED, under the namespace's lock, and -ENOMEM (nothing
 * added) when xas_store()'s own GFP_NOWAIT attempt fails.
 */
static int ioasid_index_add(struct ioasid_set *set, const ioasid_t *ids,
			    unsigned int n, gfp_t gfp)
{
	XA_STATE(xas, &set->ids, 0);
	unsigned int i, j, words = 0;
	unsigned long bits;
	void *entry;
	int ret = 0;

	for (i = 0; i < n; i = j) {
		bits = ioasid_chunk_bits(ids, i, n, &j);
		do {
			xas_lock(&xas);
			xas_set(&xas, ids[i] / IOASID_CHUNK);
			entry = xas_load(&xas);
			xas_store(&xas, xa_mk_value(bits | (entry ?
							    xa_to_value(entry) :
							    0)));
			xas_unlock(&xas);
		} while (gfpflags_allow_blocking(gfp) && xas_nomem(&xas, gfp));
		ret = xas_error(&xas);
		if (ret)
			break;
		if (!(++words % IOASID_RESCHED_EVERY) &&
		    gfpflags_allow_blocking(gfp))
			cond_resched();
	}
	if (ret)
		ioasid_index_clear_all(set, ids, i, NULL);
	return ret;
}

/*
 * Give back IDs that no one saw, @ids[0..n), with @indexed if they are in
 * their set's index already. Returns the object of an ID that had one (an
 * allocation with a private ID), for the caller to finish.
 */
static struct ioasid_data *ioasid_erase_busy(struct ioasid_set *set,
					     const ioasid_t *ids,
					     unsigned int n, bool indexed)
{
	XA_STATE(xas, &ioasid_xa, 0);
	struct ioasid_data *data = NULL;
	unsigned int i;
	void *entry;

	xa_lock(&ioasid_xa);
	if (indexed)
		ioasid_index_clear_all(set, ids, n, &xas);
	for (i = 0; i < n; i++) {
		ioasid_xa_yield(&xas, i);
		entry = ioasid_seek(&xas, ids[i]);
		ioasid_vacate(&xas);
		if (ioasid_object(entry))
			data = entry;
		else
			WARN_ON(entry != ioasid_tag(set, IOASID_TAG_BUSY));
	}
	xa_unlock(&ioasid_xa);
	return data;
}

/* Forget the private ID of @data, an object that is not live. */
static void ioasid_spid_release(struct ioasid_data *data)
{
	struct ioasid_set *set = data->set;

	mutex_lock(&set->lock);
	if (data->spid != IOMMU_PASID_INVALID) {
		xa_cmpxchg(&set->spids, data->spid, data, NULL, 0);
		xa_lock(&ioasid_xa);
		data->spid = IOMMU_PASID_INVALID;
		xa_unlock(&ioasid_xa);
	}
	mutex_unlock(&set->lock);
}

/*
 * The whole of an allocation of one ID without a private ID
 * (ioasid_alloc()), under one hold of the namespace's lock: the ID is
 * taken BUSY, put in @set's index, charged in one step
 * (ioasids_cg_try_charge(), exact, one cmpxchg on each level)
 * and only then made LIVE, before the lock is given up: no one sees it
 * before it is complete, a refused charge never takes an ID anyone sees,
 * and finalizing has nothing left to do. Nothing here sleeps: -EAGAIN,
 * with nothing taken, when memory is needed, for the caller to go the
 * two-step way, which may; and when no ID is free, so that the two-step
 * way, which asks the limits first, says which refused it: a request over
 * its limit fails with -EDQUOT and counts in ioasids.events whether or not
 * the range is full, as through /dev/ioasid.
 */
static int ioasid_take_live(struct ioasid_set *set, ioasid_t min, ioasid_t max,
			    ioasid_t floor, ioasid_t *id)
{
	XA_STATE(xas, &ioasid_xa, floor ?: min);
	int ret;

	xas_lock(&xas);
	/* xas_store() tries GFP_NOWAIT itself: -ENOMEM is final here. */
	ret = ioasid_take_locked(&xas, ioasid_tag(set, IOASID_TAG_BUSY), min,
				 &max, &floor, id);
	if (ret == -ENOSPC)
		ret = -EAGAIN;
	if (!ret) {
		ret = ioasid_index_add(set, id, 1, IOASID_GFP_LOCKED);
		if (!ret) {
			ret = ioasids_cg_try_charge(set->cg, ioasid_kind(set), 1);
			if (ret)
				ioasid_index_clear_all(set, id, 1, NULL);
		}
		if (ret) {
			xas_set(&xas, *id);
			xas_load(&xas);
			ioasid_vacate(&xas);
		} else {
			/* Still at the slot; replacing an entry never allocates. */
			xas_store(&xas, ioasid_tag(set, IOASID_TAG_LIVE));
			/* Before anyone can free it: a free's event comes after. */
			if (trace_ioasid_alloc_enabled())
				trace_ioasid_alloc(set->id, ioasid_cgroup_id(set),
						   id, 1);
		}
	}
	xas_unlock(&xas);
	xas_destroy(&xas);
	/* A refusal by the charge is final: it was counted and logged. */
	return ret == -ENOMEM ? -EAGAIN : ret;
}

/*
 * Check a request against the set and the namespace, and narrow [@min,
 * @max] to the namespace; *@floor is where a user set's default placement
 * starts, or 0.
 */
static int ioasid_alloc_check(struct ioasid_set *set, ioasid_t *min,
			      ioasid_t *max, unsigned int n, ioasid_t spid,
			      const ioasid_t *ids, ioasid_t *floor)
{
	int ret;

	*floor = 0;
	if (!set || !ids || !n || n > IOASID_MAX_BATCH ||
	    (spid != IOMMU_PASID_INVALID && n != 1))
		return -EINVAL;
	if (!*min && set->type == IOASID_SET_TYPE_FD &&
	    READ_ONCE(ioasid_limit) >= IOASID_USER_FLOOR_MIN)
		*floor = IOASID_USER_FLOOR;
	ret = ioasid_range(min, max);
	if (ret)
		return ret;
	if (n > *max - *min + 1)
		return -ENOSPC;
	if (*floor <= *min || *floor > *max)
		*floor = 0;
	return READ_ONCE(set->dead) ? -ENOENT : 0;
}

/*
 * A BUSY object with private ID @spid, in @set's private IDs; -EEXIST if
 * @spid is taken there.
 */
static struct ioasid_data *ioasid_spid_reserve(struct ioasid_set *set,
					       ioasid_t spid)
{
	struct ioasid_data *data;
	int ret;

	data = kmem_cache_alloc(ioasid_cache, IOASID_GFP);
	if (!data)
		return ERR_PTR(-ENOMEM);
	ioasid_data_init(data, set, IOMMU_PASID_INVALID, spid, IOASID_BUSY);
	mutex_lock(&set->lock);
	ret = xa_insert(&set->spids, spid, data, IOASID_GFP);
	mutex_unlock(&set->lock);
	if (ret) {
		data->spid = IOMMU_PASID_INVALID;
		ioasid_data_free(data);
		return ERR_PTR(ret == -EBUSY ? -EEXIST : ret);
	}
	return data;
}

/*
 * Take @n IDs as @entry, a BUSY one, into @ids and @set's index, giving
 * the namespace's lock up to allocate and every %IOASID_RESCHED_EVERY
 * IDs; on failure nothing stays taken.
 */
static int ioasid_take_busy(struct ioasid_set *set, void *entry, ioasid_t min,
			    ioasid_t max, ioasid_t floor, unsigned int n,
			    ioasid_t *ids)
{
	XA_STATE(xas, &ioasid_xa, floor ?: min);
	unsigned int i = 0;
	int ret = 0;

	xas_lock(&xas);
	while (i < n) {
		ret = ioasid_take_locked(&xas, entry, min, &max, &floor,
					 &ids[i]);
		if (ret == -ENOMEM) {
			xas_unlock(&xas);
			if (!xas_nomem(&xas, IOASID_GFP))
				goto undo;
			xas_lock(&xas);
			xas_set(&xas, floor ?: min);
			continue;
		}
		if (ret)
			break;
		if (++i < n && !(i % IOASID_RESCHED_EVERY)) {
			xas_unlock(&xas);
			cond_resched();
			if (fatal_signal_pending(current)) {
				ret = -EINTR;
				goto undo;
			}
			xas_lock(&xas);
			xas_set(&xas, floor ?: min);
		}
	}
	xas_unlock(&xas);
	if (!ret)
		ret = ioasid_index_add(set, ids, n, IOASID_GFP);
	if (!ret) {
		xas_destroy(&xas);
		return 0;
	}
undo:
	xas_destroy(&xas);
	if (i)
		ioasid_erase_busy(set, ids, i, false);
	return ret;
}

/*
 * ioasid_alloc_reserve() itself, but for the refusal's tracepoint. With
 * @one_step (one ID, ioasid_alloc()), the ID is handed out at once where
 * ioasid_take_live() can: 1 then, and 0 when it still wants
 * ioasid_alloc_finalize().
 */
static int __ioasid_alloc_reserve(struct ioasid_set *set, ioasid_t min,
				  ioasid_t max, unsigned int n, ioasid_t spid,
				  ioasid_t *ids, bool one_step)
{
	struct ioasid_data *data = NULL;
	ioasid_t floor;
	int ret;

	ret = ioasid_alloc_check(set, &min, &max, n, spid, ids, &floor);
	if (ret)
		return ret;
	/* Held against the quota while we work. */
	ret = ioasid_nr_add(set, n);
	if (ret)
		return ret;
	if (spid != IOMMU_PASID_INVALID) {
		data = ioasid_spid_reserve(set, spid);
		if (IS_ERR(data)) {
			ret = PTR_ERR(data);
			goto unquota;
		}
	}

	/* Taken and charged at once, under the namespace's lock, if it can. */
	if (one_step && !data && n == 1) {
		ret = ioasid_take_live(set, min, max, floor, ids);
		if (!ret)
			return 1;
		if (ret != -EAGAIN)
			goto unquota;
	}

	/*
	 * Room under every limit first, so that no one holds more IDs than
	 * its limits allow even while a doomed request is under way; it shows
	 * in ioasids.current and ioasids.peak only once the IDs are in hand.
	 */
	ret = ioasids_cg_try_reserve(set->cg, n);
	if (ret)
		goto unspid;
	ret = ioasid_take_busy(set, data ?: ioasid_tag(set, IOASID_TAG_BUSY),
			       min, max, floor, n, ids);
	if (ret)
		goto cancel;
	/*
	 * Read only once the object is LIVE (ioasid_find_by_spid(), with the
	 * acquire that pairs with ioasid_alloc_finalize()'s release).
	 */
	if (data)
		data->id = ids[0];
	/* Committed by ioasid_alloc_finalize(), cancelled by the abort. */
	return 0;

cancel:
	ioasids_cg_cancel(set->cg, n);
unspid:
	if (data) {
		ioasid_spid_release(data);
		ioasid_data_free(data);
	}
unquota:
	/* The cgroup is done with before the count lets set->cg change. */
	smp_mb__before_atomic();
	atomic_sub(n, &set->nr);
	return ret;
}

/*
 * The refusal's tracepoint around __ioasid_alloc_reserve(), for both
 * halves of an allocation and for one in a single step (@one_step). The
 * KUnit suite calls it to see which way an allocation went.
 */
VISIBLE_IF_KUNIT int ioasid_reserve(struct ioasid_set *set, ioasid_t min,
				    ioasid_t max, unsigned int n, ioasid_t spid,
				    ioasid_t *ids, bool one_step)
{
	int ret;

	ret = __ioasid_alloc_reserve(set, min, max, n, spid, ids, one_step);
	if (ret < 0 && set && trace_ioasid_refused_enabled())
		trace_ioasid_refused(set->id, ioasid_cgroup_id(set), n, min,
				     max, ret);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(ioasid_reserve);

/**
 * ioasid_alloc_reserve() - Take @n IDs for a set, invisible until finalized.
 * @set: the set
 * @min: the lowest acceptable ID; 0 means the lowest there is, and for a
 *	user (fd) set the default placement: from 256 up first
 * @max: the highest acceptable ID, bounded by the namespace
 * @n: how many, at most %IOASID_MAX_BATCH
 * @spid: a private ID to attach (with @n 1), or %IOMMU_PASID_INVALID
 * @ids: an array of @n, filled in on success
 *
 * The first half of an allocation, as iommufd reserves an object's ID
 * before the object is complete: the IDs are taken, with room held under
 * every limit (charged at finalize), but no lookup, FREE, FIND or BIND
 * sees them until ioasid_alloc_finalize(); ioasid_alloc_abort() gives them back as if
 * nothing happened. The caller must do one or the other.
 *
 * Everything the set itself can check (that it is alive, its quota, the
 * range, the private ID) is checked first; then room is held under every
 * ioasids.max on the way to the root (ioasids_cg_try_reserve()), so that a
 * request takes no more IDs than its limits allow, even for a moment; the
 * charge shows in ioasids.current and ioasids.peak only once the IDs are
 * finalized (ioasids_cg_commit()): an aborted allocation never shows in
 * either. A refused request leaves nothing but the
 * ioasids.events count of a limit that refused it, and fires the
 * ioasid_refused tracepoint with its errno. The namespace's lock is
 * taken once for the batch, and given up every %IOASID_RESCHED_EVERY IDs.
 *
 * Context: Process context; sleeps.
 * Return:
 * * %0 - reserved, and room held under every limit.
 * * %-EDQUOT - the set's quota or an ioasids.max on its cgroup's path.
 * * %-ENOSPC - no @n free IDs in [@min, @max] or the system's capacity.
 * * %-EEXIST - @spid is in use in @set.
 * * %-EINVAL - @min > @max, @n 0 or above %IOASID_MAX_BATCH, or @spid
 *   with @n > 1.
 * * %-ENOENT - the set is being destroyed.
 * * %-EINTR - a fatal signal is pending.
 * * %-ENOMEM.
 */
int ioasid_alloc_reserve(struct ioasid_set *set, ioasid_t min, ioasid_t max,
			 unsigned int n, ioasid_t spid, ioasid_t *ids)
{
	return ioasid_reserve(set, min, max, n, spid, ids, false);
}
EXPORT_SYMBOL_IF_KUNIT(ioasid_alloc_reserve);

/**
 * ioasid_alloc_finalize() - Hand out IDs from ioasid_alloc_reserve().
 * @set: the set
 * @ids: the IDs ioasid_alloc_reserve() returned
 * @n: how many
 *
 * Commits the charge (ioasids.current and ioasids.peak show it from
 * here), then makes them visible:
 * from here on they are the set's like any other. Finalizing cannot fail.
 * The batch becomes visible at once: a batch of more than
 * %IOASID_RESCHED_EVERY is made visible that many at a time, the
 * namespace's lock given up between, with the set's @lock held and the
 * set marked finalizing; every lookup of the set's IDs (FREE, BIND, a
 * private ID) that starts meanwhile waits until it is whole.
 *
 * Context: Process context; sleeps.
 */
void ioasid_alloc_finalize(struct ioasid_set *set, const ioasid_t *ids,
			   unsigned int n)
{
	bool whole = n > IOASID_RESCHED_EVERY;
	XA_STATE(xas, &ioasid_xa, 0);
	struct ioasid_data *data;
	unsigned int i;
	void *entry;

	/* set->nr counts them: set->cg cannot change meanwhile. */
	ioasids_cg_commit(set->cg, ioasid_kind(set), n);

	/* Before anyone can free them: a free's event always comes after. */
	if (trace_ioasid_alloc_enabled())
		trace_ioasid_alloc(set->id, ioasid_cgroup_id(set), ids, n);

	if (whole) {
		mutex_lock(&set->lock);
		/* Before the first is visible: seen by whoever sees one. */
		WRITE_ONCE(set->finalizing, true);
	}
	xas_lock(&xas);
	for (i = 0; i < n; i++) {
		ioasid_xa_yield(&xas, i);
		entry = ioasid_seek(&xas, ids[i]);
		data = ioasid_object(entry);
		if (data && !WARN_ON_ONCE(data->set != set ||
					  data->state != IOASID_BUSY))
			/* data->id before LIVE: ioasid_find_by_spid(). */
			smp_store_release(&data->state, IOASID_LIVE);
		else if (!WARN_ON_ONCE(entry != ioasid_tag(set, IOASID_TAG_BUSY)))
			xas_store(&xas, ioasid_tag(set, IOASID_TAG_LIVE));
	}
	xas_unlock(&xas);
	if (whole) {
		WRITE_ONCE(set->finalizing, false);
		mutex_unlock(&set->lock);
	}
}
EXPORT_SYMBOL_IF_KUNIT(ioasid_alloc_finalize);

/**
 * ioasid_alloc_abort() - Give back IDs from ioasid_alloc_reserve().
 * @set: the set
 * @ids: the IDs ioasid_alloc_reserve() returned
 * @n: how many
 *
 * No one saw them: they go back to the pool, and the room held for them
 * under the limits is given back, at once. Nothing was ever charged:
 * ioasids.current and ioasids.peak never showed them.
 *
 * Context: Process context; sleeps.
 */
void ioasid_alloc_abort(struct ioasid_set *set, const ioasid_t *ids,
			unsigned int n)
{
	struct ioasid_data *data;

	data = ioasid_erase_busy(set, ids, n, true);
	if (data) {
		ioasid_spid_release(data);
		ioasid_data_free(data);
	}
	ioasids_cg_cancel(set->cg, n);
	/* The cgroup is done with before the count lets set->cg change. */
	smp_mb__before_atomic();
	atomic_sub(n, &set->nr);
}

/**
 * ioasid_alloc() - Allocate one ID in a set.
 * @set: the set
 * @min: the lowest acceptable ID (0 means the lowest there is, 1; for a
 *	user set, the default placement of ioasid_alloc_reserve())
 * @max: the highest acceptable ID, bounded by the namespace
 * @spid: a private ID to attach, unique in @set, or %IOMMU_PASID_INVALID
 * @id: the ID, on success
 *
 * ioasid_alloc_reserve() and ioasid_alloc_finalize() in one; under one
 * hold of the namespace's lock when there is no @spid.
 *
 * Context: Process context.
 * Return: 0 or a negative errno, as for ioasid_alloc_reserve().
 */
int ioasid_alloc(struct ioasid_set *set, ioasid_t min, ioasid_t max,
		 ioasid_t spid, ioasid_t *id)
{
	int ret = ioasid_reserve(set, min, max, 1, spid, id, true);

	if (ret < 0)
		return ret;
	if (!ret)
		ioasid_alloc_finalize(set, id, 1);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ioasid_alloc);

/*
 * Remove @data's ID from one device's table (the device's driver stops
 * using it first) and drop that entry's reference.
 */
static void ioasid_clear_entry(struct ioasid_device *idev,
			       struct ioasid_data *data)
{
	struct ioasid_set *set = data->set;

	lockdep_assert_held(&ioasid_devices_lock);
	idev->ops->clear_pasid(idev, data->id);
	xa_erase(&idev->table, data->id);
	ioasid_bonds_add(set, idev, -1);
	if (trace_ioasid_unbind_enabled())
		trace_ioasid_unbind(set->id, ioasid_cgroup_id(set),
				    ioasid_device_name(idev), data->id, 0);
	ioasid_unref(data, true);
}

/* A freed ID leaves every PASID table before it can go back to the pool. */
static void ioasid_unbind_all(struct ioasid_data *data)
{
	struct ioasid_device *idev;

	lockdep_assert_held(&ioasid_devices_lock);
	list_for_each_entry(idev, &ioasid_devices, list) {
		if (xa_load(&idev->table, data->id) == data)
			ioasid_clear_entry(idev, data);
	}
}

/*
 * Tear down a freed object: its ID leaves every PASID table it is in, its
 * private ID is forgotten, and the owner's reference goes (which gives the
 * ID back unless a BIND that failed still holds it).
 */
static void ioasid_teardown(struct ioasid_data *data)
{
	/*
	 * No new bond can start on a freed ID; one that started before is
	 * counted already, and holds ioasid_devices_lock from its check to
	 * its table entry: wait for it, so that no table keeps the ID.
	 */
	if (READ_ONCE(data->nr_bonds)) {
		mutex_lock(&ioasid_devices_lock);
		ioasid_unbind_all(data);
		mutex_unlock(&ioasid_devices_lock);
	}
	ioasid_spid_release(data);
	ioasid_unref(data, false);
}

/*
 * Marks a live ID that a FREE of more than %IOASID_RESCHED_EVERY IDs has
 * checked, while it checks the rest: the ID stays live and visible to
 * everyone; another FREE of its set that meets the mark waits for that
 * FREE (the set's @lock) before it looks again.
 */
#define IOASID_MARK_CLAIMED	XA_MARK_1

/* Whether @entry is a live ID of @set. */
static bool ioasid_live_of(struct ioasid_set *set, void *entry)
{
	struct ioasid_data *data = ioasid_object(entry);

	return entry == ioasid_tag(set, IOASID_TAG_LIVE) ||
	       (data && data->set == set && data->state == IOASID_LIVE);
}

/* Make the live ID at @xas invisible: a plain one BUSY, an object FREED. */
static void ioasid_claim(struct xa_state *xas, struct ioasid_set *set,
			 void *entry)
{
	struct ioasid_data *data = ioasid_object(entry);

	if (data)
		WRITE_ONCE(data->state, IOASID_FREED);
	else
		xas_store(xas, ioasid_tag(set, IOASID_TAG_BUSY));
}

/*
 * Make each of @ids[0..n) invisible, all or none, for n up to
 * %IOASID_RESCHED_EVERY: with the namespace locked, and without giving
 * the lock up, so that no one else ever sees part of a FREE that fails.
 * 0 if all were live IDs of @set, each listed once; -EAGAIN, nothing
 * changed, if one is marked by a larger FREE under way.
 */
static int ioasid_free_claim_locked(struct xa_state *xas, struct ioasid_set *set,
				    const ioasid_t *ids, unsigned int n)
{
	struct ioasid_data *data;
	bool marked = false;
	unsigned int i;
	void *entry;

	for (i = 0; i < n; i++) {
		entry = ioasid_seek(xas, ids[i]);
		if (!ioasid_live_of(set, entry))
			break;
		/* Checked by a larger FREE of the set: wait for its verdict. */
		marked = xas_get_mark(xas, IOASID_MARK_CLAIMED);
		if (marked)
			break;
		ioasid_claim(xas, set, entry);
	}
	if (i == n)
		return 0;
	/* Undo: each ID before i was live and is listed once. */
	while (i--) {
		xas_set(xas, ids[i]);	/* backwards: a walk each */
		data = ioasid_object(xas_load(xas));
		if (data)
			WRITE_ONCE(data->state, IOASID_LIVE);
		else
			xas_store(xas, ioasid_tag(set, IOASID_TAG_LIVE));
	}
	return marked ? -EAGAIN : -ENOENT;
}

/*
 * As ioasid_free_claim_locked(), for any n, giving the namespace's lock
 * up every %IOASID_RESCHED_EVERY IDs: with the set's @lock held, each ID
 * is first marked, which no one but another FREE of the set sees, and
 * only once all are marked are they made invisible (or, if one was not
 * live, unmarked). Called and returns with the namespace locked.
 */
static int ioasid_free_claim(struct xa_state *xas, struct ioasid_set *set,
			     const ioasid_t *ids, unsigned int n)
{
	unsigned int i, j;
	void *entry;
	int ret;

	if (n <= IOASID_RESCHED_EVERY) {
		ret = ioasid_free_claim_locked(xas, set, ids, n);
		if (ret != -EAGAIN)
			return ret;
	}
	xas_unlock(xas);
	mutex_lock(&set->lock);
	xas_lock(xas);
	xas_reset(xas);
	if (n <= IOASID_RESCHED_EVERY) {
		/* No FREE marks anything while we hold the set's lock. */
		ret = ioasid_free_claim_locked(xas, set, ids, n);
		mutex_unlock(&set->lock);
		return ret;
	}
	for (i = 0; i < n; i++) {
		ioasid_xa_yield(xas, i);
		entry = ioasid_seek(xas, ids[i]);
		if (!ioasid_live_of(set, entry) ||
		    xas_get_mark(xas, IOASID_MARK_CLAIMED))
			break;	/* not live, or listed twice */
		xas_set_mark(xas, IOASID_MARK_CLAIMED);
	}
	xas_reset(xas);
	for (j = 0; j < i; j++) {
		ioasid_xa_yield(xas, j);
		entry = ioasid_seek(xas, ids[j]);
		xas_clear_mark(xas, IOASID_MARK_CLAIMED);
		if (i == n)
			ioasid_claim(xas, set, entry);
	}
	mutex_unlock(&set->lock);
	return i == n ? 0 : -ENOENT;
}

/*
 * The rest of a FREE, its IDs claimed and out of the set's index, 64 at a
 * time: the window's plain IDs go back to the pool under one hold of the
 * namespace's lock, with one uncharge, and which are objects is read
 * there, while all of the window's IDs are still ours; the objects are
 * torn down after, each giving its ID back.
 */
static void ioasid_free_claimed(struct ioasid_set *set, const ioasid_t *ids,
				unsigned int n)
{
	XA_STATE(xas, &ioasid_xa, 0);
	unsigned int i, w, m, released;
	unsigned long objs;
	void *entry;

	for (w = 0; w < n; w += m) {
		m = min_t(unsigned int, n - w, BITS_PER_LONG);
		objs = 0;
		released = 0;
		xas_lock(&xas);
		xas_reset(&xas);
		for (i = 0; i < m; i++) {
			entry = ioasid_seek(&xas, ids[w + i]);
			if (ioasid_object(entry)) {
				objs |= BIT(i);
				continue;
			}
			WARN_ON(entry != ioasid_tag(set, IOASID_TAG_BUSY));
			ioasid_vacate(&xas);
			released++;
		}
		xas_unlock(&xas);
		if (released)
			ioasid_uncharge(set, released);
		/* FREED, and only this call drops their owner's reference. */
		for (i = 0; i < m; i++) {
			if (objs & BIT(i))
				ioasid_teardown(xa_load(&ioasid_xa, ids[w + i]));
		}
		cond_resched();
	}
}

/**
 * ioasid_free_batch() - Give @n IDs back, all or nothing.
 * @set: the set that allocated them
 * @ids: the IDs
 * @n: how many, at most %IOASID_MAX_BATCH
 *
 * As ioasid_free() for each, but if any of @ids is not a live ID of @set, or
 * is listed twice, none is freed, and no one saw any of them go: up to
 * %IOASID_RESCHED_EVERY are checked and claimed under one hold of the
 * namespace's lock; a larger batch is checked first, giving the lock up
 * every %IOASID_RESCHED_EVERY IDs, and goes out of sight that many at a
 * time only once all are checked. A lookup that meets a batch being made
 * visible (ioasid_alloc_finalize()) waits until it is whole. Then they go
 * back %IOASID_RESCHED_EVERY at a time, each group uncharged once, an ID
 * with a bond or a private ID once it is torn down (ioasid_free()).
 *
 * Context: Process context.
 * Return: 0; -ENOENT and nothing freed; -EINVAL for @n above
 * %IOASID_MAX_BATCH.
 */
int ioasid_free_batch(struct ioasid_set *set, const ioasid_t *ids,
		      unsigned int n)
{
	XA_STATE(xas, &ioasid_xa, 0);

	if (n > IOASID_MAX_BATCH)
		return -EINVAL;
	ioasid_wait_visible(set);
	xas_lock(&xas);
	if (n == 1 &&
	    ioasid_seek(&xas, ids[0]) == ioasid_tag(set, IOASID_TAG_LIVE) &&
	    !xas_get_mark(&xas, IOASID_MARK_CLAIMED)) {
		/* One plain ID: back at once, in one step. */
		ioasid_index_clear(set, ids, 0, 1);
		if (trace_ioasid_free_enabled())
			trace_ioasid_free(set->id, ioasid_cgroup_id(set), ids, 1);
		ioasid_vacate(&xas);
		xas_unlock(&xas);
		ioasid_uncharge(set, 1);
		return 0;
	}
	if (ioasid_free_claim(&xas, set, ids, n)) {
		xas_unlock(&xas);
		return -ENOENT;
	}
	/*
	 * Out of the set's index before they go back to the pool, so that
	 * the set's next allocation of the same ID is not undone.
	 */
	ioasid_index_clear_all(set, ids, n, &xas);
	/*
	 * Claimed, and still charged (so the cgroup cannot change): before
	 * any of them can be allocated again, and its event seen.
	 */
	if (trace_ioasid_free_enabled())
		trace_ioasid_free(set->id, ioasid_cgroup_id(set), ids, n);
	xas_unlock(&xas);
	ioasid_free_claimed(set, ids, n);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ioasid_free_batch);

/**
 * ioasid_free() - Give an ID back.
 * @set: the set that allocated it
 * @id: the ID
 *
 * Clears @id from every PASID table it is in (waiting for a BIND under
 * way), the device's driver first, and drops the owner's reference: when
 * this returns, the ID and its private ID are free, and the ID uncharged.
 *
 * Context: Process context.
 * Return: 0, or -ENOENT if @id is not a live ID of @set: never allocated,
 * freed already, not yet handed out, or another set's (which is not told
 * apart).
 */
int ioasid_free(struct ioasid_set *set, ioasid_t id)
{
	return ioasid_free_batch(set, &id, 1);
}
EXPORT_SYMBOL_IF_KUNIT(ioasid_free);

/**
 * ioasid_find_by_spid() - The ID a private ID is attached to.
 * @set: the set
 * @spid: the private ID
 * @id: the ID, on success
 *
 * Context: Any context.
 * Return: 0, or -ENOENT if no live ID of @set has @spid.
 */
int ioasid_find_by_spid(struct ioasid_set *set, ioasid_t spid, ioasid_t *id)
{
	struct ioasid_data *data;
	int ret = -ENOENT;

	rcu_read_lock();
	data = xa_load(&set->spids, spid);
	/* Pairs with the release in ioasid_alloc_finalize(). */
	if (data && smp_load_acquire(&data->state) == IOASID_LIVE) {
		*id = data->id;
		ret = 0;
	}
	rcu_read_unlock();
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(ioasid_find_by_spid);

/**
 * ioasid_find_spid() - The private ID attached to an ID.
 * @set: the set
 * @id: a live ID of @set
 * @spid: the private ID, on success
 *
 * Context: Any context.
 * Return: 0, or -ENOENT if @id is not a live ID of @set or has no private ID.
 */
int ioasid_find_spid(struct ioasid_set *set, ioasid_t id, ioasid_t *spid)
{
	struct ioasid_data *data;
	ioasid_t found;
	int ret = -ENOENT;

	rcu_read_lock();
	data = ioasid_object(xa_load(&ioasid_xa, id));
	if (data && data->set == set && READ_ONCE(data->state) == IOASID_LIVE) {
		found = READ_ONCE(data->spid);
		if (found != IOMMU_PASID_INVALID) {
			*spid = found;
			ret = 0;
		}
	}
	rcu_read_unlock();
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(ioasid_find_spid);

/**
 * ioasid_device_register() - Tell the core about a device's PASID table.
 * @idev: the device, with @dev, @devt, @fops, @max_pasids and @ops filled in
 *
 * From then on IDs are programmed into the device with ioasid_bind(), or
 * IOASID_BIND on /dev/ioasid naming a file of @devt opened through @fops,
 * and cleared from it when they are unbound, when they are freed, and when
 * the device is unregistered.
 *
 * Context: Process context.
 * Return: 0; -EINVAL for missing ops, a @devt without @fops or
 * @ops->owns_file, or a table with no room for an ID; -EEXIST if a device
 * with the same @devt is registered; -ENOMEM.
 */
int ioasid_device_register(struct ioasid_device *idev)
{
	struct ioasid_device *i;
	int ret = 0;

	if (!idev->ops || !idev->ops->set_pasid || !idev->ops->clear_pasid ||
	    idev->max_pasids <= IOASID_MIN ||
	    (idev->devt && (!idev->fops || !idev->ops->owns_file)))
		return -EINVAL;
	xa_init_flags(&idev->table, XA_FLAGS_ACCOUNT);
	ret = ida_alloc(&ioasid_device_ida, GFP_KERNEL);
	if (ret < 0)
		return ret;
	idev->index = ret;
	ret = 0;

	mutex_lock(&ioasid_devices_lock);
	list_for_each_entry(i, &ioasid_devices, list) {
		if (idev->devt && i->devt == idev->devt) {
			ret = -EEXIST;
			break;
		}
	}
	if (!ret)
		list_add_tail(&idev->list, &ioasid_devices);
	else
		INIT_LIST_HEAD(&idev->list);
	mutex_unlock(&ioasid_devices_lock);
	if (ret)
		ida_free(&ioasid_device_ida, idev->index);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(ioasid_device_register);

/**
 * ioasid_device_unregister() - Clear a device's table and forget it.
 * @idev: a device registered with ioasid_device_register()
 *
 * Every ID programmed into the device is cleared (clear_pasid) and its
 * entry's reference dropped; the IDs stay allocated and charged to their
 * sets. When it returns, no bind reaches the device: ioasid_bind() and
 * ioasid_unbind() of it, and IOASID_BIND on a file of it, fail with
 * -ENODEV. A driver calls it from its remove(), after it has stopped its
 * own binds.
 *
 * Context: Process context.
 */
void ioasid_device_unregister(struct ioasid_device *idev)
{
	struct ioasid_data *data;
	unsigned long id;

	mutex_lock(&ioasid_devices_lock);
	xa_for_each(&idev->table, id, data) {
		ioasid_clear_entry(idev, data);
		cond_resched();
	}
	list_del_init(&idev->list);
	mutex_unlock(&ioasid_devices_lock);
	xa_destroy(&idev->table);
	ida_free(&ioasid_device_ida, idev->index);
}
EXPORT_SYMBOL_IF_KUNIT(ioasid_device_unregister);

/*
 * Check that @id is a live ID of @set that @idev can take, and count the
 * bond and its reference on the ID's object (made from @spare for a plain
 * ID), all under one hold of the namespace's lock: a FREE either comes
 * before and is seen, or after and sees the bond (and waits for
 * ioasid_devices_lock, which the caller holds until the entry is made).
 */
static struct ioasid_data *ioasid_bond_locked(struct ioasid_set *set,
					      struct ioasid_device *idev,
					      ioasid_t id,
					      struct ioasid_data **spare)
{
	struct ioasid_data *data;
	void *entry;

	lockdep_assert_held(&ioasid_xa.xa_lock);
	entry = xa_load(&ioasid_xa, id);
	data = ioasid_object(entry);
	if (entry != ioasid_tag(set, IOASID_TAG_LIVE) &&
	    (!data || data->set != set || data->state != IOASID_LIVE))
		return ERR_PTR(-ENOENT);
	if (id >= idev->max_pasids)
		return ERR_PTR(-EOVERFLOW);
	if (xa_load(&idev->table, id))
		return ERR_PTR(-EEXIST);
	if (data && data->nr_bonds == U16_MAX)
		return ERR_PTR(-EBUSY);
	if (!data) {
		data = *spare;
		*spare = NULL;
		ioasid_data_init(data, set, id, IOMMU_PASID_INVALID,
				 IOASID_LIVE);
		/* Replacing an entry never allocates. */
		__xa_store(&ioasid_xa, id, data, 0);
	}
	data->nr_bonds++;
	data->users++;
	return data;
}

static int ioasid_bind_locked(struct ioasid_set *set,
			      struct ioasid_device *idev, ioasid_t id)
{
	struct ioasid_data *data, *spare;
	int ret;

	lockdep_assert_held(&ioasid_devices_lock);
	ioasid_wait_visible(set);
	/* For a plain ID, which needs an object to hold a bond. */
	spare = kmem_cache_alloc(ioasid_cache, IOASID_GFP);
	if (!spare)
		return -ENOMEM;
	xa_lock(&ioasid_xa);
	data = ioasid_bond_locked(set, idev, id, &spare);
	xa_unlock(&ioasid_xa);
	if (spare)
		kmem_cache_free(ioasid_cache, spare);
	if (IS_ERR(data))
		return PTR_ERR(data);

	ret = ioasid_bonds_add(set, idev, 1);
	if (!ret) {
		ret = xa_insert(&idev->table, id, data, IOASID_GFP);
		if (!ret) {
			ret = idev->ops->set_pasid(idev, id);
			if (ret)
				xa_erase(&idev->table, id);
		}
		if (ret)
			ioasid_bonds_add(set, idev, -1);
	}
	if (ret)
		ioasid_unref(data, true);
	return ret;
}

/*
 * Whether @idev is registered: on the list, and not a zeroed structure
 * that never was (whose list is not even initialized).
 */
static bool ioasid_device_registered(struct ioasid_device *idev)
{
	lockdep_assert_held(&ioasid_devices_lock);
	return idev->list.next && !list_empty(&idev->list);
}

static int __ioasid_bind(struct ioasid_set *set, struct ioasid_device *idev,
			 ioasid_t id)
{
	int ret = ioasid_device_registered(idev) ?
		  ioasid_bind_locked(set, idev, id) : -ENODEV;

	if (trace_ioasid_bind_enabled())
		trace_ioasid_bind(set->id, ioasid_cgroup_id(set),
				  ioasid_device_name(idev), id, ret);
	return ret;
}

static int __ioasid_unbind(struct ioasid_set *set, struct ioasid_device *idev,
			   ioasid_t id)
{
	struct ioasid_data *data;

	lockdep_assert_held(&ioasid_devices_lock);
	if (!ioasid_device_registered(idev))
		return -ENODEV;
	data = xa_load(&idev->table, id);
	if (!data || data->set != set) {
		if (trace_ioasid_unbind_enabled())
			trace_ioasid_unbind(set->id, ioasid_cgroup_id(set),
					    ioasid_device_name(idev), id,
					    -ENOENT);
		return -ENOENT;
	}
	ioasid_clear_entry(idev, data);
	return 0;
}

/**
 * ioasid_bind() - Program an ID into a device's PASID table.
 * @set: the set the ID belongs to
 * @idev: a registered device
 * @id: a live ID of @set
 *
 * The entry holds a reference on @id until it is cleared, by ioasid_unbind(),
 * by freeing @id or destroying @set, or by unregistering @idev; so @id is not
 * handed out again while the device may still use it.
 *
 * Context: Process context.
 * Return:
 * * %0 - programmed.
 * * %-ENOENT - @id is not a live ID of @set.
 * * %-EOVERFLOW - @id does not fit in the device's table.
 * * %-EEXIST - @id is in the device's table already.
 * * %-EBUSY - @id is in too many tables.
 * * %-ENODEV - @idev is not registered.
 * * %-ENOMEM, or the device's error.
 */
int ioasid_bind(struct ioasid_set *set, struct ioasid_device *idev,
		ioasid_t id)
{
	int ret;

	mutex_lock(&ioasid_devices_lock);
	ret = __ioasid_bind(set, idev, id);
	mutex_unlock(&ioasid_devices_lock);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(ioasid_bind);

/**
 * ioasid_unbind() - Clear an ID from a device's PASID table.
 * @set: the set the ID belongs to
 * @idev: a registered device
 * @id: the ID
 *
 * The device's driver clears its entry (clear_pasid), and the entry's
 * reference goes.
 *
 * Context: Process context.
 * Return: 0, -ENOENT if @set has not bound @id to @idev, or -ENODEV if
 * @idev is not registered.
 */
int ioasid_unbind(struct ioasid_set *set, struct ioasid_device *idev,
		  ioasid_t id)
{
	int ret;

	mutex_lock(&ioasid_devices_lock);
	ret = __ioasid_unbind(set, idev, id);
	mutex_unlock(&ioasid_devices_lock);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(ioasid_unbind);

/*
 * The device a file of its node belongs to, if its own driver opened it on
 * that device: a node's number outlives a removed device.
 */
static struct ioasid_device *ioasid_device_find(struct file *file)
{
	struct inode *inode = file_inode(file);
	struct ioasid_device *idev;

	lockdep_assert_held(&ioasid_devices_lock);
	if (!S_ISCHR(inode->i_mode))
		return NULL;
	list_for_each_entry(idev, &ioasid_devices, list) {
		if (idev->devt && idev->devt == inode->i_rdev &&
		    file->f_op == idev->fops && idev->ops->owns_file(idev, file))
			return idev;
	}
	return NULL;
}

/**
 * ioasid_bind_file() - ioasid_bind() or ioasid_unbind() to the device of a
 *	file user space opened.
 * @set: the set the ID belongs to
 * @file: a file of the device's character node
 * @id: the ID
 * @bind: bind, or unbind
 *
 * The file must have been opened for writing, through the driver that
 * registered the device (its @fops): its node's file mode is what grants
 * the right to program the device, as with VFIO.
 *
 * Context: Process context.
 * Return: as ioasid_bind() or ioasid_unbind(); -ENODEV if @file is not a
 * registered device's; -EBADF if it is, but not open for writing.
 */
int ioasid_bind_file(struct ioasid_set *set, struct file *file, ioasid_t id,
		     bool bind)
{
	struct ioasid_device *idev;
	int ret = -ENODEV;

	mutex_lock(&ioasid_devices_lock);
	idev = ioasid_device_find(file);
	if (idev && !(file->f_mode & FMODE_WRITE))
		ret = -EBADF;
	else if (idev && bind)
		ret = __ioasid_bind(set, idev, id);
	else if (idev)
		ret = __ioasid_unbind(set, idev, id);
	mutex_unlock(&ioasid_devices_lock);
	return ret;
}

static void ioasid_set_free_ids(struct ioasid_set *set, const ioasid_t *ids,
				unsigned int n)
{
	unsigned int i;

	/* All live, unless a caller broke the rules: then free what is. */
	if (!WARN_ON(ioasid_free_batch(set, ids, n)))
		return;
	for (i = 0; i < n; i++)
		ioasid_free(set, ids[i]);
}

/**
 * ioasid_set_free() - Destroy a set: free every ID it holds.
 * @set: the set
 *
 * Each live ID goes through ioasid_free_batch(), so it leaves every PASID
 * table first. The set's own index is walked, not the
 * namespace. The set itself goes when its last ID is released. The owner
 * must not allocate in the set any more, nor concurrently.
 *
 * Context: Process context; preemptible however many IDs the set holds.
 */
void ioasid_set_free(struct ioasid_set *set)
{
	ioasid_t ids[IOASID_RESCHED_EVERY];
	unsigned long chunk, bits;
	unsigned int n = 0;
	void *entry;

	if (!set)
		return;
	mutex_lock(&set->lock);
	WRITE_ONCE(set->dead, true);
	mutex_unlock(&set->lock);

	xa_for_each(&set->ids, chunk, entry) {
		for (bits = xa_to_value(entry); bits; bits &= bits - 1) {
			ids[n++] = chunk * IOASID_CHUNK + __ffs(bits);
			if (n < ARRAY_SIZE(ids))
				continue;
			ioasid_set_free_ids(set, ids, n);
			n = 0;
			cond_resched();
		}
	}
	if (n)
		ioasid_set_free_ids(set, ids, n);
	ioasid_set_put(set);
}
EXPORT_SYMBOL_IF_KUNIT(ioasid_set_free);

/**
 * ioasid_mm_alloc() - Create @mm's set and allocate its PASID.
 * @mm: the address space, which has no PASID yet
 * @max: the highest acceptable PASID
 * @pasid: the PASID, on success
 *
 * The charge goes to the cgroup of the task calling this, the first one to
 * bind @mm, and stays there until ioasid_mm_drop(). The caller serialises
 * the calls for one mm (iommu_sva_lock).
 *
 * Context: Process context.
 * Return: 0 or a negative errno, as for ioasid_alloc().
 */
int ioasid_mm_alloc(struct mm_struct *mm, ioasid_t max, ioasid_t *pasid)
{
	struct ioasid_set *set;
	int ret;

	set = ioasid_set_alloc(IOASID_SET_TYPE_MM, mm, 0);
	if (IS_ERR(set))
		return PTR_ERR(set);
	ret = ioasid_alloc(set, IOASID_MIN, max, IOMMU_PASID_INVALID, pasid);
	if (!ret) {
		ret = xa_err(xa_store(&ioasid_mm_sets, *pasid, set,
				      IOASID_GFP));
		if (ret)
			ioasid_free(set, *pasid);
	}
	if (ret)
		ioasid_set_free(set);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(ioasid_mm_alloc);

/**
 * ioasid_mm_drop() - Release @mm's set and its PASID.
 * @mm: the address space
 * @pasid: its PASID
 *
 * Called from mm_pasid_drop() when the mm goes, in whatever task that
 * happens, possibly atomic (__mmdrop() from finish_task_switch()): it only
 * takes a plain spinlock and queues the set's destruction on a workqueue,
 * which uncharges the cgroup recorded at ioasid_mm_alloc().
 *
 * Context: Process or atomic context, not an interrupt. O(1).
 */
void ioasid_mm_drop(struct mm_struct *mm, ioasid_t pasid)
{
	struct ioasid_set *set;

	set = xa_erase(&ioasid_mm_sets, pasid);
	if (WARN_ON(!set || set->token != mm))
		return;
	queue_work(ioasid_wq, &set->free_work);
}
EXPORT_SYMBOL_IF_KUNIT(ioasid_mm_drop);

/**
 * ioasid_flush_mm_drops() - Wait until the sets of every mm dropped so far
 * are released and uncharged.
 *
 * Context: Process context.
 */
void ioasid_flush_mm_drops(void)
{
	flush_workqueue(ioasid_wq);
}
EXPORT_SYMBOL_IF_KUNIT(ioasid_flush_mm_drops);

/* A set's count, for debugfs: not while its cgroup changes. */
static unsigned int ioasid_set_count(struct ioasid_set *set)
{
	return atomic_read(&set->nr) & ~IOASID_NR_FROZEN;
}

static const char *const ioasid_type_name[] = {
	[IOASID_SET_TYPE_KERNEL] = "kernel",
	[IOASID_SET_TYPE_MM] = "mm",
	[IOASID_SET_TYPE_FD] = "fd",
};

static int ioasid_sets_show(struct seq_file *m, void *v)
{
	struct ioasid_set *set;
	char *path;

	path = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!path)
		return -ENOMEM;
	seq_printf(m, "# namespace [%u, %u) capacity %u\n", IOASID_MIN,
		   ioasid_max_pasids(), ioasids_cg_capacity());
	seq_puts(m, "# type cgroup quota count\n");
	spin_lock(&ioasid_sets_lock);
	list_for_each_entry(set, &ioasid_sets, list) {
		path[0] = '\0';
		ioasids_cg_path(set->cg, path, PATH_MAX, NULL);
		seq_printf(m, "%s %s %u %u%s\n", ioasid_type_name[set->type],
			   path[0] ? path : "-", READ_ONCE(set->quota),
			   ioasid_set_count(set),
			   READ_ONCE(set->dead) ? " dying" : "");
	}
	spin_unlock(&ioasid_sets_lock);
	kfree(path);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ioasid_sets);

static int __init ioasid_init(void)
{
	ioasid_cache = KMEM_CACHE(ioasid_data, SLAB_ACCOUNT);
	ioasid_wq = alloc_workqueue("ioasid", WQ_UNBOUND, 0);
	if (!ioasid_cache || !ioasid_wq)
		return -ENOMEM;

	spin_lock(&ioasid_limit_lock);
	ioasid_update_limit();
	spin_unlock(&ioasid_limit_lock);

	/* Kernel users' IDs are charged to the root cgroup: init's. */
	ioasid_kernel_set = ioasid_set_alloc(IOASID_SET_TYPE_KERNEL, NULL, 0);
	if (IS_ERR(ioasid_kernel_set))
		return PTR_ERR(ioasid_kernel_set);

	debugfs_create_file("sets", 0400, debugfs_create_dir("ioasid", NULL),
			    NULL, &ioasid_sets_fops);
	return 0;
}
core_initcall(ioasid_init);

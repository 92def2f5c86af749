// SPDX-License-Identifier: GPL-2.0
/*
 * IOASID core: the system-wide PCIe PASID namespace.
 *
 * Every PASID handed out on this system comes from here, whoever asks: the
 * kernel's own users through iommu_alloc_global_pasid(), a process's SVA
 * binding through its mm's set, user space through /dev/ioasid. Each ID
 * belongs to a set, and each set charges the ioasids cgroup that was current
 * when the set was created, for every ID, before the ID is allocated. The
 * ID is uncharged to that same cgroup when it is finally released.
 *
 * The namespace is an IDA (the lowest free ID in a range, from bitmaps of
 * 1024 IDs each: about one bit per ID) and each ID's data lives in its
 * set's xarray, looked up under RCU. Freeing an ID tells the set's
 * consumers (IOASID_NOTIFY_FREE) to tear down what they programmed with it
 * and drops the owner's reference; the ID goes back to the pool, and is
 * uncharged, only when the last reference goes, so it is never handed out
 * again while hardware may still use it.
 */
#define pr_fmt(fmt) "ioasid: " fmt

#include <linux/cgroup.h>
#include <linux/debugfs.h>
#include <linux/idr.h>
#include <linux/init.h>
#include <linux/ioasid.h>
#include <linux/ioasids_cgroup.h>
#include <linux/list.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

/* PASID 0 is IOMMU_NO_PASID: DMA without a PASID. */
#define IOASID_MIN		IOMMU_FIRST_GLOBAL_PASID
#define IOASID_MAX_PASIDS	IOASIDS_MAX_CAPACITY

/**
 * struct ioasid_set - a group of IDs with one owner and one cgroup
 * @type: the &enum ioasid_set_type
 * @token: the mm for %IOASID_SET_TYPE_MM, the owner's cookie otherwise
 * @cg: the ioasids cgroup charged for every ID, recorded at creation
 * @lock: serialises changes to @quota, @nr, @dead, @ids, @spids and the
 *	IDs' freed and spid fields; lookups use RCU
 * @quota: the set's own quota, 0 for none
 * @nr: IDs charged to the set, freed-but-referenced ones included
 * @dead: the owner destroyed the set; no more allocations
 * @ids: ID -> struct ioasid_data, for the IDs the set holds
 * @spids: private ID -> struct ioasid_data
 * @ref: one for the owner, one per ID still charged
 * @nh: the set's notifiers
 * @list: entry in ioasid_sets
 * @free_work: destroys an mm's set outside of mmdrop's context
 */
struct ioasid_set {
	enum ioasid_set_type type;
	void *token;
	struct ioasids_cgroup *cg;
	struct mutex lock;	/* see @lock above */
	unsigned int quota;
	unsigned int nr;
	bool dead;
	struct xarray ids;
	struct xarray spids;
	refcount_t ref;
	struct blocking_notifier_head nh;
	struct list_head list;
	struct work_struct free_work;
};

/*
 * One per live ID: 40 bytes from its own cache, plus two xarray slots.
 * @nr_bonds counts the devices whose PASID table holds the ID, each with a
 * reference; it changes under both ioasid_devices_lock and the set's lock.
 */
struct ioasid_data {
	struct ioasid_set *set;
	refcount_t users;
	ioasid_t id;
	ioasid_t spid;
	bool freed;
	u16 nr_bonds;
	struct rcu_head rcu;
};

static DEFINE_IDA(ioasid_ida);
static struct kmem_cache *ioasid_cache;
static struct workqueue_struct *ioasid_wq;	/* mm sets' teardown */

static LIST_HEAD(ioasid_sets);
static DEFINE_SPINLOCK(ioasid_sets_lock);
static BLOCKING_NOTIFIER_HEAD(ioasid_global_nh);

/* Registered devices and their PASID tables; taken before any set's lock. */
static LIST_HEAD(ioasid_devices);
static DEFINE_MUTEX(ioasid_devices_lock);

/* The namespace is [IOASID_MIN, ioasid_limit); 0 until something sets it. */
static DEFINE_SPINLOCK(ioasid_limit_lock);
static u32 ioasid_hw_max_pasids;
static u32 ioasid_limit;

static unsigned int max_pasids;
module_param(max_pasids, uint, 0444);
MODULE_PARM_DESC(max_pasids,
		 "Size of the PASID namespace: lowers what the IOMMUs support, or defines it when none registers (default: the IOMMUs')");

struct ioasid_set *ioasid_kernel_set;
EXPORT_SYMBOL_GPL(ioasid_kernel_set);

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
 * The namespace is bounded by the smallest non-zero count registered, at most
 * 2^20, and reported to the ioasids controller as its capacity. IDs already
 * handed out above a lowered bound stay valid until freed.
 *
 * Context: Any context.
 */
void ioasid_register_max_pasids(u32 max_pasids)
{
	if (!max_pasids)
		return;
	spin_lock(&ioasid_limit_lock);
	if (!ioasid_hw_max_pasids || max_pasids < ioasid_hw_max_pasids)
		ioasid_hw_max_pasids = max_pasids;
	ioasid_update_limit();
	spin_unlock(&ioasid_limit_lock);
}
EXPORT_SYMBOL_GPL(ioasid_register_max_pasids);

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
EXPORT_SYMBOL_GPL(ioasid_max_pasids);

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
EXPORT_SYMBOL_GPL(ioasid_test_swap_hw_max_pasids);
#endif

static void ioasid_set_free_work(struct work_struct *work)
{
	ioasid_set_free(container_of(work, struct ioasid_set, free_work));
}

/**
 * ioasid_set_alloc() - Create a set charged to the current task's cgroup.
 * @type: the &enum ioasid_set_type
 * @token: the mm for %IOASID_SET_TYPE_MM (required, one set per mm); an
 *	opaque cookie of the owner otherwise
 * @quota: the most IDs the set may hold, 0 for no quota of its own
 *
 * Every ID the set allocates is charged to the ioasids cgroup of the task
 * calling this, whatever task allocates or frees it later.
 *
 * Context: Process context.
 * Return: The set, or ERR_PTR(-EINVAL) for a bad @type or a missing mm,
 * ERR_PTR(-EEXIST) if @token's mm has a set already, ERR_PTR(-ENOMEM).
 */
struct ioasid_set *ioasid_set_alloc(enum ioasid_set_type type, void *token,
				    unsigned int quota)
{
	struct ioasid_set *set, *i;

	if (type > IOASID_SET_TYPE_FD || (type == IOASID_SET_TYPE_MM && !token))
		return ERR_PTR(-EINVAL);

	set = kzalloc(sizeof(*set), GFP_KERNEL_ACCOUNT);
	if (!set)
		return ERR_PTR(-ENOMEM);
	set->type = type;
	set->token = token;
	set->quota = quota;
	mutex_init(&set->lock);
	xa_init(&set->ids);
	xa_init(&set->spids);
	refcount_set(&set->ref, 1);
	BLOCKING_INIT_NOTIFIER_HEAD(&set->nh);
	INIT_WORK(&set->free_work, ioasid_set_free_work);
	set->cg = ioasids_cg_get_current();

	spin_lock(&ioasid_sets_lock);
	if (type == IOASID_SET_TYPE_MM) {
		list_for_each_entry(i, &ioasid_sets, list) {
			if (i->type == type && i->token == token && !i->dead) {
				spin_unlock(&ioasid_sets_lock);
				ioasids_cg_put(set->cg);
				kfree(set);
				return ERR_PTR(-EEXIST);
			}
		}
	}
	list_add_tail(&set->list, &ioasid_sets);
	spin_unlock(&ioasid_sets_lock);
	ioasids_cg_set_attach(set->cg);
	return set;
}
EXPORT_SYMBOL_GPL(ioasid_set_alloc);

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

	spin_lock(&ioasid_sets_lock);
	list_del(&set->list);
	spin_unlock(&ioasid_sets_lock);
	WARN_ON(set->nr || !xa_empty(&set->ids));
	xa_destroy(&set->spids);
	ioasids_cg_set_detach(set->cg);
	ioasids_cg_put(set->cg);
	mutex_destroy(&set->lock);
	kfree(set);
}
EXPORT_SYMBOL_GPL(ioasid_set_put);

/**
 * ioasid_set_find_mm() - Find the set of an address space.
 * @mm: the mm
 *
 * Context: Any context.
 * Return: The mm's set with a reference the caller drops with
 * ioasid_set_put(), or %NULL.
 */
struct ioasid_set *ioasid_set_find_mm(struct mm_struct *mm)
{
	struct ioasid_set *set, *found = NULL;

	spin_lock(&ioasid_sets_lock);
	list_for_each_entry(set, &ioasid_sets, list) {
		if (set->type == IOASID_SET_TYPE_MM && set->token == mm &&
		    !set->dead && refcount_inc_not_zero(&set->ref)) {
			found = set;
			break;
		}
	}
	spin_unlock(&ioasid_sets_lock);
	return found;
}
EXPORT_SYMBOL_GPL(ioasid_set_find_mm);

/**
 * ioasid_set_set_quota() - Change a set's own quota.
 * @set: the set
 * @quota: the most IDs it may hold, 0 for none; the cgroup's ioasids.max
 *	applies whatever the quota
 *
 * A quota below the set's count is accepted and refuses new IDs until the
 * count drops below it.
 *
 * Context: Process context.
 * Return: 0.
 */
int ioasid_set_set_quota(struct ioasid_set *set, unsigned int quota)
{
	mutex_lock(&set->lock);
	set->quota = quota;
	mutex_unlock(&set->lock);
	return 0;
}
EXPORT_SYMBOL_GPL(ioasid_set_set_quota);

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
	u32 room;

	mutex_lock(&set->lock);
	info->type = set->type;
	info->quota = set->quota;
	info->count = set->nr;
	room = ioasids_cg_room(set->cg);
	if (set->quota)
		room = min(room, set->quota > set->nr ? set->quota - set->nr : 0);
	mutex_unlock(&set->lock);
	info->capacity = limit > IOASID_MIN ? limit - IOASID_MIN : 0;
	info->room = min(room, info->capacity);
}
EXPORT_SYMBOL_GPL(ioasid_set_get_info);

static void ioasid_call(struct ioasid_set *set, enum ioasid_event event,
			struct ioasid_data *data, void *priv)
{
	struct ioasid_nb_args args = {
		.id = data->id,
		.spid = data->spid,
		.set = set,
		.priv = priv,
	};

	blocking_notifier_call_chain(&set->nh, event, &args);
	blocking_notifier_call_chain(&ioasid_global_nh, event, &args);
}

/* Drop a reference; the last one returns the ID to the pool and uncharges. */
static void ioasid_put_data(struct ioasid_data *data)
{
	struct ioasid_set *set = data->set;

	if (!refcount_dec_and_test(&data->users))
		return;

	mutex_lock(&set->lock);
	xa_erase(&set->ids, data->id);
	if (data->spid != IOMMU_PASID_INVALID)
		xa_erase(&set->spids, data->spid);
	set->nr--;
	mutex_unlock(&set->lock);

	ida_free(&ioasid_ida, data->id);
	ioasids_cg_uncharge(set->cg, ioasid_kind(set), 1);
	kfree_rcu(data, rcu);
	ioasid_set_put(set);
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

/* Release IDs that were never handed out: no notifier has seen them. */
static void ioasid_unwind(struct ioasid_set *set, ioasid_t *ids, unsigned int n)
{
	struct ioasid_data *data;

	while (n--) {
		mutex_lock(&set->lock);
		data = xa_erase(&set->ids, ids[n]);
		if (data->spid != IOMMU_PASID_INVALID)
			xa_erase(&set->spids, data->spid);
		mutex_unlock(&set->lock);
		ida_free(&ioasid_ida, ids[n]);
		kfree_rcu(data, rcu);
		refcount_dec(&set->ref);
	}
}

static int __ioasid_alloc(struct ioasid_set *set, ioasid_t min, ioasid_t max,
			  unsigned int n, ioasid_t spid, ioasid_t *ids)
{
	struct ioasid_data *data;
	unsigned int i;
	u32 id;
	int ret;

	if (!set || !ids || !n)
		return -EINVAL;
	ret = ioasid_range(&min, &max);
	if (ret)
		return ret;
	if (n > max - min + 1)
		return -ENOSPC;

	/* Charge first: nothing is allocated for a charge that is refused. */
	ret = ioasids_cg_try_charge(set->cg, ioasid_kind(set), n);
	if (ret)
		return ret;

	mutex_lock(&set->lock);
	if (set->dead)
		ret = -ENOENT;
	else if (set->quota && (set->nr > set->quota ||
				n > set->quota - set->nr))
		ret = -EDQUOT;
	else
		set->nr += n;
	mutex_unlock(&set->lock);
	if (ret)
		goto uncharge;

	for (i = 0; i < n; i++) {
		data = kmem_cache_alloc(ioasid_cache, GFP_KERNEL_ACCOUNT);
		if (!data) {
			ret = -ENOMEM;
			goto unwind;
		}
		data->set = set;
		refcount_set(&data->users, 1);
		data->spid = IOMMU_PASID_INVALID;
		data->freed = false;
		data->nr_bonds = 0;

		/* ida_alloc_range() says -ENOSPC when the range is full. */
		ret = ida_alloc_range(&ioasid_ida, min, max, GFP_KERNEL_ACCOUNT);
		if (ret < 0) {
			kmem_cache_free(ioasid_cache, data);
			goto unwind;
		}
		id = ret;
		data->id = id;

		mutex_lock(&set->lock);
		ret = xa_insert(&set->ids, id, data, GFP_KERNEL_ACCOUNT);
		if (!ret && spid != IOMMU_PASID_INVALID) {
			ret = xa_insert(&set->spids, spid, data,
					GFP_KERNEL_ACCOUNT);
			if (ret)
				xa_erase(&set->ids, id);
			else
				data->spid = spid;
		}
		mutex_unlock(&set->lock);
		if (ret) {
			ida_free(&ioasid_ida, id);
			kfree_rcu(data, rcu);
			if (ret == -EBUSY)
				ret = -EEXIST;
			goto unwind;
		}
		refcount_inc(&set->ref);
		ids[i] = id;
	}

	for (i = 0; i < n; i++) {
		data = xa_load(&set->ids, ids[i]);
		ioasid_call(set, IOASID_NOTIFY_ALLOC, data, NULL);
	}
	return 0;

unwind:
	ioasid_unwind(set, ids, i);
	mutex_lock(&set->lock);
	set->nr -= n;
	mutex_unlock(&set->lock);
uncharge:
	ioasids_cg_uncharge(set->cg, ioasid_kind(set), n);
	return ret;
}

/**
 * ioasid_alloc() - Allocate one ID in a set.
 * @set: the set
 * @min: the lowest acceptable ID (0 means the lowest there is, 1)
 * @max: the highest acceptable ID, bounded by the namespace
 * @spid: a private ID to attach, unique in @set, or %IOMMU_PASID_INVALID
 * @id: the ID, on success
 *
 * Charges the set's cgroup first, then checks the set's quota, then takes the
 * lowest free ID in the range. On failure nothing is held or charged.
 *
 * Context: Process context.
 * Return:
 * * %0 - allocated.
 * * %-EDQUOT - the set's quota or an ioasids.max on its cgroup's path.
 * * %-ENOSPC - no free ID in [@min, @max] or the system's capacity.
 * * %-EEXIST - @spid is in use in @set.
 * * %-EINVAL - @min > @max.
 * * %-ENOENT - the set is being destroyed.
 * * %-ENOMEM.
 */
int ioasid_alloc(struct ioasid_set *set, ioasid_t min, ioasid_t max,
		 ioasid_t spid, ioasid_t *id)
{
	return __ioasid_alloc(set, min, max, 1, spid, id);
}
EXPORT_SYMBOL_GPL(ioasid_alloc);

/**
 * ioasid_alloc_batch() - Allocate @n IDs in a set, all or nothing.
 * @set: the set
 * @min: the lowest acceptable ID
 * @max: the highest acceptable ID
 * @n: how many
 * @ids: an array of @n, filled in on success
 *
 * One charge of @n; errors as for ioasid_alloc(), and nothing is held after
 * any of them.
 *
 * Context: Process context.
 * Return: 0 or a negative errno, as for ioasid_alloc().
 */
int ioasid_alloc_batch(struct ioasid_set *set, ioasid_t min, ioasid_t max,
		       unsigned int n, ioasid_t *ids)
{
	return __ioasid_alloc(set, min, max, n, IOMMU_PASID_INVALID, ids);
}
EXPORT_SYMBOL_GPL(ioasid_alloc_batch);

/* The set's live (not freed) data for @id, with set->lock held. */
static struct ioasid_data *ioasid_find_locked(struct ioasid_set *set,
					      ioasid_t id)
{
	struct ioasid_data *data = xa_load(&set->ids, id);

	return data && !data->freed ? data : NULL;
}

/* Remove @data's ID from one device's table and drop that entry's ref. */
static void ioasid_clear_entry(struct ioasid_device *idev,
			       struct ioasid_data *data)
{
	struct ioasid_set *set = data->set;

	lockdep_assert_held(&ioasid_devices_lock);
	idev->ops->clear_pasid(idev, data->id);
	xa_erase(&idev->table, data->id);
	ioasid_call(set, IOASID_NOTIFY_UNBIND, data, idev);
	mutex_lock(&set->lock);
	data->nr_bonds--;
	mutex_unlock(&set->lock);
	ioasid_put_data(data);
}

/* A freed ID leaves every PASID table before it can go back to the pool. */
static void ioasid_unbind_all(struct ioasid_data *data)
{
	struct ioasid_device *idev;

	mutex_lock(&ioasid_devices_lock);
	list_for_each_entry(idev, &ioasid_devices, list) {
		if (xa_load(&idev->table, data->id) == data)
			ioasid_clear_entry(idev, data);
	}
	mutex_unlock(&ioasid_devices_lock);
}

/**
 * ioasid_free_batch() - Give @n IDs back, all or nothing.
 * @set: the set that allocated them
 * @ids: the IDs
 * @n: how many
 *
 * As ioasid_free() for each, but if any of @ids is not a live ID of @set, or
 * is listed twice, none is freed.
 *
 * Context: Process context.
 * Return: 0, or -ENOENT and nothing freed.
 */
int ioasid_free_batch(struct ioasid_set *set, const ioasid_t *ids,
		      unsigned int n)
{
	struct ioasid_data *data;
	unsigned int i;

	mutex_lock(&set->lock);
	for (i = 0; i < n; i++) {
		data = ioasid_find_locked(set, ids[i]);
		if (!data)
			break;
		WRITE_ONCE(data->freed, true);
	}
	if (i < n) {
		/* Undo: every ID before i was live and is not freed twice. */
		while (i--) {
			data = xa_load(&set->ids, ids[i]);
			WRITE_ONCE(data->freed, false);
		}
		mutex_unlock(&set->lock);
		return -ENOENT;
	}
	mutex_unlock(&set->lock);

	for (i = 0; i < n; i++) {
		data = xa_load(&set->ids, ids[i]);
		ioasid_call(set, IOASID_NOTIFY_FREE, data, NULL);
		/*
		 * No new bond can start on a freed ID; one that started before
		 * is counted already, and ioasid_unbind_all() waits for it.
		 */
		if (READ_ONCE(data->nr_bonds))
			ioasid_unbind_all(data);
		ioasid_put_data(data);
	}
	return 0;
}
EXPORT_SYMBOL_GPL(ioasid_free_batch);

/**
 * ioasid_free() - Give an ID back.
 * @set: the set that allocated it
 * @id: the ID
 *
 * Tells the set's consumers (%IOASID_NOTIFY_FREE) to tear down what they
 * programmed with @id and drops the owner's reference. The ID stays reserved
 * and charged while consumers hold references, and goes back to the pool,
 * uncharged, with the last ioasid_put().
 *
 * Context: Process context.
 * Return: 0, or -ENOENT if @id is not a live ID of @set: never allocated,
 * freed already, or another set's (which is not told apart, so that a set
 * learns nothing about others).
 */
int ioasid_free(struct ioasid_set *set, ioasid_t id)
{
	return ioasid_free_batch(set, &id, 1);
}
EXPORT_SYMBOL_GPL(ioasid_free);

/**
 * ioasid_get() - Take a reference on a live ID.
 * @set: the set the ID belongs to
 * @id: the ID
 *
 * A consumer that programs @id into hardware holds a reference until the
 * hardware no longer uses it, so that the ID is not handed out again before.
 *
 * Context: Any context.
 * Return: 0, or -ENOENT if @id is not a live ID of @set.
 */
int ioasid_get(struct ioasid_set *set, ioasid_t id)
{
	struct ioasid_data *data;
	int ret = -ENOENT;

	rcu_read_lock();
	data = xa_load(&set->ids, id);
	if (data && !READ_ONCE(data->freed) &&
	    refcount_inc_not_zero(&data->users))
		ret = 0;
	rcu_read_unlock();
	return ret;
}
EXPORT_SYMBOL_GPL(ioasid_get);

/**
 * ioasid_put() - Drop a reference taken with ioasid_get().
 * @set: the set the ID belongs to
 * @id: the ID
 *
 * Context: Process context.
 */
void ioasid_put(struct ioasid_set *set, ioasid_t id)
{
	struct ioasid_data *data;

	/* The caller's reference keeps @id in the set. */
	data = xa_load(&set->ids, id);
	if (WARN_ON(!data))
		return;
	ioasid_put_data(data);
}
EXPORT_SYMBOL_GPL(ioasid_put);

/**
 * ioasid_attach_spid() - Attach a private ID (e.g. a guest PASID) to an ID.
 * @set: the set
 * @id: a live ID of @set
 * @spid: the private ID, unique in @set
 *
 * Context: Process context.
 * Return: 0; -ENOENT if @id is not a live ID of @set; -EBUSY if @id has a
 * private ID already; -EEXIST if @spid is taken in @set; -EINVAL for
 * %IOMMU_PASID_INVALID; -ENOMEM.
 */
int ioasid_attach_spid(struct ioasid_set *set, ioasid_t id, ioasid_t spid)
{
	struct ioasid_data *data;
	int ret;

	if (spid == IOMMU_PASID_INVALID)
		return -EINVAL;
	mutex_lock(&set->lock);
	data = ioasid_find_locked(set, id);
	if (!data) {
		ret = -ENOENT;
	} else if (data->spid != IOMMU_PASID_INVALID) {
		ret = -EBUSY;
	} else {
		ret = xa_insert(&set->spids, spid, data, GFP_KERNEL_ACCOUNT);
		if (ret == -EBUSY)
			ret = -EEXIST;
		if (!ret)
			WRITE_ONCE(data->spid, spid);
	}
	mutex_unlock(&set->lock);
	return ret;
}
EXPORT_SYMBOL_GPL(ioasid_attach_spid);

/**
 * ioasid_detach_spid() - Detach the private ID of an ID.
 * @set: the set
 * @id: a live ID of @set
 *
 * Context: Process context.
 * Return: 0, or -ENOENT if @id is not a live ID of @set or has no private ID.
 */
int ioasid_detach_spid(struct ioasid_set *set, ioasid_t id)
{
	struct ioasid_data *data;
	int ret = -ENOENT;

	mutex_lock(&set->lock);
	data = ioasid_find_locked(set, id);
	if (data && data->spid != IOMMU_PASID_INVALID) {
		xa_erase(&set->spids, data->spid);
		WRITE_ONCE(data->spid, IOMMU_PASID_INVALID);
		ret = 0;
	}
	mutex_unlock(&set->lock);
	return ret;
}
EXPORT_SYMBOL_GPL(ioasid_detach_spid);

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
	if (data && !READ_ONCE(data->freed)) {
		*id = data->id;
		ret = 0;
	}
	rcu_read_unlock();
	return ret;
}
EXPORT_SYMBOL_GPL(ioasid_find_by_spid);

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
	data = xa_load(&set->ids, id);
	if (data && !READ_ONCE(data->freed)) {
		found = READ_ONCE(data->spid);
		if (found != IOMMU_PASID_INVALID) {
			*spid = found;
			ret = 0;
		}
	}
	rcu_read_unlock();
	return ret;
}
EXPORT_SYMBOL_GPL(ioasid_find_spid);

/**
 * ioasid_register_notifier() - Be told about a set's IDs, or everyone's.
 * @set: the set, or %NULL for every set
 * @nb: the notifier; its priority orders it: %IOASID_PRIO_DEVICE, then
 *	%IOASID_PRIO_IOMMU, then %IOASID_PRIO_CPU
 *
 * The callback gets an &enum ioasid_event and a &struct ioasid_nb_args. A
 * set's notifiers run before the global ones; within each, higher priority
 * first. Callbacks run in process context and may sleep, but must not call
 * back into the core for the same set except ioasid_put().
 *
 * Context: Process context.
 * Return: 0.
 */
int ioasid_register_notifier(struct ioasid_set *set, struct notifier_block *nb)
{
	return blocking_notifier_chain_register(set ? &set->nh :
						&ioasid_global_nh, nb);
}
EXPORT_SYMBOL_GPL(ioasid_register_notifier);

/**
 * ioasid_unregister_notifier() - Undo ioasid_register_notifier().
 * @set: the set, or %NULL
 * @nb: the notifier
 *
 * Context: Process context.
 */
void ioasid_unregister_notifier(struct ioasid_set *set,
				struct notifier_block *nb)
{
	blocking_notifier_chain_unregister(set ? &set->nh : &ioasid_global_nh,
					   nb);
}
EXPORT_SYMBOL_GPL(ioasid_unregister_notifier);

/**
 * ioasid_notify() - Tell an ID's set and everyone about a BIND or UNBIND.
 * @set: the set
 * @id: a live ID of @set
 * @event: %IOASID_NOTIFY_BIND or %IOASID_NOTIFY_UNBIND
 * @priv: the consumer's cookie
 *
 * Context: Process context.
 */
void ioasid_notify(struct ioasid_set *set, enum ioasid_event event,
		   ioasid_t id, void *priv)
{
	struct ioasid_data *data;

	mutex_lock(&set->lock);
	data = xa_load(&set->ids, id);
	mutex_unlock(&set->lock);
	if (data)
		ioasid_call(set, event, data, priv);
}
EXPORT_SYMBOL_GPL(ioasid_notify);

/**
 * ioasid_device_register() - Tell the core about a device's PASID table.
 * @idev: the device, with @dev, @devt, @max_pasids and @ops filled in
 *
 * From then on IDs are programmed into the device with ioasid_bind(), or
 * IOASID_BIND on /dev/ioasid naming @devt, and cleared from it when they are
 * unbound, when they are freed, and when the device is unregistered.
 *
 * Context: Process context.
 * Return: 0; -EINVAL for missing ops or a table with no room for an ID;
 * -EEXIST if a device with the same @devt is registered.
 */
int ioasid_device_register(struct ioasid_device *idev)
{
	struct ioasid_device *i;
	int ret = 0;

	if (!idev->ops || !idev->ops->set_pasid || !idev->ops->clear_pasid ||
	    idev->max_pasids <= IOASID_MIN)
		return -EINVAL;
	xa_init(&idev->table);

	mutex_lock(&ioasid_devices_lock);
	list_for_each_entry(i, &ioasid_devices, list) {
		if (idev->devt && i->devt == idev->devt) {
			ret = -EEXIST;
			break;
		}
	}
	if (!ret)
		list_add_tail(&idev->list, &ioasid_devices);
	mutex_unlock(&ioasid_devices_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(ioasid_device_register);

/**
 * ioasid_device_unregister() - Clear a device's table and forget it.
 * @idev: a device registered with ioasid_device_register()
 *
 * Every ID programmed into the device is cleared (%IOASID_NOTIFY_UNBIND) and
 * its entry's reference dropped.
 *
 * Context: Process context.
 */
void ioasid_device_unregister(struct ioasid_device *idev)
{
	struct ioasid_data *data;
	unsigned long id;

	mutex_lock(&ioasid_devices_lock);
	xa_for_each(&idev->table, id, data)
		ioasid_clear_entry(idev, data);
	list_del(&idev->list);
	mutex_unlock(&ioasid_devices_lock);
	xa_destroy(&idev->table);
}
EXPORT_SYMBOL_GPL(ioasid_device_unregister);

static int __ioasid_bind(struct ioasid_set *set, struct ioasid_device *idev,
			 ioasid_t id)
{
	struct ioasid_data *data;
	int ret = 0;

	lockdep_assert_held(&ioasid_devices_lock);

	mutex_lock(&set->lock);
	data = ioasid_find_locked(set, id);
	if (!data)
		ret = -ENOENT;
	else if (id >= idev->max_pasids)
		ret = -EOVERFLOW;
	else if (xa_load(&idev->table, id))
		ret = -EEXIST;
	else if (data->nr_bonds == U16_MAX)
		ret = -EBUSY;
	if (!ret) {
		/* The entry's reference, counted before the ID can be freed. */
		refcount_inc(&data->users);
		data->nr_bonds++;
	}
	mutex_unlock(&set->lock);
	if (ret)
		return ret;

	ret = xa_insert(&idev->table, id, data, GFP_KERNEL_ACCOUNT);
	if (!ret) {
		ret = idev->ops->set_pasid(idev, id);
		if (ret)
			xa_erase(&idev->table, id);
	}
	if (ret) {
		mutex_lock(&set->lock);
		data->nr_bonds--;
		mutex_unlock(&set->lock);
		ioasid_put_data(data);
		return ret;
	}
	ioasid_call(set, IOASID_NOTIFY_BIND, data, idev);
	return 0;
}

static int __ioasid_unbind(struct ioasid_set *set, struct ioasid_device *idev,
			   ioasid_t id)
{
	struct ioasid_data *data;

	lockdep_assert_held(&ioasid_devices_lock);
	data = xa_load(&idev->table, id);
	if (!data || data->set != set)
		return -ENOENT;
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
 * handed out again while the device may still use it. Notifies
 * %IOASID_NOTIFY_BIND with @idev as the cookie.
 *
 * Context: Process context.
 * Return:
 * * %0 - programmed.
 * * %-ENOENT - @id is not a live ID of @set.
 * * %-EOVERFLOW - @id does not fit in the device's table.
 * * %-EEXIST - @id is in the device's table already.
 * * %-EBUSY - @id is in too many tables.
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
EXPORT_SYMBOL_GPL(ioasid_bind);

/**
 * ioasid_unbind() - Clear an ID from a device's PASID table.
 * @set: the set the ID belongs to
 * @idev: a registered device
 * @id: the ID
 *
 * Notifies %IOASID_NOTIFY_UNBIND and drops the entry's reference.
 *
 * Context: Process context.
 * Return: 0, or -ENOENT if @set has not bound @id to @idev.
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
EXPORT_SYMBOL_GPL(ioasid_unbind);

static struct ioasid_device *ioasid_device_find(dev_t devt)
{
	struct ioasid_device *idev;

	lockdep_assert_held(&ioasid_devices_lock);
	list_for_each_entry(idev, &ioasid_devices, list) {
		if (devt && idev->devt == devt)
			return idev;
	}
	return NULL;
}

/**
 * ioasid_bind_devt() - ioasid_bind() to the device user space opened.
 * @set: the set the ID belongs to
 * @devt: the character device number of the device
 * @id: a live ID of @set
 *
 * Context: Process context.
 * Return: as ioasid_bind(), or -ENODEV if no device registered @devt.
 */
int ioasid_bind_devt(struct ioasid_set *set, dev_t devt, ioasid_t id)
{
	struct ioasid_device *idev;
	int ret = -ENODEV;

	mutex_lock(&ioasid_devices_lock);
	idev = ioasid_device_find(devt);
	if (idev)
		ret = __ioasid_bind(set, idev, id);
	mutex_unlock(&ioasid_devices_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(ioasid_bind_devt);

/**
 * ioasid_unbind_devt() - ioasid_unbind() from the device user space opened.
 * @set: the set the ID belongs to
 * @devt: the character device number of the device
 * @id: the ID
 *
 * Context: Process context.
 * Return: as ioasid_unbind(), or -ENODEV if no device registered @devt.
 */
int ioasid_unbind_devt(struct ioasid_set *set, dev_t devt, ioasid_t id)
{
	struct ioasid_device *idev;
	int ret = -ENODEV;

	mutex_lock(&ioasid_devices_lock);
	idev = ioasid_device_find(devt);
	if (idev)
		ret = __ioasid_unbind(set, idev, id);
	mutex_unlock(&ioasid_devices_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(ioasid_unbind_devt);

/**
 * ioasid_set_free() - Destroy a set: free every ID it holds.
 * @set: the set
 *
 * Each live ID goes through ioasid_free(), so consumers tear their hardware
 * state down first. The set itself goes when its last ID is released.
 *
 * Context: Process context.
 */
void ioasid_set_free(struct ioasid_set *set)
{
	struct ioasid_data *data;
	unsigned long id;

	if (!set)
		return;
	mutex_lock(&set->lock);
	set->dead = true;
	mutex_unlock(&set->lock);

	xa_for_each(&set->ids, id, data)
		ioasid_free(set, id);
	ioasid_set_put(set);
}
EXPORT_SYMBOL_GPL(ioasid_set_free);

/**
 * ioasid_mm_alloc() - Create @mm's set and allocate its PASID.
 * @mm: the address space
 * @max: the highest acceptable PASID
 * @pasid: the PASID, on success
 *
 * The charge goes to the cgroup of the task calling this, the first one to
 * bind @mm, and stays there until ioasid_mm_drop().
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
	if (ret)
		ioasid_set_free(set);
	return ret;
}
EXPORT_SYMBOL_GPL(ioasid_mm_alloc);

/**
 * ioasid_mm_drop() - Release @mm's set and its PASID.
 * @mm: the address space
 * @pasid: its PASID
 *
 * Called from mm_pasid_drop() when the mm goes, in whatever task and context
 * that happens; the set is destroyed from a workqueue, which uncharges the
 * cgroup recorded at ioasid_mm_alloc().
 *
 * Context: Any context.
 */
void ioasid_mm_drop(struct mm_struct *mm, ioasid_t pasid)
{
	struct ioasid_set *set, *found = NULL;

	spin_lock(&ioasid_sets_lock);
	list_for_each_entry(set, &ioasid_sets, list) {
		if (set->type == IOASID_SET_TYPE_MM && set->token == mm &&
		    !set->dead) {
			/* Hide it from lookups by an mm that may be reused. */
			set->token = NULL;
			found = set;
			break;
		}
	}
	spin_unlock(&ioasid_sets_lock);
	if (!WARN_ON(!found))
		queue_work(ioasid_wq, &found->free_work);
}
EXPORT_SYMBOL_GPL(ioasid_mm_drop);

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
EXPORT_SYMBOL_GPL(ioasid_flush_mm_drops);

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
#ifdef CONFIG_CGROUP_IOASIDS
		if (set->cg)
			cgroup_path(set->cg->css.cgroup, path, PATH_MAX);
#endif
		seq_printf(m, "%s %s %u %u%s\n", ioasid_type_name[set->type],
			   path[0] ? path : "-", READ_ONCE(set->quota),
			   READ_ONCE(set->nr), set->dead ? " dying" : "");
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

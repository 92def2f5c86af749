// SPDX-License-Identifier: GPL-2.0
/*
 * IOASID (PCIe PASID) cgroup controller
 *
 * PASIDs come from one system-wide namespace of at most 2^20 IDs, shared by
 * every device doing shared work queues (ENQCMD) or SVA. This controller makes
 * them a limited, accounted resource: every path that hands one out charges
 * the cgroup that owns the allocation, and uncharges that same cgroup, the one
 * recorded at charge time, when it is released. Charges do not follow
 * migrating tasks, as with the misc controller and memcg. A cgroup that is
 * removed, or whose parent stops enabling the controller, keeps its limit
 * for whatever is still charged to it, as pids.max, misc.max and
 * memory.max do: a limit never lifts by itself.
 *
 * The charge walk mirrors misc_cg_try_charge(): one atomic operation per
 * level from the charged cgroup up to the root, all-or-nothing, with no lock.
 * Each level's counts live in one word: what is granted (ioasids.current),
 * what charges in flight hold against the limits, and the high-water mark. A
 * charge reserves its room in every level below the root, where a limit
 * above may still refuse it, and takes the root's at once, where nothing
 * can; then a second walk turns the reservations below into grants. A
 * one-step charge passes the levels without a limit by in the first walk
 * and grants them in the second (ioasids_skip()); once a walk found no
 * limit below the root (within the first 64 levels), the next one-step
 * charges of that cgroup take the root's room at once and only the second
 * walk is left, until a write gives some cgroup a limit
 * (ioasids_path_unlimited()). A grant is one cmpxchg per level, which
 * raises the level's mark too. A refused charge never touches the word of
 * the level that refused it, and only the reserved count of the levels
 * below: it shows in no current and no peak. An uncharge is one
 * subtraction per level.
 */

#include <kunit/static_stub.h>
#include <kunit/test-bug.h>
#include <kunit/visibility.h>
#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/cgroup.h>
#include <linux/ctype.h>
#include <linux/errno.h>
#include <linux/ioasids_cgroup.h>
#include <linux/kernel.h>
#include <linux/limits.h>
#include <linux/minmax.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/ratelimit.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>

#include "ioasids_internal.h"

#define IOASIDS_MAX_STR		"max"
#define IOASIDS_MAX_NUM		U64_MAX
#define OFP_PEAK_UNSET		(-1UL)

static const char *const ioasids_kind_name[IOASIDS_NR_KINDS] = {
	[IOASIDS_KERNEL] = "kernel",
	[IOASIDS_SVA] = "sva",
	[IOASIDS_FD] = "fd",
};

/*
 * The root has no ioasids.max: its max is the capacity, how many IOASIDs the
 * system can hand out, as registered by the IOASID allocator. 0 means that
 * none registered, and every charge fails.
 */
static struct ioasids_cgroup root_cg;

/*
 * The generation of the limits: moved by every write that gives a cgroup a
 * limit where it had none, in any cgroup (ioasids_set_max()). A cgroup whose
 * ioasids_cgroup.unlimited_gen equals it had no limit on its path but the
 * root's when its last walk read it (ioasids_path_unlimited()).
 */
static atomic64_t ioasids_limits_gen __read_mostly = ATOMIC64_INIT(1);

/* Protects every cgroup's peak_watchers list; taken only on peak writes. */
static DEFINE_MUTEX(ioasids_peaks_lock);

/*
 * ioasids_cgroup.held packs three counts into one word, so that one atomic
 * operation reads or moves them together:
 *
 *   bits  0-20  IOASIDs granted and not yet released (ioasids.current)
 *   bits 21-41  IOASIDs reserved by charges in flight: held against the
 *               limits, shown nowhere
 *   bits 42-62  the high-water mark of the first count since the last write
 *               to ioasids.peak
 *
 * A reservation is refused, without touching the word, when granted plus
 * reserved would pass the level's limit or the largest capacity, 2^20: each
 * count fits in 21 bits. A grant adds to the first count and raises the
 * mark to it in the same operation (held_grant()); a release only
 * subtracts; a write to ioasids.peak resets the mark to the count. So the
 * mark is never below current, and never moves down but by a write to
 * ioasids.peak. The mark since the cgroup was created is
 * ioasids_cgroup.peak, which only a reset moves: it is the larger of the
 * two marks.
 */
#define IOASIDS_HELD_BITS	21
#define IOASIDS_HELD_MASK	GENMASK_ULL(IOASIDS_HELD_BITS - 1, 0)
#define IOASIDS_RESERVED_ONE	BIT_ULL(IOASIDS_HELD_BITS)

static inline u64 held_now(u64 word)
{
	return word & IOASIDS_HELD_MASK;
}

static inline u64 held_reserved(u64 word)
{
	return (word >> IOASIDS_HELD_BITS) & IOASIDS_HELD_MASK;
}

static inline u64 held_local(u64 word)
{
	return max(word >> (2 * IOASIDS_HELD_BITS), held_now(word));
}

static inline u64 held_pack(u64 now, u64 reserved, u64 local)
{
	return now | reserved << IOASIDS_HELD_BITS |
	       local << (2 * IOASIDS_HELD_BITS);
}

/* @word with @n more granted, and its mark raised to the new count. */
static inline u64 held_grant(u64 word, unsigned int n)
{
	u64 now = held_now(word) + n;

	word += n;
	if (word >> (2 * IOASIDS_HELD_BITS) < now)
		word = held_pack(now, held_reserved(word), now);
	return word;
}

static inline struct ioasids_cgroup *css_ioasids(struct cgroup_subsys_state *css)
{
	return css ? container_of(css, struct ioasids_cgroup, css) : NULL;
}

static inline struct ioasids_cgroup *parent_ioasids(struct ioasids_cgroup *cg)
{
	return css_ioasids(cg->css.parent);
}

/*
 * The root of @cg's hierarchy, without a walk: there is one. The KUnit
 * suite's trees have roots of their own, and stub it.
 */
VISIBLE_IF_KUNIT struct ioasids_cgroup *ioasids_root(struct ioasids_cgroup *cg)
{
	KUNIT_STATIC_STUB_REDIRECT(ioasids_root, cg);
	return &root_cg;
}
EXPORT_SYMBOL_IF_KUNIT(ioasids_root);

/**
 * ioasids_cg_get_current() - Get the ioasids cgroup of the current task.
 *
 * The caller charges and uncharges this cgroup, whatever cgroup the task is
 * in later, and drops the reference with ioasids_cg_put() once nothing is
 * charged to it any more. The reference keeps the cgroup's state alive after
 * it is removed.
 *
 * Context: Process context.
 * Return: The task's ioasids cgroup, with a reference held; never %NULL.
 */
struct ioasids_cgroup *ioasids_cg_get_current(void)
{
	return css_ioasids(task_get_css(current, ioasids_cgrp_id));
}
EXPORT_SYMBOL_IF_KUNIT(ioasids_cg_get_current);

/**
 * ioasids_cg_get() - Take another reference on an ioasids cgroup.
 * @cg: The ioasids cgroup, or %NULL.
 *
 * Context: Any context; the caller already holds a reference, or a lock
 * that keeps the holder's.
 */
void ioasids_cg_get(struct ioasids_cgroup *cg)
{
	if (cg)
		css_get(&cg->css);
}

/**
 * ioasids_cg_put() - Drop a reference taken by ioasids_cg_get_current() or
 *	ioasids_cg_get().
 * @cg: The ioasids cgroup, or %NULL.
 *
 * Context: Any context.
 */
void ioasids_cg_put(struct ioasids_cgroup *cg)
{
	if (cg)
		css_put(&cg->css);
}
EXPORT_SYMBOL_IF_KUNIT(ioasids_cg_put);

/* A charge refused by @cg's ioasids.max: the "max" key of the events files. */
VISIBLE_IF_KUNIT void ioasids_event(struct ioasids_cgroup *cg)
{
	KUNIT_STATIC_STUB_REDIRECT(ioasids_event, cg);

	atomic64_inc(&cg->events_local);
	cgroup_file_notify(&cg->events_local_file);

	for (; cg; cg = parent_ioasids(cg)) {
		atomic64_inc(&cg->events);
		cgroup_file_notify(&cg->events_file);
	}
}
EXPORT_SYMBOL_IF_KUNIT(ioasids_event);

/*
 * A charge of @cg refused by the capacity: the "capacity" key, counted where
 * the charge was asked for (events.local) and from there up to the root.
 */
static void ioasids_capacity_event(struct ioasids_cgroup *cg)
{
	atomic64_inc(&cg->capacity_events_local);
	cgroup_file_notify(&cg->events_local_file);

	for (; cg; cg = parent_ioasids(cg)) {
		atomic64_inc(&cg->capacity_events);
		cgroup_file_notify(&cg->events_file);
	}
}

/* Bits of ioasids_cgroup.logged: the refusals already logged. */
#define IOASIDS_LOGGED_MAX	0
#define IOASIDS_LOGGED_CAPACITY	1

/*
 * The first refusal by each cgroup's limit, and the first refusal of each
 * cgroup's charge by the capacity, are logged, as the pids controller logs
 * a fork it refuses: the cgroup, the process and how many it asked for. A
 * tenant that makes many cgroups cannot flood the log: at most
 * DEFAULT_RATELIMIT_BURST lines per DEFAULT_RATELIMIT_INTERVAL in all. A
 * refusal the rate limit holds back is not marked logged: the cgroup's next
 * one is.
 */
static DEFINE_RATELIMIT_STATE(ioasids_log_rs, DEFAULT_RATELIMIT_INTERVAL,
			      DEFAULT_RATELIMIT_BURST);

/* Paths for the log line: refusals may come in any context. */
static DEFINE_SPINLOCK(ioasids_log_lock);
static char ioasids_log_path[2][PATH_MAX];

static void ioasids_log_refusal(struct ioasids_cgroup *limit,
				struct ioasids_cgroup *cg, unsigned int n)
{
	int bit = limit ? IOASIDS_LOGGED_MAX : IOASIDS_LOGGED_CAPACITY;
	struct ioasids_cgroup *who = limit ?: cg;
	char *lpath = ioasids_log_path[0], *cpath = ioasids_log_path[1];
	unsigned long flags;

	/* KUnit's refusals are on purpose, and its nodes have no cgroup. */
	if (kunit_get_current_test() || test_bit(bit, &who->logged))
		return;
	/* Held back by the rate limit: the next refusal here tries again. */
	if (!__ratelimit(&ioasids_log_rs) ||
	    test_and_set_bit(bit, &who->logged))
		return;

	spin_lock_irqsave(&ioasids_log_lock, flags);
	if (cgroup_path(cg->css.cgroup, cpath, PATH_MAX) < 0)
		strscpy(cpath, "?", PATH_MAX);
	if (limit) {
		if (cgroup_path(limit->css.cgroup, lpath, PATH_MAX) < 0)
			strscpy(lpath, "?", PATH_MAX);
		pr_info("ioasids: %u IOASID(s) for %s[%d] refused by ioasids.max=%llu of %s, charged to %s\n",
			n, current->comm, task_pid_nr(current),
			READ_ONCE(limit->max), lpath, cpath);
	} else {
		pr_info("ioasids: %u IOASID(s) for %s[%d] refused by the capacity, %u, charged to %s\n",
			n, current->comm, task_pid_nr(current),
			ioasids_cg_capacity(), cpath);
	}
	spin_unlock_irqrestore(&ioasids_log_lock, flags);
}

/* IOASIDs of one kind charged to @cg itself, not to its descendants. */
VISIBLE_IF_KUNIT u64 ioasids_kind_count(struct ioasids_cgroup *cg,
					enum ioasids_kind kind)
{
	s64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu_ptr(cg->kind_usage, cpu)->n[kind];
	/* Below 0 only if a charge and its release raced this loop. */
	return clamp_t(s64, sum, 0, IOASIDS_MAX_CAPACITY);
}
EXPORT_SYMBOL_IF_KUNIT(ioasids_kind_count);

/*
 * The most @cg may hold, granted and reserved: its limit, never above what
 * the counts can hold. The root's max is the capacity.
 */
static inline u64 ioasids_limit(struct ioasids_cgroup *cg)
{
	return min_t(u64, READ_ONCE(cg->max), IOASIDS_MAX_CAPACITY);
}

/*
 * A one-step charge passes by, in its first walk, a level whose limit is at
 * least the largest capacity: such a level can never refuse, as what it has
 * granted never passes what the root has granted and reserved, at most
 * 2^20. Its second walk grants that level where a reserved level takes a
 * reservation back too. The mask says which of the first
 * %IOASIDS_SKIP_LEVELS levels, from the charged cgroup up, were passed
 * by; a deeper level is always reserved, and its cgroup never charges the
 * root alone. A limit written where there was none waits for every charge
 * in flight that may have passed the level by (ioasids_set_max()): the two
 * walks are one RCU read-side section, which never sleeps.
 */
#define IOASIDS_SKIP_LEVELS	64

/* Whether the first walk passed level @level by, as @skipped notes it. */
static inline bool ioasids_skipped(u64 skipped, int level)
{
	return level < IOASIDS_SKIP_LEVELS && (skipped & BIT_ULL(level));
}

static inline bool ioasids_skip(struct ioasids_cgroup *cg, int level,
				u64 *skipped)
{
	if (!skipped || level >= IOASIDS_SKIP_LEVELS || !parent_ioasids(cg) ||
	    READ_ONCE(cg->max) < IOASIDS_MAX_CAPACITY)
		return false;
	*skipped |= BIT_ULL(level);
	return true;
}

/*
 * Take room for @n at @cg alone: reserve it, or grant it at once when no
 * level above is left to refuse it (@grant). Refused without a change to
 * the word when the limit would be passed; *@max is the limit it read.
 */
static __always_inline bool ioasids_take(struct ioasids_cgroup *cg,
					 unsigned int n, bool grant, u64 *max)
{
	u64 old = atomic64_read(&cg->held), limit;

	*max = READ_ONCE(cg->max);
	limit = min_t(u64, *max, IOASIDS_MAX_CAPACITY);
	do {
		if (held_now(old) + held_reserved(old) + n > limit)
			return false;
	} while (!atomic64_try_cmpxchg(&cg->held, &old,
				       grant ? held_grant(old, n) :
				       old + n * IOASIDS_RESERVED_ONE));
	return true;
}

/*
 * Grant @n at @cg alone, taking back as many reserved first (@reserved),
 * or at a level the first walk passed by.
 */
static __always_inline void ioasids_grant(struct ioasids_cgroup *cg,
					  unsigned int n, bool reserved)
{
	u64 old = atomic64_read(&cg->held), back;

	do {
		back = reserved ? n : 0;
		if (WARN_ONCE(held_reserved(old) < back,
			      "ioasids: granting %u IOASIDs of %llu reserved\n",
			      n, held_reserved(old)))
			back = held_reserved(old);
	} while (!atomic64_try_cmpxchg(&cg->held, &old,
				       held_grant(old - back * IOASIDS_RESERVED_ONE,
						  n)));
}

/* Give back room for @n that ioasids_take() reserved at @cg alone. */
static void ioasids_cancel(struct ioasids_cgroup *cg, unsigned int n)
{
	u64 old = atomic64_read(&cg->held), r;

	do {
		r = held_reserved(old);
		if (WARN_ONCE(r < n, "ioasids: cancelling %u IOASIDs of %llu reserved\n",
			      n, r))
			n = r;
	} while (!atomic64_try_cmpxchg(&cg->held, &old,
				       old - n * IOASIDS_RESERVED_ONE));
}

/*
 * The second walk of a charge that every level accepted: grant it, from
 * @cg up, the root too unless the first walk granted it there already
 * (@top_granted). One cmpxchg per level turns the reservation into a
 * grant, or grants a level the first walk passed by (@skipped, as
 * ioasids_try_take() noted it), and raises the level's mark. Called in an
 * RCU read-side section.
 */
VISIBLE_IF_KUNIT void ioasids_commit(struct ioasids_cgroup *cg,
				     enum ioasids_kind kind, unsigned int n,
				     bool top_granted, u64 skipped)
{
	struct ioasids_cgroup *i, *parent;
	int level = 0;

	KUNIT_STATIC_STUB_REDIRECT(ioasids_commit, cg, kind, n, top_granted,
				   skipped);

	for (i = cg; i; i = parent, level++) {
		parent = parent_ioasids(i);
		if (top_granted && !parent)
			break;
		ioasids_grant(i, n, !ioasids_skipped(skipped, level));
	}
	if (kind < IOASIDS_NR_KINDS)
		this_cpu_add(cg->kind_usage->n[kind], n);
}
EXPORT_SYMBOL_IF_KUNIT(ioasids_commit);

/*
 * Release @n granted IOASIDs of @cg alone: the mark already holds the
 * count. Releasing more than was granted is a caller's bug, warned about
 * and left as it is, as misc's and pids' uncharges do: the counts of the
 * word are wrong from then on.
 */
static __always_inline void ioasids_release(struct ioasids_cgroup *cg,
					    unsigned int n)
{
	u64 old = atomic64_fetch_sub(n, &cg->held);

	WARN_ONCE(held_now(old) < n, "ioasids: releasing %u IOASIDs of %llu\n",
		  n, held_now(old));
}

/*
 * A charge of @n at @cg that took the root's room alone, before it grants
 * the levels below: nothing here, but where the KUnit suite stops one.
 */
VISIBLE_IF_KUNIT void ioasids_granting(struct ioasids_cgroup *cg,
				       unsigned int n)
{
	KUNIT_STATIC_STUB_REDIRECT(ioasids_granting, cg, n);
}
EXPORT_SYMBOL_IF_KUNIT(ioasids_granting);

/*
 * Whether the last walk of a one-step charge of @cg found no limit below
 * the root, and no cgroup has been given one since: its charges may take
 * the root's room alone, then grant the levels below. A write that gives
 * a cgroup a limit moves the generation after the limit and then waits for
 * the charges in flight (ioasids_set_max()); a walk reads the generation
 * before the limits, and notes it only if it found none.
 */
static __always_inline bool ioasids_path_unlimited(struct ioasids_cgroup *cg)
{
	return atomic64_read(&cg->unlimited_gen) ==
	       atomic64_read_acquire(&ioasids_limits_gen);
}

/*
 * A reservation of @n at @cg refused by @refuser, before it is rolled back:
 * nothing here, but where the KUnit suite looks at a refusal in flight.
 */
VISIBLE_IF_KUNIT void ioasids_refused(struct ioasids_cgroup *cg,
				      struct ioasids_cgroup *refuser,
				      unsigned int n)
{
	KUNIT_STATIC_STUB_REDIRECT(ioasids_refused, cg, refuser, n);
}
EXPORT_SYMBOL_IF_KUNIT(ioasids_refused);

/*
 * The first walk: room for @n at every level from @cg up, reserved, or at
 * the root granted at once (@grant_top). All or nothing: refused by a
 * level, the levels below it give their reservations back, and the refusal
 * is counted and logged after that. With @skipped (a one-step charge, in an
 * RCU read-side section), levels without a limit are passed by and noted,
 * and a walk that found no other level below the root notes the generation
 * it read in @cg, for ioasids_cg_try_charge() to take the root alone next.
 */
static int ioasids_try_take(struct ioasids_cgroup *cg, unsigned int n,
			    bool grant_top, u64 *skipped)
{
	struct ioasids_cgroup *i, *j, *parent;
	bool unlimited = true;
	int level = 0;
	u64 max, gen = 0;
	int ret;

	if (WARN_ON_ONCE(!cg))
		return -EINVAL;
	if (!n)
		return 0;
	/* More than the whole namespace can never fit. */
	if (n > IOASIDS_MAX_CAPACITY) {
		ioasids_capacity_event(cg);
		ioasids_log_refusal(NULL, cg, n);
		return -ENOSPC;
	}

	/* Before the limits it reads: see ioasids_path_unlimited(). */
	if (skipped)
		gen = atomic64_read_acquire(&ioasids_limits_gen);
	for (i = cg; i; i = parent, level++) {
		parent = parent_ioasids(i);
		if (ioasids_skip(i, level, skipped))
			continue;
		if (parent)
			unlimited = false;
		if (!ioasids_take(i, n, grant_top && !parent, &max))
			goto refused;
	}
	/* The next one-step charge of @cg passes the levels by at once. */
	if (skipped && unlimited)
		atomic64_set(&cg->unlimited_gen, gen);
	return 0;

refused:
	/*
	 * A limit refused it (the one it compared, read once), or the
	 * counts' own bound, 2^20 granted and reserved at a level without a
	 * limit under it, which only charges in flight that the root or a
	 * limit above refuse anyway can reach: that is the capacity's
	 * refusal.
	 */
	ret = parent && max < IOASIDS_MAX_CAPACITY ? -EDQUOT : -ENOSPC;
	/* Give the room back first: nothing else is refused for it meanwhile. */
	ioasids_refused(cg, i, n);
	for (j = cg, level = 0; j != i; j = parent_ioasids(j), level++)
		if (!skipped || !ioasids_skipped(*skipped, level))
			ioasids_cancel(j, n);
	if (ret == -EDQUOT) {
		ioasids_event(i);
		ioasids_log_refusal(i, cg, n);
	} else {
		ioasids_capacity_event(cg);
		ioasids_log_refusal(NULL, cg, n);
	}
	return ret;
}

/**
 * ioasids_cg_try_reserve() - Hold room for IOASIDs under every limit.
 * @cg: The ioasids cgroup to charge, as returned by ioasids_cg_get_current().
 * @n: How many IOASIDs.
 *
 * The first half of a charge, for a caller that still has to take the
 * IOASIDs: every level from @cg to the root holds @n against its limit, so
 * that no one takes more than the limits allow meanwhile, but nothing shows
 * in ioasids.current or ioasids.peak until ioasids_cg_commit(). Follow it
 * with ioasids_cg_commit() or ioasids_cg_cancel(). A refusal by a limit
 * counts in the "max" key of ioasids.events of the cgroup whose limit
 * refused it and of its ancestors, and of its ioasids.events.local; a
 * refusal by the capacity in the "capacity" key of ioasids.events of @cg and
 * its ancestors, and of @cg's ioasids.events.local.
 *
 * Context: Any context.
 * Return:
 * * %0 - Held.
 * * %-EDQUOT - ioasids.max of @cg or of an ancestor would be exceeded.
 * * %-ENOSPC - The system's capacity would be exceeded, or no IOASID
 *   allocator registered one.
 * * %-EINVAL - @cg is invalid.
 */
int ioasids_cg_try_reserve(struct ioasids_cgroup *cg, unsigned int n)
{
	int ret;

	/*
	 * No level is passed by: the IOASIDs may be in hand much later. The
	 * RCU section is for the KUnit stubs alone, which see every walk in
	 * one (ioasids_commit() and ioasids_refused() run in one always).
	 */
	rcu_read_lock();
	ret = ioasids_try_take(cg, n, false, NULL);
	rcu_read_unlock();
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(ioasids_cg_try_reserve);

/**
 * ioasids_cg_commit() - Turn room held by ioasids_cg_try_reserve() into a
 *	charge.
 * @cg: The cgroup passed to ioasids_cg_try_reserve().
 * @kind: The kind of consumer, for ioasids.stat.
 * @n: How many IOASIDs, as reserved.
 *
 * From here on the IOASIDs show in ioasids.current and ioasids.peak, and
 * the caller uncharges them with ioasids_cg_uncharge().
 *
 * Context: Any context.
 */
void ioasids_cg_commit(struct ioasids_cgroup *cg, enum ioasids_kind kind,
		       unsigned int n)
{
	if (!cg || !n)
		return;
	/* A caller's bug: the charge still counts, under no kind. */
	WARN_ON_ONCE(kind >= IOASIDS_NR_KINDS);
	rcu_read_lock();
	ioasids_commit(cg, kind, n, false, 0);
	rcu_read_unlock();
}

/**
 * ioasids_cg_cancel() - Give back room held by ioasids_cg_try_reserve().
 * @cg: The cgroup passed to ioasids_cg_try_reserve().
 * @n: How many IOASIDs, as reserved.
 *
 * As if the reservation had never been made: nothing was ever shown.
 *
 * Context: Any context.
 */
void ioasids_cg_cancel(struct ioasids_cgroup *cg, unsigned int n)
{
	struct ioasids_cgroup *i;

	if (!cg || !n)
		return;
	for (i = cg; i; i = parent_ioasids(i))
		ioasids_cancel(i, n);
}
EXPORT_SYMBOL_IF_KUNIT(ioasids_cg_cancel);

/**
 * ioasids_cg_try_charge() - Charge IOASIDs to a cgroup and its ancestors.
 * @cg: The ioasids cgroup to charge, as returned by ioasids_cg_get_current().
 * @kind: The kind of consumer, for ioasids.stat.
 * @n: How many IOASIDs.
 *
 * All or nothing: either every level from @cg to the root is charged @n, or
 * none is: ioasids_cg_try_reserve() and ioasids_cg_commit() in one, with
 * the same events counted on a refusal, and the root's room granted at
 * once. The caller must uncharge the same @cg, @kind and @n later.
 *
 * Context: Any context.
 * Return:
 * * %0 - Charged.
 * * %-EDQUOT - ioasids.max of @cg or of an ancestor would be exceeded.
 * * %-ENOSPC - The system's capacity would be exceeded, or no IOASID
 *   allocator registered one.
 * * %-EINVAL - @cg or @kind is invalid.
 */
int ioasids_cg_try_charge(struct ioasids_cgroup *cg, enum ioasids_kind kind,
			  unsigned int n)
{
	struct ioasids_cgroup *i, *parent;
	u64 skipped = 0, max;
	int ret;

	if (WARN_ON_ONCE(kind >= IOASIDS_NR_KINDS))
		return -EINVAL;
	rcu_read_lock();
	/*
	 * No limit below the root, as the last walk found: the root's room,
	 * then a grant at each level below, in one walk as misc's. A
	 * refusal, or anything else, takes the walks, which count and log it.
	 */
	if (likely(cg && n) && ioasids_path_unlimited(cg) &&
	    ioasids_take(ioasids_root(cg), n, true, &max)) {
		ioasids_granting(cg, n);
		for (i = cg; (parent = parent_ioasids(i)); i = parent)
			ioasids_grant(i, n, false);
		this_cpu_add(cg->kind_usage->n[kind], n);
		rcu_read_unlock();
		return 0;
	}
	ret = ioasids_try_take(cg, n, true, &skipped);
	if (!ret && n)
		ioasids_commit(cg, kind, n, true, skipped);
	rcu_read_unlock();
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(ioasids_cg_try_charge);

/**
 * ioasids_cg_uncharge() - Uncharge IOASIDs charged by ioasids_cg_try_charge().
 * @cg: The cgroup that was charged, not the current task's cgroup.
 * @kind: The kind it was charged with.
 * @n: How many IOASIDs.
 *
 * Context: Any context.
 */
void ioasids_cg_uncharge(struct ioasids_cgroup *cg, enum ioasids_kind kind,
			 unsigned int n)
{
	struct ioasids_cgroup *i;

	if (!cg || !n)
		return;

	/* A caller's bug: the IOASIDs still go back, under no kind. */
	if (!WARN_ON_ONCE(kind >= IOASIDS_NR_KINDS))
		this_cpu_sub(cg->kind_usage->n[kind], n);
	for (i = cg; i; i = parent_ioasids(i))
		ioasids_release(i, n);
}
EXPORT_SYMBOL_IF_KUNIT(ioasids_cg_uncharge);

/**
 * ioasids_cg_set_attach() - Count an IOASID set as charging @cg.
 * @cg: The cgroup the set charges.
 *
 * Feeds the "sets" key of ioasids.stat. Pair with ioasids_cg_set_detach().
 *
 * Context: Any context.
 */
void ioasids_cg_set_attach(struct ioasids_cgroup *cg)
{
	if (cg)
		atomic_inc(&cg->nr_sets);
}
EXPORT_SYMBOL_IF_KUNIT(ioasids_cg_set_attach);

/**
 * ioasids_cg_set_detach() - Undo ioasids_cg_set_attach().
 * @cg: The cgroup the set charged.
 *
 * Context: Any context.
 */
void ioasids_cg_set_detach(struct ioasids_cgroup *cg)
{
	if (cg)
		WARN_ON_ONCE(atomic_dec_return(&cg->nr_sets) < 0);
}
EXPORT_SYMBOL_IF_KUNIT(ioasids_cg_set_detach);

/**
 * ioasids_cg_set_capacity() - Register how many IOASIDs the system has.
 * @capacity: The number of IOASIDs that can be handed out; capped at 2^20.
 *
 * Called by the IOASID allocator. A capacity below the current total usage
 * is accepted and refuses new charges until usage drops below it.
 *
 * Context: Any context.
 */
void ioasids_cg_set_capacity(unsigned int capacity)
{
	WRITE_ONCE(root_cg.max, min_t(u64, capacity, IOASIDS_MAX_CAPACITY));
}

/**
 * ioasids_cg_capacity() - How many IOASIDs the system has.
 *
 * Context: Any context.
 * Return: The registered capacity, 0 if none registered.
 */
unsigned int ioasids_cg_capacity(void)
{
	return READ_ONCE(root_cg.max);
}
EXPORT_SYMBOL_IF_KUNIT(ioasids_cg_capacity);

/* What @cg holds against its limit: granted, and reserved by charges in flight. */
VISIBLE_IF_KUNIT u64 ioasids_usage(struct ioasids_cgroup *cg)
{
	u64 word = atomic64_read(&cg->held);

	return held_now(word) + held_reserved(word);
}
EXPORT_SYMBOL_IF_KUNIT(ioasids_usage);

/**
 * ioasids_cg_room() - How many more IOASIDs @cg could be charged right now.
 * @cg: The ioasids cgroup.
 *
 * The smallest room left under ioasids.max on the way from @cg to the root,
 * and under the capacity. A snapshot: other cgroups may take the room first.
 *
 * Context: Any context.
 * Return: The number of IOASIDs a charge of @cg could still get.
 */
unsigned int ioasids_cg_room(struct ioasids_cgroup *cg)
{
	u64 room = UINT_MAX, limit, used;
	struct ioasids_cgroup *i;

	/* As in ioasids_cg_try_charge(), the root's max is the capacity. */
	for (i = cg; i; i = parent_ioasids(i)) {
		limit = ioasids_limit(i);
		used = ioasids_usage(i);
		room = min(room, limit > used ? limit - used : 0);
	}
	return room;
}
EXPORT_SYMBOL_IF_KUNIT(ioasids_cg_room);

/*
 * ioasids.max takes a decimal count or "max". Spaces and newlines around it
 * are stripped, as pids.max and misc.max do. Unlike them, only base 10 is
 * taken, without a sign: their base 0 reads a zero-padded "010" as 8, and a
 * limit should not change with how a script pads it. An embedded NUL is
 * refused rather than what follows it ignored.
 */
static int ioasids_parse_max(char *buf, size_t nbytes, u64 *max)
{
	if (strnlen(buf, nbytes) != nbytes)
		return -EINVAL;
	buf = strstrip(buf);
	if (!strcmp(buf, IOASIDS_MAX_STR)) {
		*max = IOASIDS_MAX_NUM;
		return 0;
	}
	/* kstrtou64() takes a leading '+'; an empty string is no number. */
	if (!isdigit(buf[0]))
		return -EINVAL;
	/* kstrtou64() says -ERANGE on overflow; to the user it is bad input. */
	return kstrtou64(buf, 10, max) ? -EINVAL : 0;
}

/* Orders a cgroup's max with its grace-period cookie; never held long. */
static DEFINE_SPINLOCK(ioasids_max_lock);

/*
 * Set @cg's limit. A limit below the current usage is accepted: nothing is
 * taken back, new charges are refused until usage drops below it. A level
 * that gets a limit where it had none moves the generation of the limits,
 * which is global: every cgroup's next one-step charge walks again, once,
 * instead of taking the root alone on what an earlier walk found. It then
 * waits for the one-step charges in flight, which may have passed it by
 * (ioasids_skip(), ioasids_path_unlimited()): when this returns, every
 * IOASID charged before shows in its count, and every charge after is
 * held against the new limit. The wait is for the grace period that
 * began with the last such change of @cg's limit, whichever writer made
 * it, so that a later write cannot return before it; writers of other
 * cgroups, and writes that change nothing of the kind, do not wait, and
 * concurrent writers share one grace period.
 *
 * Context: Process context; sleeps.
 */
VISIBLE_IF_KUNIT void ioasids_set_max(struct ioasids_cgroup *cg, u64 max)
{
	unsigned long gp;
	u64 old;

	spin_lock(&ioasids_max_lock);
	old = READ_ONCE(cg->max);
	WRITE_ONCE(cg->max, max);
	if (old >= IOASIDS_MAX_CAPACITY && max < IOASIDS_MAX_CAPACITY) {
		/* After the limit: a charge that sees the new one sees it. */
		atomic64_inc_return_release(&ioasids_limits_gen);
		cg->max_gp = get_state_synchronize_rcu();
	}
	gp = cg->max_gp;
	spin_unlock(&ioasids_max_lock);
	cond_synchronize_rcu(gp);
}
EXPORT_SYMBOL_IF_KUNIT(ioasids_set_max);

static ssize_t ioasids_max_write(struct kernfs_open_file *of, char *buf,
				 size_t nbytes, loff_t off)
{
	u64 max;
	int ret;

	ret = ioasids_parse_max(buf, nbytes, &max);
	if (ret)
		return ret;
	ioasids_set_max(css_ioasids(of_css(of)), max);
	return nbytes;
}

static int ioasids_max_show(struct seq_file *sf, void *v)
{
	struct ioasids_cgroup *cg = css_ioasids(seq_css(sf));
	u64 max = READ_ONCE(cg->max);

	if (max == IOASIDS_MAX_NUM)
		seq_puts(sf, IOASIDS_MAX_STR "\n");
	else
		seq_printf(sf, "%llu\n", max);
	return 0;
}

/* IOASIDs granted to @cg's subtree: a charge being checked is not yet in. */
VISIBLE_IF_KUNIT u64 ioasids_current(struct ioasids_cgroup *cg)
{
	return held_now(atomic64_read(&cg->held));
}
EXPORT_SYMBOL_IF_KUNIT(ioasids_current);

static u64 ioasids_current_read(struct cgroup_subsys_state *css,
				struct cftype *cft)
{
	return ioasids_current(css_ioasids(css));
}

/*
 * ioasids.peak follows memory.peak: reading shows the high-water mark since
 * the cgroup was created; writing anything to an open file resets the mark
 * that this file, and only this file, shows from then on. Whatever the file,
 * what it shows is never below ioasids.current, read before or at once.
 */
static int ioasids_peak_open(struct kernfs_open_file *of)
{
	of_peak(of)->value = OFP_PEAK_UNSET;
	return 0;
}

/* What an open ioasids.peak file shows; @ofp %NULL for the cgroup's mark. */
VISIBLE_IF_KUNIT u64 ioasids_peak_value(struct ioasids_cgroup *cg,
					struct cgroup_of_peak *ofp)
{
	/*
	 * Pairs with the cmpxchg in ioasids_peak_reset(): a word with the
	 * mark reset comes with the cgroup's mark that took the old one.
	 */
	u64 word = atomic64_read_acquire(&cg->held);
	unsigned long seen = ofp ? READ_ONCE(ofp->value) : OFP_PEAK_UNSET;

	if (seen == OFP_PEAK_UNSET)
		return max(READ_ONCE(cg->peak), held_local(word));
	return max_t(u64, seen, held_local(word));
}
EXPORT_SYMBOL_IF_KUNIT(ioasids_peak_value);

/*
 * Files reset earlier keep the mark they saw up to now. (memory.peak raises
 * them only to the current usage, which loses a mark reached and left since
 * their reset.)
 */
VISIBLE_IF_KUNIT void ioasids_peak_raise(struct ioasids_cgroup *cg, u64 mark)
{
	struct cgroup_of_peak *peer;

	KUNIT_STATIC_STUB_REDIRECT(ioasids_peak_raise, cg, mark);

	lockdep_assert_held(&ioasids_peaks_lock);
	list_for_each_entry(peer, &cg->peak_watchers, list)
		if (mark > peer->value)
			WRITE_ONCE(peer->value, mark);
}
EXPORT_SYMBOL_IF_KUNIT(ioasids_peak_raise);

/* A write to an open ioasids.peak file: its mark starts again from current. */
VISIBLE_IF_KUNIT void ioasids_peak_reset(struct ioasids_cgroup *cg,
					 struct cgroup_of_peak *ofp)
{
	u64 old, now;

	mutex_lock(&ioasids_peaks_lock);
	old = atomic64_read(&cg->held);
	do {
		/*
		 * Raise the others, and the cgroup's own mark, before the
		 * word's can go down.
		 */
		ioasids_peak_raise(cg, held_local(old));
		if (held_local(old) > cg->peak)
			WRITE_ONCE(cg->peak, held_local(old));
		now = held_now(old);
	} while (!atomic64_try_cmpxchg(&cg->held, &old,
				       held_pack(now, held_reserved(old), now)));

	if (ofp->value == OFP_PEAK_UNSET)
		list_add(&ofp->list, &cg->peak_watchers);
	WRITE_ONCE(ofp->value, now);
	mutex_unlock(&ioasids_peaks_lock);
}
EXPORT_SYMBOL_IF_KUNIT(ioasids_peak_reset);

/* An ioasids.peak file is closed. */
VISIBLE_IF_KUNIT void ioasids_peak_forget(struct cgroup_of_peak *ofp)
{
	if (ofp->value == OFP_PEAK_UNSET)
		return;
	mutex_lock(&ioasids_peaks_lock);
	list_del(&ofp->list);
	mutex_unlock(&ioasids_peaks_lock);
}
EXPORT_SYMBOL_IF_KUNIT(ioasids_peak_forget);

static void ioasids_peak_release(struct kernfs_open_file *of)
{
	ioasids_peak_forget(of_peak(of));
}

static int ioasids_peak_show(struct seq_file *sf, void *v)
{
	seq_printf(sf, "%llu\n", ioasids_peak_value(css_ioasids(seq_css(sf)),
						    of_peak(sf->private)));
	return 0;
}

static ssize_t ioasids_peak_write(struct kernfs_open_file *of, char *buf,
				  size_t nbytes, loff_t off)
{
	ioasids_peak_reset(css_ioasids(of_css(of)), of_peak(of));
	return nbytes;
}

static int __ioasids_events_show(struct seq_file *sf, bool local)
{
	struct ioasids_cgroup *cg = css_ioasids(seq_css(sf));

	seq_printf(sf, "max %lld\n", (s64)atomic64_read(local ?
			&cg->events_local : &cg->events));
	seq_printf(sf, "capacity %lld\n", (s64)atomic64_read(local ?
			&cg->capacity_events_local : &cg->capacity_events));
	return 0;
}

static int ioasids_events_show(struct seq_file *sf, void *v)
{
	return __ioasids_events_show(sf, false);
}

static int ioasids_events_local_show(struct seq_file *sf, void *v)
{
	return __ioasids_events_show(sf, true);
}

static int ioasids_capacity_show(struct seq_file *sf, void *v)
{
	seq_printf(sf, "%llu\n", READ_ONCE(root_cg.max));
	return 0;
}

/*
 * ioasids.stat: sets and usage per consumer kind, summed over the subtree
 * like ioasids.current, so that kernel + sva + fd == current at rest.
 */
static int ioasids_stat_show(struct seq_file *sf, void *v)
{
	struct cgroup_subsys_state *css = seq_css(sf), *pos;
	u64 kinds[IOASIDS_NR_KINDS] = {}, sets = 0;
	struct ioasids_cgroup *cg;
	int k;

	rcu_read_lock();
	css_for_each_descendant_pre(pos, css) {
		cg = css_ioasids(pos);
		sets += max(atomic_read(&cg->nr_sets), 0);
		for (k = 0; k < IOASIDS_NR_KINDS; k++)
			kinds[k] += ioasids_kind_count(cg, k);
	}
	rcu_read_unlock();

	seq_printf(sf, "sets %llu\n", sets);
	for (k = 0; k < IOASIDS_NR_KINDS; k++)
		seq_printf(sf, "%s %llu\n", ioasids_kind_name[k], kinds[k]);
	return 0;
}

/*
 * cgroup v2 only: no one limits PASIDs on v1. With no legacy_cftypes the
 * cgroup core refuses to mount the controller on a v1 hierarchy.
 */
static struct cftype ioasids_files[] = {
	{
		.name = "max",
		.write = ioasids_max_write,
		.seq_show = ioasids_max_show,
		.flags = CFTYPE_NOT_ON_ROOT,
	},
	{
		.name = "current",
		.read_u64 = ioasids_current_read,
	},
	{
		.name = "peak",
		.open = ioasids_peak_open,
		.release = ioasids_peak_release,
		.seq_show = ioasids_peak_show,
		.write = ioasids_peak_write,
	},
	{
		.name = "events",
		.seq_show = ioasids_events_show,
		.file_offset = offsetof(struct ioasids_cgroup, events_file),
	},
	{
		.name = "events.local",
		.seq_show = ioasids_events_local_show,
		.file_offset = offsetof(struct ioasids_cgroup, events_local_file),
		.flags = CFTYPE_NOT_ON_ROOT,
	},
	{
		.name = "capacity",
		.seq_show = ioasids_capacity_show,
		.flags = CFTYPE_ONLY_ON_ROOT,
	},
	{
		.name = "stat",
		.seq_show = ioasids_stat_show,
	},
	{ }	/* terminate */
};

static struct cgroup_subsys_state *
ioasids_css_alloc(struct cgroup_subsys_state *parent_css)
{
	struct ioasids_cgroup *cg;

	if (!parent_css) {
		cg = &root_cg;
	} else {
		cg = kzalloc(sizeof(*cg), GFP_KERNEL);
		if (!cg)
			return ERR_PTR(-ENOMEM);
	}
	cg->kind_usage = alloc_percpu(struct ioasids_kind_usage);
	if (!cg->kind_usage) {
		if (cg != &root_cg)
			kfree(cg);
		return ERR_PTR(-ENOMEM);
	}

	/* The root's max is the capacity, which the IOASID allocator sets. */
	if (cg != &root_cg)
		WRITE_ONCE(cg->max, IOASIDS_MAX_NUM);
	cg->max_gp = get_completed_synchronize_rcu();
	INIT_LIST_HEAD(&cg->peak_watchers);
	return &cg->css;
}

static void ioasids_css_free(struct cgroup_subsys_state *css)
{
	struct ioasids_cgroup *cg = css_ioasids(css);

	/* Every charge holds a reference: nothing can be charged here now. */
	WARN_ON_ONCE(held_now(atomic64_read(&cg->held)) ||
		     held_reserved(atomic64_read(&cg->held)));
	free_percpu(cg->kind_usage);
	if (cg != &root_cg)
		kfree(cg);
}

struct cgroup_subsys ioasids_cgrp_subsys = {
	.css_alloc = ioasids_css_alloc,
	.css_free = ioasids_css_free,
	.dfl_cftypes = ioasids_files,
};

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * IOASID (PCIe PASID) cgroup controller.
 *
 * Every path that hands out a PASID charges the ioasids cgroup that owns the
 * allocation, and uncharges that same cgroup when the PASID is released.
 */
#ifndef _IOASIDS_CGROUP_H_
#define _IOASIDS_CGROUP_H_

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/cgroup.h>
#include <linux/errno.h>
#include <linux/list.h>
#include <linux/types.h>

/**
 * enum ioasids_kind - the kind of consumer a charge is made for
 * @IOASIDS_KERNEL: a kernel user (iommu_alloc_global_pasid() and friends)
 * @IOASIDS_SVA: a process's SVA PASID (one per mm)
 * @IOASIDS_FD: an ID allocated through /dev/ioasid
 * @IOASIDS_NR_KINDS: the number of kinds
 *
 * The kind only feeds ioasids.stat; every kind counts against the same
 * ioasids.max.
 */
enum ioasids_kind {
	IOASIDS_KERNEL,
	IOASIDS_SVA,
	IOASIDS_FD,
	IOASIDS_NR_KINDS,
};

/* Largest PASID namespace PCIe allows: 20 bits. */
#define IOASIDS_MAX_CAPACITY	BIT(20)
/*
 * The most IDs of it anyone can be given: PASID 0 (IOMMU_NO_PASID) is the
 * requester ID's own, never allocated, so the IOASID core registers at most
 * IOASIDS_MAX_CAPACITY - 1 (IDs 1 to 2^20 - 1).
 */
#define IOASIDS_MAX_IDS		(IOASIDS_MAX_CAPACITY - 1)

#ifdef CONFIG_CGROUP_IOASIDS

/**
 * struct ioasids_kind_usage - one CPU's share of a cgroup's usage per kind
 * @n: per &enum ioasids_kind; one CPU's share may be negative, the sum not
 */
struct ioasids_kind_usage {
	s64 n[IOASIDS_NR_KINDS];
};

/**
 * struct ioasids_cgroup - the ioasids state of one cgroup
 * @css: the cgroup subsystem state
 * @held: IOASIDs granted to this cgroup and its descendants (ioasids.current),
 *	IOASIDs that charges in flight reserved here, and the high-water mark
 *	since the last reset (ioasids.peak), packed in one word so that they
 *	are read and moved together; see ioasids.c
 * @peak: the high-water mark since the cgroup was created, as of the last
 *	reset; ioasids.peak shows the larger of it and @held's mark
 * @max: the limit; %U64_MAX stands for "max". The root's is the capacity.
 * @max_gp: the RCU grace period that a write of @max that gave the cgroup
 *	a limit began, which every write of @max waits for; see ioasids.c
 * @unlimited_gen: the generation of the limits at which a one-step charge
 *	of this cgroup found no limit on its path below the root, so that the
 *	next ones pass those levels by at once; see ioasids.c
 * @kind_usage: IOASIDs charged to this cgroup itself, per &enum ioasids_kind,
 *	counted per CPU so that charging takes no shared atomic for it
 * @nr_sets: IOASID sets whose charges go to this cgroup itself
 * @events: charges refused by a limit in this cgroup's subtree
 * @events_local: charges refused by this cgroup's own limit
 * @capacity_events: charges of this cgroup's subtree refused by the capacity
 * @capacity_events_local: charges of this cgroup refused by the capacity
 * @logged: which refusals were logged already, once per cgroup
 * @events_file: handle for notifying ioasids.events
 * @events_local_file: handle for notifying ioasids.events.local
 * @peak_watchers: open ioasids.peak files that were written to
 */
struct ioasids_cgroup {
	struct cgroup_subsys_state css;
	atomic64_t held;
	u64 peak;
	u64 max;
	unsigned long max_gp;
	atomic64_t unlimited_gen;
	struct ioasids_kind_usage __percpu *kind_usage;
	atomic_t nr_sets;
	atomic64_t events;
	atomic64_t events_local;
	atomic64_t capacity_events;
	atomic64_t capacity_events_local;
	unsigned long logged;
	struct cgroup_file events_file;
	struct cgroup_file events_local_file;
	struct list_head peak_watchers;
};

/*
 * What any user of PASIDs calls, in misc's shape: who to charge, charging
 * and uncharging, and the capacity the allocator registers. Every user is
 * built in; only the KUnit suites, which may be modules, get exports.
 */
struct ioasids_cgroup *ioasids_cg_get_current(void);
void ioasids_cg_get(struct ioasids_cgroup *cg);
void ioasids_cg_put(struct ioasids_cgroup *cg);
int ioasids_cg_try_charge(struct ioasids_cgroup *cg, enum ioasids_kind kind,
			  unsigned int n);
void ioasids_cg_uncharge(struct ioasids_cgroup *cg, enum ioasids_kind kind,
			 unsigned int n);
void ioasids_cg_set_capacity(unsigned int capacity);
unsigned int ioasids_cg_capacity(void);

/*
 * For the IOASID core only, which is built in: a charge in two halves, so
 * that a request the core refuses after the limits passed it never shows
 * in ioasids.peak; the "sets" key of ioasids.stat; the room a set's owner
 * is told it has. All but ioasids_cg_commit() are exported to the KUnit
 * suites alone (EXPORT_SYMBOL_IF_KUNIT), which may be modules.
 */
int ioasids_cg_try_reserve(struct ioasids_cgroup *cg, unsigned int n);
void ioasids_cg_commit(struct ioasids_cgroup *cg, enum ioasids_kind kind,
		       unsigned int n);
void ioasids_cg_cancel(struct ioasids_cgroup *cg, unsigned int n);
void ioasids_cg_set_attach(struct ioasids_cgroup *cg);
void ioasids_cg_set_detach(struct ioasids_cgroup *cg);
unsigned int ioasids_cg_room(struct ioasids_cgroup *cg);

/* The ID of @cg's cgroup, for tracepoints; 0 for none. */
static inline u64 ioasids_cg_id(struct ioasids_cgroup *cg)
{
	return cg ? cgroup_id(cg->css.cgroup) : 0;
}

/*
 * The path of @cg's cgroup as seen from @ns (it takes cgroup_mutex), or
 * with @ns %NULL from the root of the hierarchy (it does not sleep).
 * Returns its length, or a negative errno (-ENOENT without a cgroup).
 */
static inline int ioasids_cg_path(struct ioasids_cgroup *cg, char *buf,
				  size_t len, struct cgroup_namespace *ns)
{
	if (!cg)
		return -ENOENT;
	return ns ? cgroup_path_ns(cg->css.cgroup, buf, len, ns) :
		    cgroup_path(cg->css.cgroup, buf, len);
}

#else /* !CONFIG_CGROUP_IOASIDS */

/*
 * Without the controller nothing is limited or counted: there is no cgroup
 * to charge, every charge succeeds, and the capacity and the room are the
 * most the IOASID core ever registers, IOASIDS_MAX_IDS: the stubs keep no
 * state, so ioasids_cg_set_capacity() cannot lower them. The core bounds
 * what it reports by its own namespace.
 */
static inline struct ioasids_cgroup *ioasids_cg_get_current(void)
{
	return NULL;
}

static inline void ioasids_cg_get(struct ioasids_cgroup *cg)
{
}

static inline void ioasids_cg_put(struct ioasids_cgroup *cg)
{
}

static inline int ioasids_cg_try_charge(struct ioasids_cgroup *cg,
					enum ioasids_kind kind, unsigned int n)
{
	return 0;
}

static inline void ioasids_cg_uncharge(struct ioasids_cgroup *cg,
				       enum ioasids_kind kind, unsigned int n)
{
}

static inline void ioasids_cg_set_capacity(unsigned int capacity)
{
}

static inline unsigned int ioasids_cg_capacity(void)
{
	return IOASIDS_MAX_IDS;
}

static inline int ioasids_cg_try_reserve(struct ioasids_cgroup *cg,
					 unsigned int n)
{
	return 0;
}

static inline void ioasids_cg_commit(struct ioasids_cgroup *cg,
				     enum ioasids_kind kind, unsigned int n)
{
}

static inline void ioasids_cg_cancel(struct ioasids_cgroup *cg, unsigned int n)
{
}

static inline void ioasids_cg_set_attach(struct ioasids_cgroup *cg)
{
}

static inline void ioasids_cg_set_detach(struct ioasids_cgroup *cg)
{
}

static inline unsigned int ioasids_cg_room(struct ioasids_cgroup *cg)
{
	return IOASIDS_MAX_IDS;
}

static inline u64 ioasids_cg_id(struct ioasids_cgroup *cg)
{
	return 0;
}

static inline int ioasids_cg_path(struct ioasids_cgroup *cg, char *buf,
				  size_t len, struct cgroup_namespace *ns)
{
	return -ENOENT;
}

#endif /* CONFIG_CGROUP_IOASIDS */
#endif /* _IOASIDS_CGROUP_H_ */

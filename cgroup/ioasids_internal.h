/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ioasids controller's seams and readers for its KUnit suite
 * (VISIBLE_IF_KUNIT), and no one else: not part of <linux/ioasids_cgroup.h>.
 */
#ifndef _IOASIDS_INTERNAL_H_
#define _IOASIDS_INTERNAL_H_

#include <linux/ioasids_cgroup.h>

#if IS_ENABLED(CONFIG_KUNIT)
void ioasids_commit(struct ioasids_cgroup *cg, enum ioasids_kind kind,
		    unsigned int n, bool top_granted, u64 skipped);
void ioasids_set_max(struct ioasids_cgroup *cg, u64 max);
struct ioasids_cgroup *ioasids_root(struct ioasids_cgroup *cg);
void ioasids_event(struct ioasids_cgroup *cg);
void ioasids_refused(struct ioasids_cgroup *cg, struct ioasids_cgroup *refuser,
		     unsigned int n);
void ioasids_granting(struct ioasids_cgroup *cg, unsigned int n);
void ioasids_peak_raise(struct ioasids_cgroup *cg, u64 mark);
u64 ioasids_current(struct ioasids_cgroup *cg);
u64 ioasids_usage(struct ioasids_cgroup *cg);
u64 ioasids_kind_count(struct ioasids_cgroup *cg, enum ioasids_kind kind);
u64 ioasids_peak_value(struct ioasids_cgroup *cg, struct cgroup_of_peak *ofp);
void ioasids_peak_reset(struct ioasids_cgroup *cg, struct cgroup_of_peak *ofp);
void ioasids_peak_forget(struct cgroup_of_peak *ofp);
#endif

#endif /* _IOASIDS_INTERNAL_H_ */

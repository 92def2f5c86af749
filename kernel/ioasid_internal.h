/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the IOASID core shows its own tests (KUnit, the benchmark) and no
 * one else: not part of <linux/ioasid.h>.
 */
#ifndef _IOASID_INTERNAL_H_
#define _IOASID_INTERNAL_H_

#include <linux/ioasid.h>
#include <linux/types.h>

struct ioasids_cgroup;

#if IS_ENABLED(CONFIG_KUNIT)
/*
 * The first half of an allocation, or with @one_step (one ID, no private
 * ID) all of it where the namespace's lock allows: 1 when the ID was
 * handed out in one step, 0 when the IDs want ioasid_alloc_finalize(), or
 * a negative errno (ioasid_alloc_reserve()). Static without KUnit.
 */
int ioasid_reserve(struct ioasid_set *set, ioasid_t min, ioasid_t max,
		   unsigned int n, ioasid_t spid, ioasid_t *ids, bool one_step);
#endif

/* Every mm's set dropped so far is released and uncharged. */
void ioasid_flush_mm_drops(void);

/* Stand in for the IOMMUs' PASID space: returns the size it replaced. */
u32 ioasid_test_swap_hw_max_pasids(u32 hw);

/*
 * The controller's (kernel/cgroup/ioasids.c): what @cg holds, granted and
 * reserved, so that the tests see a reservation left behind too.
 */
u64 ioasids_usage(struct ioasids_cgroup *cg);

#endif /* _IOASID_INTERNAL_H_ */

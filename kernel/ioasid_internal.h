/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the IOASID core shows its own tests (KUnit, the benchmark) and no
 * one else: not part of <linux/ioasid.h>.
 */
#ifndef _IOASID_INTERNAL_H_
#define _IOASID_INTERNAL_H_

#include <linux/types.h>

struct ioasids_cgroup;

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

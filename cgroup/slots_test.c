// SPDX-License-Identifier: GPL-2.0
/*
 * Three empty cgroup controllers, for testing the subsystem masks only
 * (CONFIG_CGROUP_SLOTS_TEST).
 *
 * Linux 6.12 has 15 subsystems with the debug controller; mainline has 16
 * since dmem, and the ioasids controller makes 17, one more than the masks
 * held before they were widened to 32 bits. These controllers stand in for
 * the ones 6.12 lacks: listed after pids, they put misc at subsystem ID 15
 * and ioasids at 16 in a kernel with every other controller but rdma and
 * debug, so that every test of the ioasids controller runs on a bit the
 * old masks did not have. Each keeps nothing but its css, and has no
 * files; an empty list of files for the default hierarchy lets
 * cgroup.subtree_control enable it there, so that their bits, 12 to 14,
 * move through the masks too.
 */

#include <linux/cgroup.h>
#include <linux/err.h>
#include <linux/slab.h>

static struct cgroup_subsys_state *
slots_test_css_alloc(struct cgroup_subsys_state *parent_css)
{
	struct cgroup_subsys_state *css = kzalloc(sizeof(*css), GFP_KERNEL);

	return css ?: ERR_PTR(-ENOMEM);
}

static void slots_test_css_free(struct cgroup_subsys_state *css)
{
	kfree(css);
}

/* No files: cgroup_add_cftypes() adds nothing for an empty list. */
static struct cftype slots_test_files[] = {
	{ }	/* terminate */
};

struct cgroup_subsys slot_test0_cgrp_subsys = {
	.css_alloc = slots_test_css_alloc,
	.css_free = slots_test_css_free,
	.dfl_cftypes = slots_test_files,
};

struct cgroup_subsys slot_test1_cgrp_subsys = {
	.css_alloc = slots_test_css_alloc,
	.css_free = slots_test_css_free,
	.dfl_cftypes = slots_test_files,
};

struct cgroup_subsys slot_test2_cgrp_subsys = {
	.css_alloc = slots_test_css_alloc,
	.css_free = slots_test_css_free,
	.dfl_cftypes = slots_test_files,
};

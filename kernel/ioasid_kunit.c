// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the IOASID core.
 *
 * Each test stands in for the IOMMUs with a small namespace of its own and
 * restores the real one after. Sets are charged to the KUnit thread's
 * cgroup, the root, whose usage must be back where it started after each.
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/ioasid.h>
#include <linux/ioasids_cgroup.h>
#include <linux/kthread.h>
#include <linux/sched/task.h>

#include "ioasid_internal.h"

#define TEST_MAX_PASIDS	64	/* IDs 1..63 */

struct ioasid_test_ctx {
	u32 saved_hw;
	struct ioasids_cgroup *cg;
	s64 usage;
};

/* What the test's cgroup has charged; 0 without the controller. */
static s64 cg_usage(struct ioasid_test_ctx *ctx)
{
#ifdef CONFIG_CGROUP_IOASIDS
	return ioasids_usage(ctx->cg);
#else
	return 0;
#endif
}

static int ioasid_test_init(struct kunit *test)
{
	struct ioasid_test_ctx *ctx;

	/* Every case checks what its set charged. */
	if (!IS_ENABLED(CONFIG_CGROUP_IOASIDS))
		kunit_skip(test, "needs CONFIG_CGROUP_IOASIDS");
	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->saved_hw = ioasid_test_swap_hw_max_pasids(TEST_MAX_PASIDS);
	ctx->cg = ioasids_cg_get_current();
	ctx->usage = cg_usage(ctx);
	test->priv = ctx;
	return 0;
}

static void ioasid_test_exit(struct kunit *test)
{
	struct ioasid_test_ctx *ctx = test->priv;

	if (!ctx)	/* skipped by ioasid_test_init() */
		return;
	/* Every test gives back everything it charged. */
	KUNIT_EXPECT_EQ(test, cg_usage(ctx), ctx->usage);
	ioasids_cg_put(ctx->cg);
	ioasid_test_swap_hw_max_pasids(ctx->saved_hw);
}

static struct ioasid_set *new_set(struct kunit *test, unsigned int quota)
{
	struct ioasid_set *set;

	set = ioasid_set_alloc(IOASID_SET_TYPE_FD, test, quota);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, set);
	return set;
}

/* @n IDs in the two steps /dev/ioasid takes: reserved, then finalized. */
static int alloc_batch(struct ioasid_set *set, ioasid_t min, ioasid_t max,
		       unsigned int n, ioasid_t *ids)
{
	int ret;

	ret = ioasid_alloc_reserve(set, min, max, n, IOMMU_PASID_INVALID, ids);
	if (!ret)
		ioasid_alloc_finalize(set, ids, n);
	return ret;
}

static void ioasid_test_alloc_free(struct kunit *test)
{
	struct ioasid_test_ctx *ctx = test->priv;
	struct ioasid_set *set = new_set(test, 0);
	struct ioasid_set_info info;
	ioasid_t a, b;

	KUNIT_EXPECT_EQ(test, ioasid_alloc(set, 0, IOMMU_PASID_INVALID,
					   IOMMU_PASID_INVALID, &a), 0);
	KUNIT_EXPECT_GE(test, a, 1);
	KUNIT_EXPECT_LT(test, a, TEST_MAX_PASIDS);
	KUNIT_EXPECT_EQ(test, ioasid_alloc(set, 10, 20, IOMMU_PASID_INVALID,
					   &b), 0);
	KUNIT_EXPECT_GE(test, b, 10);
	KUNIT_EXPECT_LE(test, b, 20);
	KUNIT_EXPECT_EQ(test, cg_usage(ctx), ctx->usage + 2);

	ioasid_set_get_info(set, &info);
	KUNIT_EXPECT_EQ(test, info.count, 2);
	KUNIT_EXPECT_EQ(test, info.capacity, TEST_MAX_PASIDS - 1);
	KUNIT_EXPECT_EQ(test, info.type, IOASID_SET_TYPE_FD);

	KUNIT_EXPECT_EQ(test, ioasid_free(set, a), 0);
	KUNIT_EXPECT_EQ(test, ioasid_free(set, a), -ENOENT);
	KUNIT_EXPECT_EQ(test, ioasid_free(set, 0), -ENOENT);
	KUNIT_EXPECT_EQ(test, cg_usage(ctx), ctx->usage + 1);
	ioasid_set_free(set);
}

/* A range with no free ID is -ENOSPC, and the charge is rolled back. */
static void ioasid_test_range_exhaustion(struct kunit *test)
{
	struct ioasid_test_ctx *ctx = test->priv;
	struct ioasid_set *set = new_set(test, 0);
	ioasid_t id, id2;

	KUNIT_EXPECT_EQ(test, ioasid_alloc(set, 5, 5, IOMMU_PASID_INVALID,
					   &id), 0);
	KUNIT_EXPECT_EQ(test, id, 5);
	KUNIT_EXPECT_EQ(test, ioasid_alloc(set, 5, 5, IOMMU_PASID_INVALID,
					   &id2), -ENOSPC);
	KUNIT_EXPECT_EQ(test, cg_usage(ctx), ctx->usage + 1);
	/* Beyond the namespace, and an empty range. */
	KUNIT_EXPECT_EQ(test, ioasid_alloc(set, TEST_MAX_PASIDS, 1000,
					   IOMMU_PASID_INVALID, &id2), -ENOSPC);
	KUNIT_EXPECT_EQ(test, ioasid_alloc(set, 9, 8, IOMMU_PASID_INVALID,
					   &id2), -EINVAL);
	KUNIT_EXPECT_EQ(test, cg_usage(ctx), ctx->usage + 1);
	ioasid_set_free(set);
}

/* The whole namespace, and not one more. */
#define TEST_LARGE_PASIDS	4096	/* IDs 1..4095: the user floor applies */
#define TEST_FLOOR		256

/*
 * The search in a namespace of several tree nodes: a user set's default
 * placement from the floor up, one ID in one step, batches (more than 64
 * yielding), crossing nodes, holes first, the switch below the floor once
 * nothing above is free, and the one-step way giving up for memory
 * (fail_nth) and going the two-step way with the same result.
 */
static void ioasid_test_large_namespace(struct kunit *test)
{
	const unsigned int above = TEST_LARGE_PASIDS - TEST_FLOOR;
	struct ioasid_test_ctx *ctx = test->priv;
	struct ioasid_set *set;
	ioasid_t *ids, id;
	unsigned int i;

	ids = kunit_kmalloc_array(test, above, sizeof(*ids), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ids);
	ioasid_test_swap_hw_max_pasids(TEST_LARGE_PASIDS);
	set = new_set(test, 0);

	/*
	 * The first allocation the one-step way makes (a node of the
	 * namespace) fails: it goes the two-step way, to the same ID. Then
	 * one in one step, and the rest of the first 64 as a batch.
	 */
#ifdef CONFIG_FAILSLAB
	current->fail_nth = 1;
	KUNIT_EXPECT_EQ(test, ioasid_reserve(set, 0, ~0U, 1, IOMMU_PASID_INVALID,
					     &ids[0], true), 0);
	KUNIT_EXPECT_EQ(test, current->fail_nth, 0);
	current->fail_nth = 0;
	ioasid_alloc_finalize(set, &ids[0], 1);
#else
	KUNIT_EXPECT_EQ(test, ioasid_alloc(set, 0, ~0U, IOMMU_PASID_INVALID,
					   &ids[0]), 0);
#endif
	KUNIT_EXPECT_EQ(test, ioasid_reserve(set, 0, ~0U, 1, IOMMU_PASID_INVALID,
					     &ids[1], true), 1);
	KUNIT_EXPECT_EQ(test, alloc_batch(set, 0, ~0U, 62, &ids[2]), 0);
	for (i = 0; i < 64; i++)
		KUNIT_EXPECT_EQ(test, ids[i], TEST_FLOOR + i);

	/* More than 64, across the nodes of 320 and 384. */
	KUNIT_EXPECT_EQ(test, alloc_batch(set, 0, ~0U, 100, ids), 0);
	for (i = 0; i < 100; i++)
		KUNIT_EXPECT_EQ(test, ids[i], TEST_FLOOR + 64 + i);

	/* Holes, then on past the last. */
	for (id = 300; id < 310; id++)
		KUNIT_EXPECT_EQ(test, ioasid_free(set, id), 0);
	KUNIT_EXPECT_EQ(test, alloc_batch(set, 0, ~0U, 12, ids), 0);
	for (i = 0; i < 10; i++)
		KUNIT_EXPECT_EQ(test, ids[i], 300 + i);
	KUNIT_EXPECT_EQ(test, ids[10], TEST_FLOOR + 164);
	KUNIT_EXPECT_EQ(test, ids[11], TEST_FLOOR + 165);

	/* Everything else above the floor, then below it, lowest first. */
	KUNIT_EXPECT_EQ(test, alloc_batch(set, 0, ~0U, above - 166, ids), 0);
	for (i = 0; i < above - 166; i++)
		KUNIT_EXPECT_EQ(test, ids[i], TEST_FLOOR + 166 + i);
	KUNIT_EXPECT_EQ(test, ioasid_alloc(set, 0, ~0U, IOMMU_PASID_INVALID,
					   &id), 0);
	KUNIT_EXPECT_EQ(test, id, 1);
	KUNIT_EXPECT_EQ(test, alloc_batch(set, 0, ~0U, 64, ids), 0);
	for (i = 0; i < 64; i++)
		KUNIT_EXPECT_EQ(test, ids[i], 2 + i);
	KUNIT_EXPECT_EQ(test, cg_usage(ctx), ctx->usage + above + 65);

	ioasid_set_free(set);
	KUNIT_EXPECT_EQ(test, cg_usage(ctx), ctx->usage);
	ioasid_test_swap_hw_max_pasids(TEST_MAX_PASIDS);
}

static void ioasid_test_whole_namespace(struct kunit *test)
{
	struct ioasid_test_ctx *ctx = test->priv;
	struct ioasid_set *set = new_set(test, 0);
	ioasid_t ids[TEST_MAX_PASIDS - 1], id;
	int i;

	KUNIT_EXPECT_EQ(test, alloc_batch(set, 0, IOMMU_PASID_INVALID,
					  ARRAY_SIZE(ids), ids), 0);
	for (i = 0; i < ARRAY_SIZE(ids); i++)
		KUNIT_EXPECT_EQ(test, ids[i], i + 1);
	KUNIT_EXPECT_EQ(test, ioasid_alloc(set, 0, IOMMU_PASID_INVALID,
					   IOMMU_PASID_INVALID, &id), -ENOSPC);
	KUNIT_EXPECT_EQ(test, cg_usage(ctx), ctx->usage + ARRAY_SIZE(ids));
	ioasid_set_free(set);
}

static void ioasid_test_quota(struct kunit *test)
{
	struct ioasid_test_ctx *ctx = test->priv;
	struct ioasid_set *set = new_set(test, 2);
	struct ioasid_set_info info;
	ioasid_t ids[3];

	KUNIT_EXPECT_EQ(test, alloc_batch(set, 0, 100, 3, ids), -EDQUOT);
	KUNIT_EXPECT_EQ(test, cg_usage(ctx), ctx->usage);
	KUNIT_EXPECT_EQ(test, alloc_batch(set, 0, 100, 2, ids), 0);
	KUNIT_EXPECT_EQ(test, ioasid_alloc(set, 0, 100, IOMMU_PASID_INVALID,
					   &ids[2]), -EDQUOT);
	ioasid_set_get_info(set, &info);
	KUNIT_EXPECT_EQ(test, info.room, 0);

	/* Lowering below the count is accepted and refuses until it drops. */
	KUNIT_EXPECT_EQ(test, ioasid_set_set_quota(set, 1), 0);
	KUNIT_EXPECT_EQ(test, ioasid_free(set, ids[0]), 0);
	KUNIT_EXPECT_EQ(test, ioasid_alloc(set, 0, 100, IOMMU_PASID_INVALID,
					   &ids[2]), -EDQUOT);
	KUNIT_EXPECT_EQ(test, ioasid_free(set, ids[1]), 0);
	KUNIT_EXPECT_EQ(test, ioasid_alloc(set, 0, 100, IOMMU_PASID_INVALID,
					   &ids[2]), 0);
	ioasid_set_get_info(set, &info);
	KUNIT_EXPECT_EQ(test, info.count, 1);
	KUNIT_EXPECT_EQ(test, cg_usage(ctx), ctx->usage + 1);
	ioasid_set_free(set);
}

/* A set cannot free or look up another set's IDs. */
static void ioasid_test_foreign(struct kunit *test)
{
	struct ioasid_set *a = new_set(test, 0), *b = new_set(test, 0);
	ioasid_t id, found;

	KUNIT_EXPECT_EQ(test, ioasid_alloc(a, 0, 100, 7, &id), 0);
	KUNIT_EXPECT_EQ(test, ioasid_free(b, id), -ENOENT);
	KUNIT_EXPECT_EQ(test, ioasid_find_by_spid(b, 7, &found), -ENOENT);
	KUNIT_EXPECT_EQ(test, ioasid_find_spid(b, id, &found), -ENOENT);
	KUNIT_EXPECT_EQ(test, ioasid_free(a, id), 0);
	ioasid_set_free(a);
	ioasid_set_free(b);
}

/* A quota can only be lowered, through the kernel API as through the fd. */
static void ioasid_test_quota_only_lowered(struct kunit *test)
{
	struct ioasid_set *set = new_set(test, 0);
	struct ioasid_set *limited = new_set(test, 4);

	KUNIT_EXPECT_EQ(test, ioasid_set_set_quota(set, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, ioasid_set_set_quota(set, 8), 0);
	KUNIT_EXPECT_EQ(test, ioasid_set_set_quota(set, 9), -EPERM);
	KUNIT_EXPECT_EQ(test, ioasid_set_set_quota(set, 0), -EPERM);
	KUNIT_EXPECT_EQ(test, ioasid_set_set_quota(set, 8), 0);
	KUNIT_EXPECT_EQ(test, ioasid_set_set_quota(set, 2), 0);
	KUNIT_EXPECT_EQ(test, ioasid_set_set_quota(limited, 5), -EPERM);
	KUNIT_EXPECT_EQ(test, ioasid_set_set_quota(limited, 3), 0);
	ioasid_set_free(limited);
	ioasid_set_free(set);
}

/*
 * A private ID is attached at allocation, unique in its set, found both
 * ways, and free again once its ID is.
 */
static void ioasid_test_spid(struct kunit *test)
{
	struct ioasid_set *set = new_set(test, 0);
	ioasid_t a, b, ids[2], found;

	KUNIT_EXPECT_EQ(test, ioasid_alloc(set, 0, 100, 100, &a), 0);
	KUNIT_EXPECT_EQ(test, ioasid_find_by_spid(set, 100, &found), 0);
	KUNIT_EXPECT_EQ(test, found, a);
	KUNIT_EXPECT_EQ(test, ioasid_find_spid(set, a, &found), 0);
	KUNIT_EXPECT_EQ(test, found, 100);

	/* Unique within the set, one ID per private ID. */
	KUNIT_EXPECT_EQ(test, ioasid_alloc(set, 0, 100, 100, &b), -EEXIST);
	KUNIT_EXPECT_EQ(test, ioasid_alloc_reserve(set, 0, 100, 2, 101, ids),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, ioasid_alloc(set, 0, 100, IOMMU_PASID_INVALID,
					   &b), 0);
	KUNIT_EXPECT_EQ(test, ioasid_find_spid(set, b, &found), -ENOENT);

	/* Freeing an ID frees its private ID. */
	KUNIT_EXPECT_EQ(test, ioasid_free(set, a), 0);
	KUNIT_EXPECT_EQ(test, ioasid_find_by_spid(set, 100, &found), -ENOENT);
	KUNIT_EXPECT_EQ(test, ioasid_find_spid(set, a, &found), -ENOENT);
	KUNIT_EXPECT_EQ(test, ioasid_alloc(set, 0, 100, 100, &a), 0);
	KUNIT_EXPECT_EQ(test, ioasid_find_by_spid(set, 100, &found), 0);
	KUNIT_EXPECT_EQ(test, found, a);
	ioasid_set_free(set);
}

/*
 * Plain IDs and an ID with a private ID (which needs an object) in one
 * batch: FREE gives them all back, the private ID with its ID; a batch
 * that names an ID twice frees none.
 */
static void ioasid_test_mixed_batch(struct kunit *test)
{
	struct ioasid_test_ctx *ctx = test->priv;
	struct ioasid_set *set = new_set(test, 0);
	ioasid_t ids[40], dup[3], id, found;
	int i;

	KUNIT_ASSERT_EQ(test, alloc_batch(set, 0, 63, 40, ids), 0);
	/* ids[7] again, with a private ID: an object among plain IDs. */
	KUNIT_EXPECT_EQ(test, ioasid_free(set, ids[7]), 0);
	KUNIT_EXPECT_EQ(test, ioasid_alloc(set, ids[7], ids[7], 7, &id), 0);
	KUNIT_EXPECT_EQ(test, id, ids[7]);

	dup[0] = ids[1];
	dup[1] = ids[7];
	dup[2] = ids[1];
	KUNIT_EXPECT_EQ(test, ioasid_free_batch(set, dup, 3), -ENOENT);
	KUNIT_EXPECT_EQ(test, ioasid_find_by_spid(set, 7, &found), 0);
	KUNIT_EXPECT_EQ(test, found, ids[7]);
	KUNIT_EXPECT_EQ(test, cg_usage(ctx), ctx->usage + 40);

	KUNIT_EXPECT_EQ(test, ioasid_free_batch(set, ids, 40), 0);
	KUNIT_EXPECT_EQ(test, cg_usage(ctx), ctx->usage);
	KUNIT_EXPECT_EQ(test, ioasid_find_by_spid(set, 7, &found), -ENOENT);
	for (i = 0; i < 40; i++)
		KUNIT_EXPECT_EQ(test, ioasid_alloc(set, ids[i], ids[i],
						   i == 7 ? 7 : IOMMU_PASID_INVALID,
						   &id), 0);
	KUNIT_EXPECT_EQ(test, cg_usage(ctx), ctx->usage + 40);
	ioasid_set_free(set);
	KUNIT_EXPECT_EQ(test, cg_usage(ctx), ctx->usage);
}

/*
 * A batch goes on from the last ID it took, within one hold of the lock:
 * it must still take the lowest free IDs, holes first, as one ID at a
 * time in one step (ioasid_alloc()) does.
 */
static void ioasid_test_batch_takes_holes(struct kunit *test)
{
	static const ioasid_t holes[] = { 3, 4, 9, 20 };
	struct ioasid_test_ctx *ctx = test->priv;
	ioasid_t ids[TEST_MAX_PASIDS], got[6];
	struct ioasid_set_info info;
	struct ioasid_set *set;
	int way, i;

	for (way = 0; way < 2; way++) {
		set = new_set(test, 0);
		KUNIT_ASSERT_EQ(test, alloc_batch(set, 1, 30, 30, ids), 0);
		for (i = 0; i < 30; i++)
			KUNIT_EXPECT_EQ(test, ids[i], i + 1);
		for (i = 0; i < ARRAY_SIZE(holes); i++)
			KUNIT_EXPECT_EQ(test, ioasid_free(set, holes[i]), 0);
		if (way == 0) {
			KUNIT_ASSERT_EQ(test, ioasid_alloc_reserve(set, 1, 40, 6,
								   IOMMU_PASID_INVALID,
								   got), 0);
			/* Not visible yet: FREE does not know them. */
			KUNIT_EXPECT_EQ(test, ioasid_free(set, got[0]), -ENOENT);
			ioasid_alloc_finalize(set, got, 6);
		} else {
			for (i = 0; i < 6; i++)
				KUNIT_ASSERT_EQ(test, ioasid_alloc(set, 1, 40,
								   IOMMU_PASID_INVALID,
								   &got[i]), 0);
		}
		for (i = 0; i < ARRAY_SIZE(holes); i++)
			KUNIT_EXPECT_EQ(test, got[i], holes[i]);
		KUNIT_EXPECT_EQ(test, got[4], 31);
		KUNIT_EXPECT_EQ(test, got[5], 32);
		ioasid_set_get_info(set, &info);
		KUNIT_EXPECT_EQ(test, info.count, 32);
		KUNIT_EXPECT_EQ(test, cg_usage(ctx), ctx->usage + 32);
		/* Every one of them is the set's, and live. */
		KUNIT_EXPECT_EQ(test, ioasid_free_batch(set, got, 6), 0);
		KUNIT_EXPECT_EQ(test, ioasid_free_batch(set, got, 6), -ENOENT);
		ioasid_set_free(set);
		KUNIT_EXPECT_EQ(test, cg_usage(ctx), ctx->usage);
	}
}

/*
 * The paths no other case takes: an allocation with a private ID that
 * finds no room leaves the private ID free; the kernel set's IDs;
 * ioasid_set_free(NULL).
 */
static void ioasid_test_edges(struct kunit *test)
{
	struct ioasid_test_ctx *ctx = test->priv;
	struct ioasid_set *set = new_set(test, 0);
	ioasid_t a, b, found;

	KUNIT_ASSERT_EQ(test, ioasid_alloc(set, 0, 63, 9, &a), 0);

	/* No room in [a, a]: the private ID stays free. */
	KUNIT_EXPECT_EQ(test, ioasid_alloc(set, a, a, 10, &b), -ENOSPC);
	KUNIT_EXPECT_EQ(test, cg_usage(ctx), ctx->usage + 1);
	KUNIT_ASSERT_EQ(test, ioasid_alloc(set, 0, 63, 10, &b), 0);
	KUNIT_EXPECT_EQ(test, ioasid_find_by_spid(set, 10, &found), 0);
	KUNIT_EXPECT_EQ(test, found, b);
	KUNIT_EXPECT_EQ(test, ioasid_free(set, b), 0);
	KUNIT_EXPECT_EQ(test, ioasid_free(set, a), 0);
	KUNIT_EXPECT_EQ(test, ioasid_find_by_spid(set, 9, &found), -ENOENT);
	KUNIT_EXPECT_EQ(test, cg_usage(ctx), ctx->usage);

	/* The kernel's own set, as iommu_alloc_global_pasid() uses it. */
	KUNIT_ASSERT_EQ(test, ioasid_alloc(ioasid_kernel_set, 0, 63,
					   IOMMU_PASID_INVALID, &b), 0);
	KUNIT_EXPECT_EQ(test, cg_usage(ctx), ctx->usage + 1);
	KUNIT_EXPECT_EQ(test, ioasid_free(ioasid_kernel_set, b), 0);

	ioasid_set_free(NULL);
	ioasid_set_free(set);
}

/* Batch: all or nothing. */
static void ioasid_test_batch_rollback(struct kunit *test)
{
	struct ioasid_test_ctx *ctx = test->priv;
	struct ioasid_set *set = new_set(test, 0);
	struct ioasid_set_info info;
	ioasid_t ids[5], one;

	/* Three free IDs in [40, 44]: a batch of five fails whole. */
	KUNIT_EXPECT_EQ(test, ioasid_alloc(set, 41, 41, IOMMU_PASID_INVALID,
					   &one), 0);
	KUNIT_EXPECT_EQ(test, ioasid_alloc(set, 43, 43, IOMMU_PASID_INVALID,
					   &one), 0);
	KUNIT_EXPECT_EQ(test, alloc_batch(set, 40, 44, 5, ids), -ENOSPC);
	KUNIT_EXPECT_EQ(test, alloc_batch(set, 40, 45, 5, ids), -ENOSPC);
	ioasid_set_get_info(set, &info);
	KUNIT_EXPECT_EQ(test, info.count, 2);
	KUNIT_EXPECT_EQ(test, cg_usage(ctx), ctx->usage + 2);
	/* The IDs the failed batch took on the way are free again. */
	KUNIT_EXPECT_EQ(test, alloc_batch(set, 40, 44, 3, ids), 0);
	KUNIT_EXPECT_EQ(test, ids[0], 40);
	KUNIT_EXPECT_EQ(test, ids[1], 42);
	KUNIT_EXPECT_EQ(test, ids[2], 44);
	KUNIT_EXPECT_EQ(test, alloc_batch(set, 0, 100, 0, ids), -EINVAL);
	ioasid_set_free(set);
}

/*
 * The namespace is as large as the largest IOMMU's PASID space, at most
 * 2^20: a small IOMMU (or one without PASIDs) takes nothing from others.
 */
static void ioasid_test_capacity_follows_largest(struct kunit *test)
{
	struct ioasid_set *set = new_set(test, 0);
	ioasid_t id;

	KUNIT_EXPECT_EQ(test, ioasid_max_pasids(), TEST_MAX_PASIDS);
	ioasid_register_max_pasids(16);
	ioasid_register_max_pasids(1);
	ioasid_register_max_pasids(0);
	KUNIT_EXPECT_EQ(test, ioasid_max_pasids(), TEST_MAX_PASIDS);
	KUNIT_EXPECT_EQ(test, ioasids_cg_capacity(), TEST_MAX_PASIDS - 1);
	KUNIT_EXPECT_EQ(test, ioasid_alloc(set, 20, 60, IOMMU_PASID_INVALID,
					   &id), 0);
	KUNIT_EXPECT_EQ(test, ioasid_free(set, id), 0);

	ioasid_register_max_pasids(TEST_MAX_PASIDS * 2);
	KUNIT_EXPECT_EQ(test, ioasid_max_pasids(), TEST_MAX_PASIDS * 2);
	KUNIT_EXPECT_EQ(test, ioasids_cg_capacity(), TEST_MAX_PASIDS * 2 - 1);
	ioasid_register_max_pasids(U32_MAX);
	KUNIT_EXPECT_EQ(test, ioasid_max_pasids(), 1U << 20);
	ioasid_set_free(set);
}

/* Destroying a set frees everything it holds. */
static void ioasid_test_set_destroy(struct kunit *test)
{
	struct ioasid_test_ctx *ctx = test->priv;
	struct ioasid_set *set = new_set(test, 0);
	ioasid_t ids[10], id;

	KUNIT_EXPECT_EQ(test, alloc_batch(set, 0, 100, 10, ids), 0);
	KUNIT_EXPECT_EQ(test, ioasid_free(set, ids[3]), 0);
	KUNIT_EXPECT_EQ(test, cg_usage(ctx), ctx->usage + 9);
	ioasid_set_free(set);
	KUNIT_EXPECT_EQ(test, cg_usage(ctx), ctx->usage);

	set = new_set(test, 0);
	KUNIT_EXPECT_EQ(test, alloc_batch(set, ids[0], ids[9], 10, ids),
			0);
	KUNIT_EXPECT_EQ(test, ioasid_alloc(set, ids[0], ids[9],
					   IOMMU_PASID_INVALID, &id), -ENOSPC);
	ioasid_set_free(set);
}

static void ioasid_test_mm_set(struct kunit *test)
{
	struct ioasid_test_ctx *ctx = test->priv;
	struct mm_struct *mm = (struct mm_struct *)test;	/* a token */
	struct ioasid_set *set;
	ioasid_t pasid;

	KUNIT_EXPECT_EQ(test, ioasid_mm_alloc(mm, 100, &pasid), 0);
	KUNIT_EXPECT_EQ(test, cg_usage(ctx), ctx->usage + 1);
	/* Found by its PASID, and only as the mm's. */
	set = ioasid_set_find_mm(mm, pasid);
	KUNIT_ASSERT_NOT_NULL(test, set);
	ioasid_set_put(set);
	KUNIT_EXPECT_NULL(test, ioasid_set_find_mm(mm, pasid + 1));
	KUNIT_EXPECT_NULL(test, ioasid_set_find_mm((void *)ctx, pasid));
	KUNIT_EXPECT_PTR_EQ(test, ioasid_set_alloc(IOASID_SET_TYPE_MM, NULL, 0),
			    ERR_PTR(-EINVAL));

	ioasid_mm_drop(mm, pasid);
	KUNIT_EXPECT_NULL(test, ioasid_set_find_mm(mm, pasid));
	ioasid_flush_mm_drops();
	KUNIT_EXPECT_EQ(test, cg_usage(ctx), ctx->usage);
}

#define CONCURRENT_LOOPS	3000

struct allocator {
	struct ioasid_set *set;
	struct completion done;		/* for good: complete_all() */
	bool started;
	unsigned long ok, full, errors;
};

/* At the test's end, however it ended: the allocator has finished. */
static void allocator_finish(void *data)
{
	struct allocator *a = data;

	if (a->started)
		wait_for_completion(&a->done);
}

static int allocator_fn(void *arg)
{
	struct allocator *a = arg;
	unsigned int n, j;
	ioasid_t ids[4];
	int i, ret;

	for (i = 0; i < CONCURRENT_LOOPS; i++) {
		/* One ID in one step, or up to four in two. */
		n = 1 + (i & 3);
		ret = n == 1 ? ioasid_alloc(a->set, 0, 16, IOMMU_PASID_INVALID,
					    ids) :
			       alloc_batch(a->set, 0, 16, n, ids);
		if (!ret) {
			a->ok++;
			for (j = 0; j < n; j++)
				if (ioasid_free(a->set, ids[j]))
					a->errors++;
		} else if (ret == -ENOSPC) {
			a->full++;
		} else {
			a->errors++;
		}
		if (!(i & 63))
			cond_resched();
	}
	complete_all(&a->done);
	return 0;
}

/* Two kthreads racing for a 16-ID range end with nothing held. */
static void ioasid_test_concurrent(struct kunit *test)
{
	struct ioasid_test_ctx *ctx = test->priv;
	struct allocator *a = kunit_kcalloc(test, 2, sizeof(*a), GFP_KERNEL);
	struct ioasid_set_info info;
	struct task_struct *t;
	int i, ret;

	/*
	 * Off the test's stack, and no assertion while a thread runs: the
	 * suite's exit, which checks the charges, runs before any deferred
	 * action. allocator_finish() is for a test killed meanwhile.
	 */
	KUNIT_ASSERT_NOT_NULL(test, a);
	for (i = 0; i < 2; i++) {
		a[i].set = new_set(test, 0);
		init_completion(&a[i].done);
		ret = kunit_add_action_or_reset(test, allocator_finish, &a[i]);
		KUNIT_ASSERT_EQ(test, ret, 0);
	}
	for (i = 0, ret = 0; i < 2 && !ret; i++) {
		t = kthread_run(allocator_fn, &a[i], "ioasid_kunit/%d", i);
		ret = PTR_ERR_OR_ZERO(t);
		a[i].started = !ret;
	}
	for (i = 0; i < 2; i++)
		if (a[i].started)
			wait_for_completion(&a[i].done);
	KUNIT_ASSERT_EQ(test, ret, 0);

	for (i = 0; i < 2; i++) {
		KUNIT_EXPECT_EQ(test, a[i].errors, 0);
		KUNIT_EXPECT_EQ(test, a[i].ok + a[i].full, CONCURRENT_LOOPS);
		ioasid_set_get_info(a[i].set, &info);
		KUNIT_EXPECT_EQ(test, info.count, 0);
		ioasid_set_free(a[i].set);
	}
	KUNIT_EXPECT_GT(test, a[0].ok + a[1].ok, 0);
	KUNIT_EXPECT_EQ(test, cg_usage(ctx), ctx->usage);
}

/* A device whose table is a log, standing in for PASID hardware. */
struct fake_dev {
	struct ioasid_device idev;
	struct ioasid_set *other;
	char log[32];
	int reused_while_programmed;
	ioasid_t fail_id;
	/* If set, set_pasid() says it entered, then waits for the gate. */
	struct completion *entered, *gate;
};

static void fake_log(struct fake_dev *f, char c)
{
	size_t len = strlen(f->log);

	if (len < sizeof(f->log) - 1)
		f->log[len] = c;
}

static int fake_set_pasid(struct ioasid_device *idev, ioasid_t id)
{
	struct fake_dev *f = container_of(idev, struct fake_dev, idev);

	if (f->gate) {
		complete(f->entered);
		wait_for_completion(f->gate);
	}
	if (id == f->fail_id)
		return -EIO;
	fake_log(f, 's');
	return 0;
}

static void fake_clear_pasid(struct ioasid_device *idev, ioasid_t id)
{
	struct fake_dev *f = container_of(idev, struct fake_dev, idev);
	ioasid_t again;

	fake_log(f, 'c');
	/* The entry is still there: nobody may be handed @id yet. */
	if (!ioasid_alloc(f->other, id, id, IOMMU_PASID_INVALID, &again)) {
		f->reused_while_programmed++;
		ioasid_free(f->other, again);
	}
}

static const struct ioasid_device_ops fake_ops = {
	.set_pasid = fake_set_pasid,
	.clear_pasid = fake_clear_pasid,
};

/* The test's end, however it ended: no device of a test stays behind. */
static void fake_dev_unregister(void *data)
{
	struct fake_dev *f = data;

	ioasid_device_unregister(&f->idev);
	ioasid_set_free(f->other);
}

static struct fake_dev *fake_dev_new(struct kunit *test)
{
	struct fake_dev *f;

	f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, f);
	f->idev.max_pasids = TEST_MAX_PASIDS / 2;
	f->idev.ops = &fake_ops;
	f->fail_id = IOMMU_PASID_INVALID;
	f->other = new_set(test, 0);
	KUNIT_ASSERT_EQ(test, ioasid_device_register(&f->idev), 0);
	/* Runs before @f is freed: actions go in reverse. */
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							fake_dev_unregister, f),
			0);
	return f;
}

/*
 * From now on set_pasid() says it entered, then waits for f->gate, which
 * opens for good: complete_all().
 */
static void fake_dev_gate(struct kunit *test, struct fake_dev *f)
{
	f->entered = kunit_kzalloc(test, sizeof(*f->entered), GFP_KERNEL);
	f->gate = kunit_kzalloc(test, sizeof(*f->gate), GFP_KERNEL);
	KUNIT_ASSERT_TRUE(test, f->entered && f->gate);
	init_completion(f->entered);
	init_completion(f->gate);
}

static void fake_dev_del(struct kunit *test, struct fake_dev *f)
{
	kunit_release_action(test, fake_dev_unregister, f);
}

/*
 * Freeing a programmed ID: the entry is cleared, and only then can anyone
 * be handed the ID again.
 */
static void ioasid_test_bind_free_order(struct kunit *test)
{
	struct ioasid_set *set = new_set(test, 0);
	struct fake_dev *f = fake_dev_new(test);
	struct ioasid_set_info info;
	ioasid_t id, again;

	KUNIT_ASSERT_EQ(test, ioasid_alloc(set, 0, 15, IOMMU_PASID_INVALID,
					   &id), 0);
	KUNIT_EXPECT_EQ(test, ioasid_bind(set, &f->idev, id), 0);
	KUNIT_EXPECT_EQ(test, ioasid_bind(set, &f->idev, id), -EEXIST);
	KUNIT_EXPECT_EQ(test, ioasid_bind(f->other, &f->idev, id), -ENOENT);
	KUNIT_EXPECT_EQ(test, ioasid_unbind(f->other, &f->idev, id), -ENOENT);
	KUNIT_EXPECT_STREQ(test, f->log, "s");

	KUNIT_EXPECT_EQ(test, ioasid_free(set, id), 0);
	KUNIT_EXPECT_STREQ(test, f->log, "sc");
	KUNIT_EXPECT_EQ(test, f->reused_while_programmed, 0);
	ioasid_set_get_info(set, &info);
	KUNIT_EXPECT_EQ(test, info.count, 0);
	KUNIT_EXPECT_EQ(test, ioasid_bind(set, &f->idev, id), -ENOENT);
	KUNIT_EXPECT_EQ(test, ioasid_unbind(set, &f->idev, id), -ENOENT);

	/* Now it may go to anyone. */
	KUNIT_EXPECT_EQ(test, ioasid_alloc(f->other, id, id,
					   IOMMU_PASID_INVALID, &again), 0);
	KUNIT_EXPECT_EQ(test, ioasid_free(f->other, again), 0);
	fake_dev_del(test, f);
	ioasid_set_free(set);
}

/*
 * A bind or a free on another thread, off the test's stack. Each wait for
 * it is bounded, so that a regression fails the test instead of hanging
 * the suite; at the test's end the gate opens and the racer is waited for.
 */
#define RACER_WAIT_MS	10000

struct bind_racer {
	struct ioasid_set *set;
	struct fake_dev *f;
	ioasid_t id;
	int ret;
	struct completion done;		/* for good: complete_all() */
	struct task_struct *task;
};

static int racer_bind_fn(void *arg)
{
	struct bind_racer *r = arg;

	r->ret = ioasid_bind(r->set, &r->f->idev, r->id);
	complete_all(&r->done);
	return 0;
}

static int racer_free_fn(void *arg)
{
	struct bind_racer *r = arg;

	r->ret = ioasid_free(r->set, r->id);
	complete_all(&r->done);
	return 0;
}

static bool racer_wait(struct completion *c)
{
	return wait_for_completion_timeout(c, msecs_to_jiffies(RACER_WAIT_MS));
}

/* The test's end, however it ended: the racer is gone. */
static void racer_finish(void *data)
{
	struct bind_racer *r = data;

	if (r->f->gate)
		complete_all(r->f->gate);
	wait_for_completion(&r->done);
	put_task_struct(r->task);
}

static struct bind_racer *racer_start(struct kunit *test, int (*fn)(void *),
				      struct ioasid_set *set,
				      struct fake_dev *f, ioasid_t id)
{
	struct bind_racer *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	struct task_struct *t;

	if (!r)
		return NULL;
	*r = (struct bind_racer) { .set = set, .f = f, .id = id };
	init_completion(&r->done);
	t = kthread_create(fn, r, "ioasid_kunit/race");
	if (IS_ERR(t))
		return NULL;
	/* Held before it runs: racer_wait_blocked() reads its state. */
	r->task = get_task_struct(t);
	wake_up_process(t);
	/* Runs before @r is freed; at once if it cannot be added. */
	if (kunit_add_action_or_reset(test, racer_finish, r))
		return NULL;
	return r;
}

/* Until @r sleeps uninterruptibly (on a lock) or is done: at most 10 s. */
static void racer_wait_blocked(struct bind_racer *r)
{
	int i;

	for (i = 0; i < 500 && !completion_done(&r->done); i++) {
		if (READ_ONCE(r->task->__state) == TASK_UNINTERRUPTIBLE)
			return;
		msleep(20);
	}
}

/*
 * A FREE that meets a BIND in flight (past its check, still programming
 * the device) waits for it, and then clears the entry the BIND made: the
 * ID never goes back to the pool while a table holds it.
 */
static void ioasid_test_bind_in_flight_then_free(struct kunit *test)
{
	struct ioasid_set *set = new_set(test, 0);
	struct fake_dev *f = fake_dev_new(test);
	struct bind_racer *b, *fr = NULL;
	bool entered, done;
	ioasid_t id;

	fake_dev_gate(test, f);
	KUNIT_ASSERT_EQ(test, ioasid_alloc(set, 0, 15, IOMMU_PASID_INVALID,
					   &id), 0);
	memset(f->log, 0, sizeof(f->log));

	b = racer_start(test, racer_bind_fn, set, f, id);
	KUNIT_ASSERT_NOT_NULL(test, b);
	entered = racer_wait(f->entered);
	if (entered)
		fr = racer_start(test, racer_free_fn, set, f, id);
	if (fr)
		racer_wait_blocked(fr);
	/* Before any assertion: the bind holds the devices' lock. */
	complete_all(f->gate);
	done = racer_wait(&b->done) && fr && racer_wait(&fr->done);
	KUNIT_ASSERT_TRUE(test, entered);
	KUNIT_ASSERT_NOT_NULL(test, fr);
	KUNIT_ASSERT_TRUE(test, done);

	KUNIT_EXPECT_EQ(test, b->ret, 0);
	KUNIT_EXPECT_EQ(test, fr->ret, 0);
	KUNIT_EXPECT_STREQ(test, f->log, "sc");
	KUNIT_EXPECT_EQ(test, f->reused_while_programmed, 0);
	fake_dev_del(test, f);
	ioasid_set_free(set);
}

/*
 * A BIND under way holds the ID when a FREE comes: the FREE waits, and
 * until the BIND is over the ID stays charged, out of anyone's reach,
 * and its private ID (@spid, if it has one) taken; a BIND that then fails
 * lets the FREE give both back before it returns. A plain ID's BIND makes
 * the object that holds the bond; an ID with a private ID has one.
 */
static void free_waits_for_bind(struct kunit *test, ioasid_t spid)
{
	struct ioasid_test_ctx *ctx = test->priv;
	struct ioasid_set *set = new_set(test, 0);
	struct fake_dev *f = fake_dev_new(test);
	int reused, spid_ret = 0, found_ret = 0;
	struct bind_racer *b, *fr = NULL;
	ioasid_t id, again, found;
	bool entered, waited, done;
	s64 held;

	fake_dev_gate(test, f);
	KUNIT_ASSERT_EQ(test, ioasid_alloc(set, 0, 15, spid, &id), 0);
	f->fail_id = id;

	b = racer_start(test, racer_bind_fn, set, f, id);
	KUNIT_ASSERT_NOT_NULL(test, b);
	entered = racer_wait(f->entered);
	if (entered)
		fr = racer_start(test, racer_free_fn, set, f, id);
	if (fr)
		racer_wait_blocked(fr);
	/* No assertion until both are done: the bind holds the lock. */
	waited = fr && !completion_done(&fr->done);
	reused = ioasid_alloc(f->other, id, id, IOMMU_PASID_INVALID, &again);
	if (!reused)
		ioasid_free(f->other, again);
	if (spid != IOMMU_PASID_INVALID) {
		spid_ret = ioasid_alloc(set, 0, 15, spid, &again);
		if (!spid_ret)
			ioasid_free(set, again);
		found_ret = ioasid_find_by_spid(set, spid, &found);
	}
	held = cg_usage(ctx);
	complete_all(f->gate);
	done = racer_wait(&b->done) && fr && racer_wait(&fr->done);
	KUNIT_ASSERT_TRUE(test, entered);
	KUNIT_ASSERT_NOT_NULL(test, fr);
	KUNIT_ASSERT_TRUE(test, done);

	KUNIT_EXPECT_TRUE(test, waited);
	KUNIT_EXPECT_EQ(test, reused, -ENOSPC);
	if (spid != IOMMU_PASID_INVALID) {
		KUNIT_EXPECT_EQ(test, spid_ret, -EEXIST);
		KUNIT_EXPECT_EQ(test, found_ret, -ENOENT);
	}
	KUNIT_EXPECT_EQ(test, held, ctx->usage + 1);
	KUNIT_EXPECT_EQ(test, b->ret, -EIO);
	KUNIT_EXPECT_EQ(test, fr->ret, 0);
	/* Both given back by the FREE, before it returned. */
	KUNIT_EXPECT_EQ(test, cg_usage(ctx), ctx->usage);
	KUNIT_EXPECT_STREQ(test, f->log, "");
	KUNIT_EXPECT_EQ(test, ioasid_alloc(f->other, id, id,
					   IOMMU_PASID_INVALID, &again), 0);
	KUNIT_EXPECT_EQ(test, ioasid_free(f->other, again), 0);
	if (spid != IOMMU_PASID_INVALID) {
		KUNIT_EXPECT_EQ(test, ioasid_alloc(set, 0, 15, spid, &again),
				0);
		KUNIT_EXPECT_EQ(test, ioasid_free(set, again), 0);
	}
	fake_dev_del(test, f);
	ioasid_set_free(set);
}

static void ioasid_test_free_waits_for_bind(struct kunit *test)
{
	free_waits_for_bind(test, 5);
}

static void ioasid_test_free_waits_for_plain_bind(struct kunit *test)
{
	free_waits_for_bind(test, IOMMU_PASID_INVALID);
}

/* Unbinding keeps the ID; so does a device going away with entries. */
static void ioasid_test_bind_unbind(struct kunit *test)
{
	struct ioasid_test_ctx *ctx = test->priv;
	struct ioasid_set *set = new_set(test, 0);
	struct fake_dev *f = fake_dev_new(test);
	struct ioasid_set_info info;
	ioasid_t ids[3];

	KUNIT_ASSERT_EQ(test, alloc_batch(set, 0, ~0U, 3, ids), 0);
	KUNIT_EXPECT_EQ(test, ioasid_bind(set, &f->idev, ids[0]), 0);
	KUNIT_EXPECT_EQ(test, ioasid_unbind(set, &f->idev, ids[0]), 0);
	KUNIT_EXPECT_STREQ(test, f->log, "sc");
	ioasid_set_get_info(set, &info);
	KUNIT_EXPECT_EQ(test, info.count, 3);

	/* A device that fails to program the ID leaves nothing behind. */
	f->fail_id = ids[1];
	KUNIT_EXPECT_EQ(test, ioasid_bind(set, &f->idev, ids[1]), -EIO);
	KUNIT_EXPECT_EQ(test, ioasid_unbind(set, &f->idev, ids[1]), -ENOENT);

	/* Beyond the device's table. */
	KUNIT_ASSERT_EQ(test, ioasid_alloc(set, TEST_MAX_PASIDS / 2, ~0U,
					   IOMMU_PASID_INVALID, &ids[1]), 0);
	KUNIT_EXPECT_EQ(test, ioasid_bind(set, &f->idev, ids[1]), -EOVERFLOW);

	KUNIT_EXPECT_EQ(test, ioasid_bind(set, &f->idev, ids[2]), 0);
	memset(f->log, 0, sizeof(f->log));
	fake_dev_del(test, f);
	KUNIT_EXPECT_STREQ(test, f->log, "c");
	/* Gone: no bind or unbind reaches it, through any way in. */
	KUNIT_EXPECT_EQ(test, ioasid_bind(set, &f->idev, ids[0]), -ENODEV);
	KUNIT_EXPECT_EQ(test, ioasid_unbind(set, &f->idev, ids[2]), -ENODEV);
	ioasid_set_get_info(set, &info);
	KUNIT_EXPECT_EQ(test, info.count, 4);
	ioasid_set_free(set);
	KUNIT_EXPECT_EQ(test, cg_usage(ctx), ctx->usage);
}

static bool fake_owns_file(struct ioasid_device *idev, struct file *file)
{
	return false;
}

/*
 * ioasid_device_register() of a device it should refuse: if it takes it
 * after all, it is let go at once, so that no stack object of a test stays
 * on the core's list.
 */
static int register_refused(struct ioasid_device *idev)
{
	int ret = ioasid_device_register(idev);

	if (!ret)
		ioasid_device_unregister(idev);
	return ret;
}

/* What ioasid_device_register() refuses. */
static void ioasid_test_device_register(struct kunit *test)
{
	static const struct file_operations fake_fops = {};
	static const struct ioasid_device_ops node_ops = {
		.set_pasid = fake_set_pasid,
		.clear_pasid = fake_clear_pasid,
		.owns_file = fake_owns_file,
	};
	struct ioasid_device a = {
		.devt = MKDEV(4095, 1), .fops = &fake_fops, .max_pasids = 16,
		.ops = &node_ops,
	};
	struct ioasid_device b = a, bad = a;

	bad.ops = NULL;
	KUNIT_EXPECT_EQ(test, register_refused(&bad), -EINVAL);
	/* A node, but no way to tell its files from a removed device's. */
	bad.ops = &fake_ops;
	KUNIT_EXPECT_EQ(test, register_refused(&bad), -EINVAL);
	bad.ops = &node_ops;
	bad.max_pasids = 1;	/* PASID 0 only: no room for an ID */
	KUNIT_EXPECT_EQ(test, register_refused(&bad), -EINVAL);

	bad.max_pasids = 16;
	bad.fops = NULL;	/* a node, but no way to tell its files */
	KUNIT_EXPECT_EQ(test, register_refused(&bad), -EINVAL);

	KUNIT_ASSERT_EQ(test, ioasid_device_register(&a), 0);
	KUNIT_EXPECT_EQ(test, register_refused(&b), -EEXIST);
	ioasid_device_unregister(&a);
	KUNIT_ASSERT_EQ(test, ioasid_device_register(&b), 0);
	ioasid_device_unregister(&b);
}

static struct kunit_case ioasid_test_cases[] = {
	KUNIT_CASE(ioasid_test_alloc_free),
	KUNIT_CASE(ioasid_test_range_exhaustion),
	KUNIT_CASE(ioasid_test_batch_takes_holes),
	KUNIT_CASE(ioasid_test_large_namespace),
	KUNIT_CASE(ioasid_test_whole_namespace),
	KUNIT_CASE(ioasid_test_quota),
	KUNIT_CASE(ioasid_test_foreign),
	KUNIT_CASE(ioasid_test_quota_only_lowered),
	KUNIT_CASE(ioasid_test_spid),
	KUNIT_CASE(ioasid_test_batch_rollback),
	KUNIT_CASE(ioasid_test_mixed_batch),
	KUNIT_CASE(ioasid_test_edges),
	KUNIT_CASE(ioasid_test_capacity_follows_largest),
	KUNIT_CASE(ioasid_test_bind_free_order),
	KUNIT_CASE(ioasid_test_bind_in_flight_then_free),
	KUNIT_CASE(ioasid_test_free_waits_for_bind),
	KUNIT_CASE(ioasid_test_free_waits_for_plain_bind),
	KUNIT_CASE(ioasid_test_bind_unbind),
	KUNIT_CASE(ioasid_test_device_register),
	KUNIT_CASE(ioasid_test_set_destroy),
	KUNIT_CASE(ioasid_test_mm_set),
	KUNIT_CASE(ioasid_test_concurrent),
	{}
};

static struct kunit_suite ioasid_test_suite = {
	.name = "ioasid_core",
	.init = ioasid_test_init,
	.exit = ioasid_test_exit,
	.test_cases = ioasid_test_cases,
};

kunit_test_suite(ioasid_test_suite);

MODULE_DESCRIPTION("KUnit tests for the IOASID core");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

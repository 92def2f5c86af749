// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the charge engine of the IOASID cgroup controller.
 *
 * The engine only follows css.parent, so each test builds its own small tree
 * of struct ioasids_cgroup whose top node stands for the root: no real cgroup
 * is created and nothing the rest of the system charges is touched.
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/ioasids_cgroup.h>
#include <linux/kthread.h>

#define TEST_CAPACITY	100

static unsigned int saved_capacity;

static struct ioasids_cgroup *node(struct kunit *test,
				   struct ioasids_cgroup *parent)
{
	struct ioasids_cgroup *cg;

	cg = kunit_kzalloc(test, sizeof(*cg), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, cg);
	cg->max = U64_MAX;
	INIT_LIST_HEAD(&cg->peak_watchers);
	cg->css.parent = parent ? &parent->css : NULL;
	return cg;
}

static int usage(struct ioasids_cgroup *cg)
{
	return atomic_read(&cg->usage);
}

static int ioasids_kunit_init(struct kunit *test)
{
	saved_capacity = ioasids_cg_capacity();
	ioasids_cg_set_capacity(TEST_CAPACITY);
	return 0;
}

static void ioasids_kunit_exit(struct kunit *test)
{
	ioasids_cg_set_capacity(saved_capacity);
}

/* A limit anywhere on the path refuses; every level below it is unchanged. */
static void ioasids_test_hierarchy(struct kunit *test)
{
	struct ioasids_cgroup *r = node(test, NULL);
	struct ioasids_cgroup *a = node(test, r);
	struct ioasids_cgroup *b = node(test, a);
	struct ioasids_cgroup *c = node(test, a);

	a->max = 5;
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(b, IOASIDS_FD, 3), 0);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(c, IOASIDS_FD, 2), 0);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(c, IOASIDS_FD, 1), -EDQUOT);
	KUNIT_EXPECT_EQ(test, usage(b), 3);
	KUNIT_EXPECT_EQ(test, usage(c), 2);
	KUNIT_EXPECT_EQ(test, usage(a), 5);
	KUNIT_EXPECT_EQ(test, usage(r), 5);

	/* A child's own limit refuses before its parent's is reached. */
	b->max = 3;
	ioasids_cg_uncharge(c, IOASIDS_FD, 2);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(b, IOASIDS_FD, 1), -EDQUOT);
	KUNIT_EXPECT_EQ(test, atomic64_read(&b->events_local), 1);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(c, IOASIDS_FD, 2), 0);

	ioasids_cg_uncharge(b, IOASIDS_FD, 3);
	ioasids_cg_uncharge(c, IOASIDS_FD, 2);
	KUNIT_EXPECT_EQ(test, usage(a), 0);
	KUNIT_EXPECT_EQ(test, usage(r), 0);
}

/* A charge refused high up leaves no trace on the levels it passed. */
static void ioasids_test_rollback(struct kunit *test)
{
	struct ioasids_cgroup *r = node(test, NULL);
	struct ioasids_cgroup *a = node(test, r);
	struct ioasids_cgroup *b = node(test, a);
	struct ioasids_cgroup *c = node(test, b);

	a->max = 4;
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(c, IOASIDS_KERNEL, 5),
			-EDQUOT);
	KUNIT_EXPECT_EQ(test, usage(c), 0);
	KUNIT_EXPECT_EQ(test, usage(b), 0);
	KUNIT_EXPECT_EQ(test, usage(a), 0);
	KUNIT_EXPECT_EQ(test, usage(r), 0);
	KUNIT_EXPECT_EQ(test, ioasids_cg_kind_usage(c, IOASIDS_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&c->watermark), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&b->watermark), 0);

	/* All or nothing: exactly the limit fits. */
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(c, IOASIDS_KERNEL, 4), 0);
	ioasids_cg_uncharge(c, IOASIDS_KERNEL, 4);
	KUNIT_EXPECT_EQ(test, usage(r), 0);
}

static void ioasids_test_peak(struct kunit *test)
{
	struct ioasids_cgroup *r = node(test, NULL);
	struct ioasids_cgroup *a = node(test, r);
	struct ioasids_cgroup *b = node(test, a);

	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(b, IOASIDS_SVA, 3), 0);
	ioasids_cg_uncharge(b, IOASIDS_SVA, 2);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(b, IOASIDS_SVA, 1), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&b->watermark), 3);
	KUNIT_EXPECT_EQ(test, atomic_read(&a->watermark), 3);
	KUNIT_EXPECT_EQ(test, atomic_read(&r->watermark), 3);

	/* A refused charge does not move the high-water mark. */
	a->max = 3;
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(b, IOASIDS_SVA, 2), -EDQUOT);
	KUNIT_EXPECT_EQ(test, atomic_read(&b->watermark), 3);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(b, IOASIDS_SVA, 1), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&b->watermark), 3);

	ioasids_cg_uncharge(b, IOASIDS_SVA, 3);
	KUNIT_EXPECT_EQ(test, atomic_read(&a->watermark), 3);
	KUNIT_EXPECT_EQ(test, usage(r), 0);
}

/* events.local counts at the refusing cgroup, events there and above. */
static void ioasids_test_events(struct kunit *test)
{
	struct ioasids_cgroup *r = node(test, NULL);
	struct ioasids_cgroup *a = node(test, r);
	struct ioasids_cgroup *b = node(test, a);
	struct ioasids_cgroup *c = node(test, b);

	b->max = 1;
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(c, IOASIDS_FD, 2), -EDQUOT);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(c, IOASIDS_FD, 2), -EDQUOT);
	KUNIT_EXPECT_EQ(test, atomic64_read(&b->events_local), 2);
	KUNIT_EXPECT_EQ(test, atomic64_read(&b->events), 2);
	KUNIT_EXPECT_EQ(test, atomic64_read(&a->events), 2);
	KUNIT_EXPECT_EQ(test, atomic64_read(&a->events_local), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c->events), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c->events_local), 0);

	a->max = 0;
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(b, IOASIDS_FD, 1), -EDQUOT);
	KUNIT_EXPECT_EQ(test, atomic64_read(&a->events_local), 1);
	KUNIT_EXPECT_EQ(test, atomic64_read(&a->events), 3);
	KUNIT_EXPECT_EQ(test, atomic64_read(&b->events), 2);

	/* A charge that fits counts nothing. */
	a->max = U64_MAX;
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(c, IOASIDS_FD, 1), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&a->events), 3);
	ioasids_cg_uncharge(c, IOASIDS_FD, 1);
}

static void ioasids_test_capacity(struct kunit *test)
{
	struct ioasids_cgroup *r = node(test, NULL);
	struct ioasids_cgroup *a = node(test, r);

	ioasids_cg_set_capacity(4);
	KUNIT_EXPECT_EQ(test, ioasids_cg_capacity(), 4);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(a, IOASIDS_KERNEL, 4), 0);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(a, IOASIDS_KERNEL, 1),
			-ENOSPC);
	/* Running out of capacity is not a limit: no event. */
	KUNIT_EXPECT_EQ(test, atomic64_read(&a->events_local), 0);
	KUNIT_EXPECT_EQ(test, usage(a), 4);

	/* Lowering below usage is accepted and refuses until usage drops. */
	ioasids_cg_set_capacity(2);
	ioasids_cg_uncharge(a, IOASIDS_KERNEL, 1);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(a, IOASIDS_KERNEL, 1),
			-ENOSPC);
	ioasids_cg_uncharge(a, IOASIDS_KERNEL, 3);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(a, IOASIDS_KERNEL, 2), 0);
	ioasids_cg_uncharge(a, IOASIDS_KERNEL, 2);

	/* No allocator registered: nothing can be charged. */
	ioasids_cg_set_capacity(0);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(a, IOASIDS_KERNEL, 1),
			-ENOSPC);

	/* Capped at the 20-bit namespace. */
	ioasids_cg_set_capacity(UINT_MAX);
	KUNIT_EXPECT_EQ(test, ioasids_cg_capacity(), IOASIDS_MAX_CAPACITY);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(a, IOASIDS_KERNEL,
						    IOASIDS_MAX_CAPACITY + 1),
			-ENOSPC);
	KUNIT_EXPECT_EQ(test, usage(r), 0);
}

static void ioasids_test_limit_below_usage(struct kunit *test)
{
	struct ioasids_cgroup *r = node(test, NULL);
	struct ioasids_cgroup *a = node(test, r);

	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(a, IOASIDS_FD, 3), 0);
	a->max = 1;
	KUNIT_EXPECT_EQ(test, usage(a), 3);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(a, IOASIDS_FD, 1), -EDQUOT);
	ioasids_cg_uncharge(a, IOASIDS_FD, 3);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(a, IOASIDS_FD, 1), 0);
	ioasids_cg_uncharge(a, IOASIDS_FD, 1);
	KUNIT_EXPECT_EQ(test, usage(r), 0);
}

static void ioasids_test_kinds_and_room(struct kunit *test)
{
	struct ioasids_cgroup *r = node(test, NULL);
	struct ioasids_cgroup *a = node(test, r);
	struct ioasids_cgroup *b = node(test, a);

	KUNIT_EXPECT_EQ(test, ioasids_cg_room(b), TEST_CAPACITY);
	a->max = 10;
	b->max = 20;
	KUNIT_EXPECT_EQ(test, ioasids_cg_room(b), 10);

	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(b, IOASIDS_KERNEL, 1), 0);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(b, IOASIDS_SVA, 2), 0);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(a, IOASIDS_FD, 3), 0);
	KUNIT_EXPECT_EQ(test, ioasids_cg_kind_usage(b, IOASIDS_KERNEL), 1);
	KUNIT_EXPECT_EQ(test, ioasids_cg_kind_usage(b, IOASIDS_SVA), 2);
	KUNIT_EXPECT_EQ(test, ioasids_cg_kind_usage(a, IOASIDS_FD), 3);
	KUNIT_EXPECT_EQ(test, ioasids_cg_room(b), 4);
	KUNIT_EXPECT_EQ(test, ioasids_cg_room(a), 4);

	/* Room is bounded by the capacity left, too. */
	ioasids_cg_set_capacity(7);
	KUNIT_EXPECT_EQ(test, ioasids_cg_room(b), 1);

	/* And is 0, not negative, under a limit below usage. */
	a->max = 2;
	KUNIT_EXPECT_EQ(test, ioasids_cg_room(b), 0);

	ioasids_cg_set_attach(b);
	KUNIT_EXPECT_EQ(test, atomic_read(&b->nr_sets), 1);
	ioasids_cg_set_detach(b);
	KUNIT_EXPECT_EQ(test, atomic_read(&b->nr_sets), 0);

	ioasids_cg_uncharge(b, IOASIDS_KERNEL, 1);
	ioasids_cg_uncharge(b, IOASIDS_SVA, 2);
	ioasids_cg_uncharge(a, IOASIDS_FD, 3);
	KUNIT_EXPECT_EQ(test, usage(r), 0);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(b, IOASIDS_FD, 0), 0);
	KUNIT_EXPECT_EQ(test, usage(r), 0);
}

#define CONCURRENT_LOOPS	20000

struct charger {
	struct ioasids_cgroup *cg;
	struct completion done;
	unsigned long charged, refused, errors;
};

static int charger_fn(void *data)
{
	struct charger *ch = data;
	int i, ret;

	for (i = 0; i < CONCURRENT_LOOPS; i++) {
		ret = ioasids_cg_try_charge(ch->cg, IOASIDS_FD, 1 + (i & 1));
		if (!ret) {
			ch->charged++;
			ioasids_cg_uncharge(ch->cg, IOASIDS_FD, 1 + (i & 1));
		} else if (ret == -EDQUOT) {
			ch->refused++;
		} else {
			ch->errors++;
		}
		if (!(i & 255))
			cond_resched();
	}
	complete(&ch->done);
	return 0;
}

/* Two kthreads race on a tight shared limit; the books balance exactly. */
static void ioasids_test_concurrent(struct kunit *test)
{
	struct ioasids_cgroup *r = node(test, NULL);
	struct ioasids_cgroup *a = node(test, r);
	struct charger ch[2] = {
		{ .cg = node(test, a) },
		{ .cg = node(test, a) },
	};
	struct task_struct *t;
	int i;

	a->max = 2;
	for (i = 0; i < 2; i++) {
		init_completion(&ch[i].done);
		t = kthread_run(charger_fn, &ch[i], "ioasids_kunit/%d", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	}
	for (i = 0; i < 2; i++)
		wait_for_completion(&ch[i].done);

	KUNIT_EXPECT_EQ(test, ch[0].errors + ch[1].errors, 0);
	KUNIT_EXPECT_EQ(test, ch[0].charged + ch[0].refused, CONCURRENT_LOOPS);
	KUNIT_EXPECT_GT(test, ch[0].charged + ch[1].charged, 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&a->events_local),
			ch[0].refused + ch[1].refused);
	KUNIT_EXPECT_LE(test, atomic_read(&a->watermark), 2);
	KUNIT_EXPECT_EQ(test, usage(ch[0].cg), 0);
	KUNIT_EXPECT_EQ(test, usage(ch[1].cg), 0);
	KUNIT_EXPECT_EQ(test, usage(a), 0);
	KUNIT_EXPECT_EQ(test, usage(r), 0);
	KUNIT_EXPECT_EQ(test, ioasids_cg_kind_usage(ch[0].cg, IOASIDS_FD), 0);
}

static struct kunit_case ioasids_test_cases[] = {
	KUNIT_CASE(ioasids_test_hierarchy),
	KUNIT_CASE(ioasids_test_rollback),
	KUNIT_CASE(ioasids_test_peak),
	KUNIT_CASE(ioasids_test_events),
	KUNIT_CASE(ioasids_test_capacity),
	KUNIT_CASE(ioasids_test_limit_below_usage),
	KUNIT_CASE(ioasids_test_kinds_and_room),
	KUNIT_CASE(ioasids_test_concurrent),
	{}
};

static struct kunit_suite ioasids_test_suite = {
	.name = "ioasids_cgroup",
	.init = ioasids_kunit_init,
	.exit = ioasids_kunit_exit,
	.test_cases = ioasids_test_cases,
};

kunit_test_suite(ioasids_test_suite);

MODULE_DESCRIPTION("KUnit tests for the IOASID cgroup controller");
MODULE_LICENSE("GPL");

// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the charge engine of the IOASID cgroup controller.
 *
 * The engine only follows css.parent, so each test builds its own small tree
 * of struct ioasids_cgroup whose top node stands for the root: its max is the
 * tree's capacity. No real cgroup is created, and nothing the rest of the
 * system charges, nor the system's capacity, is touched.
 *
 * Races are forced, not hoped for: static stubs pause one charge at a chosen
 * point (between its two walks, or at its refusal) while a kthread runs the
 * other side, in lockstep through completions.
 */

#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/ioasids_cgroup.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>

#include "ioasids_internal.h"

#define TEST_CAPACITY	100
#define PEAK_UNSET	(-1UL)

KUNIT_DEFINE_ACTION_WRAPPER(free_kind_usage, free_percpu,
			    struct ioasids_kind_usage __percpu *);

/* Stub: a test tree's root is its own, not the hierarchy's. */
static struct ioasids_cgroup *test_root(struct ioasids_cgroup *cg)
{
	while (cg->css.parent)
		cg = container_of(cg->css.parent, struct ioasids_cgroup, css);
	return cg;
}

/*
 * A node of a test tree; with no @parent, the root, of capacity
 * TEST_CAPACITY. A charge that passes every level below the root by at
 * once takes this root (test_root()).
 */
static struct ioasids_cgroup *node(struct kunit *test,
				   struct ioasids_cgroup *parent)
{
	struct ioasids_cgroup *cg;
	int ret;

	cg = kunit_kzalloc(test, sizeof(*cg), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, cg);
	/* Real per-CPU counters, one set per node, as css_alloc gives. */
	cg->kind_usage = alloc_percpu(struct ioasids_kind_usage);
	KUNIT_ASSERT_TRUE(test, !!cg->kind_usage);
	ret = kunit_add_action_or_reset(test, free_kind_usage,
					(__force void *)cg->kind_usage);
	KUNIT_ASSERT_EQ(test, ret, 0);
	cg->max = parent ? U64_MAX : TEST_CAPACITY;
	cg->max_gp = get_completed_synchronize_rcu();
	INIT_LIST_HEAD(&cg->peak_watchers);
	cg->css.parent = parent ? &parent->css : NULL;
	/* Refusals are logged with the cgroup's path: a node has no cgroup. */
	cg->logged = ~0UL;
	kunit_activate_static_stub(test, ioasids_root, test_root);
	return cg;
}

/* What the limits are checked against: granted and reserved. */
static s64 usage(struct ioasids_cgroup *cg)
{
	return ioasids_usage(cg);
}

static u64 peak(struct ioasids_cgroup *cg)
{
	return ioasids_peak_value(cg, NULL);
}

#define WAIT_MS		10000

/*
 * One side of a forced race: @fn runs in a kthread that is part of @test,
 * so that the stubs the test activated apply to it as well. Allocated by
 * the test, never on its stack: an assertion that ends the test early
 * leaves it to racer_finish().
 */
struct racer {
	struct kunit *test;
	void (*fn)(struct racer *r);
	struct ioasids_cgroup *cg;
	unsigned int n;
	int ret;
	bool started;
	bool entered;	/* the racer's side is under way */
	bool early;	/* and it ended while the test's charge was in flight */
	struct completion paused;	/* the racer stopped in a stub */
	struct completion resume;	/* and may go on */
	struct completion done;		/* for good: complete_all() */
};

static int racer_thread(void *data)
{
	struct racer *r = data;

	current->kunit_test = r->test;
	r->fn(r);
	current->kunit_test = NULL;
	complete(&r->paused);	/* if no stub paused it */
	complete_all(&r->done);
	return 0;
}

/* At the test's end, however it ended: the racer has finished. */
static void racer_finish(void *data)
{
	struct racer *r = data;

	if (!r->started)
		return;
	complete_all(&r->resume);
	wait_for_completion(&r->done);
}

/* A racer running @fn on @cg and @n, found by the stubs in test->priv. */
static struct racer *new_racer(struct kunit *test, void (*fn)(struct racer *),
			       struct ioasids_cgroup *cg, unsigned int n)
{
	struct racer *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, r);
	*r = (struct racer) { .test = test, .fn = fn, .cg = cg, .n = n };
	init_completion(&r->paused);
	init_completion(&r->resume);
	init_completion(&r->done);
	/* Runs before the allocation is freed: actions go in reverse. */
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, racer_finish, r),
			0);
	test->priv = r;
	return r;
}

/* From a stub: run the racer's side now. */
static void racer_start(struct kunit *test, struct racer *r)
{
	struct task_struct *t;

	unsigned int cpu;

	r->started = true;
	t = kthread_create(racer_thread, r, "ioasids_kunit");
	if (IS_ERR(t))
		r->started = false;
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	/* On another CPU when there is one: it runs while the test spins. */
	cpu = cpumask_any_but(cpu_online_mask, raw_smp_processor_id());
	if (cpu < nr_cpu_ids)
		kthread_bind(t, cpu);
	wake_up_process(t);
}

static bool wait(struct completion *c)
{
	return wait_for_completion_timeout(c, msecs_to_jiffies(WAIT_MS));
}

static void racer_charge(struct racer *r)
{
	r->ret = ioasids_cg_try_charge(r->cg, IOASIDS_FD, r->n);
}

/*
 * Not as ioasids.max is written: only ever from one limit to another,
 * which moves no generation of the limits (ioasids_set_max()).
 */
static void racer_set_max(struct racer *r)
{
	WRITE_ONCE(r->cg->max, r->n);
}

/* As a write of ioasids.max does it, once let go. */
static void racer_write_max(struct racer *r)
{
	if (!wait(&r->resume))
		return;
	/* Pairs with the stub's acquire: it then watches the write. */
	smp_store_release(&r->entered, true);
	ioasids_set_max(r->cg, r->n);
}

/* Stub: the racer's charge stops at its refusal, before it is rolled back. */
static void refused_paused(struct ioasids_cgroup *cg,
			   struct ioasids_cgroup *refuser, unsigned int n)
	__must_hold(RCU)
{
	struct kunit *test = kunit_get_current_test();
	struct racer *r = test->priv;

	/* A charge's walks are an RCU read-side section: not while it sleeps. */
	rcu_read_unlock();
	complete(&r->paused);
	KUNIT_EXPECT_TRUE(test, wait(&r->resume));
	rcu_read_lock();
}

/* Stub: the test's charge stops between its walks until the racer ran. */
static void commit_after_racer(struct ioasids_cgroup *cg,
			       enum ioasids_kind kind, unsigned int n,
			       bool top_granted, u64 skipped)
	__must_hold(RCU)
{
	struct kunit *test = kunit_get_current_test();
	struct racer *r = test->priv;

	kunit_deactivate_static_stub(test, ioasids_commit);
	rcu_read_unlock();
	racer_start(test, r);
	KUNIT_EXPECT_TRUE(test, wait(&r->paused));
	rcu_read_lock();
	ioasids_commit(cg, kind, n, top_granted, skipped);
}

/*
 * Stub: the test's charge, between its walks and without sleeping (its
 * RCU read-side section stays whole), lets the waiting racer go and
 * watches it for 200 ms after it is under way: on more than one CPU it
 * runs meanwhile.
 */
static void racer_runs_meanwhile(struct racer *r)
{
	u64 deadline;

	complete(&r->resume);
	/* On one CPU without preemption, it cannot run before we are done. */
	if (num_online_cpus() < 2)
		return;
	deadline = ktime_get_ns() + 2 * NSEC_PER_SEC;
	/* Pairs with racer_write_max()'s release. */
	while (!smp_load_acquire(&r->entered) && ktime_get_ns() < deadline)
		cpu_relax();
	deadline = ktime_get_ns() + 200 * NSEC_PER_MSEC;
	while (ktime_get_ns() < deadline && !completion_done(&r->done))
		cpu_relax();
	r->early = completion_done(&r->done);
}

/* Stub: racer_runs_meanwhile() between a charge's two walks. */
static void commit_while_racer_runs(struct ioasids_cgroup *cg,
				    enum ioasids_kind kind, unsigned int n,
				    bool top_granted, u64 skipped)
{
	struct kunit *test = kunit_get_current_test();

	kunit_deactivate_static_stub(test, ioasids_commit);
	racer_runs_meanwhile(test->priv);
	ioasids_commit(cg, kind, n, top_granted, skipped);
}

/*
 * Stub: racer_runs_meanwhile() after a charge took the root's room alone,
 * before it grants the levels below.
 */
static void granting_while_racer_runs(struct ioasids_cgroup *cg,
				      unsigned int n)
{
	struct kunit *test = kunit_get_current_test();

	kunit_deactivate_static_stub(test, ioasids_granting);
	racer_runs_meanwhile(test->priv);
}

/* A limit anywhere on the path refuses; every level below it is unchanged. */
static void ioasids_test_hierarchy(struct kunit *test)
{
	struct ioasids_cgroup *r = node(test, NULL);
	struct ioasids_cgroup *a = node(test, r);
	struct ioasids_cgroup *b = node(test, a);
	struct ioasids_cgroup *c = node(test, a);

	ioasids_set_max(a, 5);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(b, IOASIDS_FD, 3), 0);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(c, IOASIDS_FD, 2), 0);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(c, IOASIDS_FD, 1), -EDQUOT);
	KUNIT_EXPECT_EQ(test, usage(b), 3);
	KUNIT_EXPECT_EQ(test, usage(c), 2);
	KUNIT_EXPECT_EQ(test, usage(a), 5);
	KUNIT_EXPECT_EQ(test, usage(r), 5);

	/* A child's own limit refuses before its parent's is reached. */
	ioasids_set_max(b, 3);
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

	ioasids_set_max(a, 4);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(c, IOASIDS_KERNEL, 5),
			-EDQUOT);
	KUNIT_EXPECT_EQ(test, usage(c), 0);
	KUNIT_EXPECT_EQ(test, usage(b), 0);
	KUNIT_EXPECT_EQ(test, usage(a), 0);
	KUNIT_EXPECT_EQ(test, usage(r), 0);
	KUNIT_EXPECT_EQ(test, ioasids_kind_count(c, IOASIDS_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, peak(c), 0);
	KUNIT_EXPECT_EQ(test, peak(b), 0);

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
	KUNIT_EXPECT_EQ(test, peak(b), 3);
	KUNIT_EXPECT_EQ(test, peak(a), 3);
	KUNIT_EXPECT_EQ(test, peak(r), 3);

	/* A refused charge does not move the high-water mark. */
	ioasids_set_max(a, 3);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(b, IOASIDS_SVA, 2), -EDQUOT);
	KUNIT_EXPECT_EQ(test, peak(b), 3);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(b, IOASIDS_SVA, 1), 0);
	KUNIT_EXPECT_EQ(test, peak(b), 3);

	ioasids_cg_uncharge(b, IOASIDS_SVA, 3);
	KUNIT_EXPECT_EQ(test, peak(a), 3);
	KUNIT_EXPECT_EQ(test, usage(r), 0);
}

/* events.local counts at the refusing cgroup, events there and above. */
static void ioasids_test_events(struct kunit *test)
{
	struct ioasids_cgroup *r = node(test, NULL);
	struct ioasids_cgroup *a = node(test, r);
	struct ioasids_cgroup *b = node(test, a);
	struct ioasids_cgroup *c = node(test, b);

	ioasids_set_max(b, 1);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(c, IOASIDS_FD, 2), -EDQUOT);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(c, IOASIDS_FD, 2), -EDQUOT);
	KUNIT_EXPECT_EQ(test, atomic64_read(&b->events_local), 2);
	KUNIT_EXPECT_EQ(test, atomic64_read(&b->events), 2);
	KUNIT_EXPECT_EQ(test, atomic64_read(&a->events), 2);
	KUNIT_EXPECT_EQ(test, atomic64_read(&a->events_local), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c->events), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c->events_local), 0);

	ioasids_set_max(a, 0);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(b, IOASIDS_FD, 1), -EDQUOT);
	KUNIT_EXPECT_EQ(test, atomic64_read(&a->events_local), 1);
	KUNIT_EXPECT_EQ(test, atomic64_read(&a->events), 3);
	KUNIT_EXPECT_EQ(test, atomic64_read(&b->events), 2);
	/* The root counts every refusal below it, and none is capacity's. */
	KUNIT_EXPECT_EQ(test, atomic64_read(&r->events), 3);
	KUNIT_EXPECT_EQ(test, atomic64_read(&r->events_local), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&r->capacity_events), 0);

	/* A charge that fits counts nothing. */
	ioasids_set_max(a, U64_MAX);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(c, IOASIDS_FD, 1), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&a->events), 3);
	ioasids_cg_uncharge(c, IOASIDS_FD, 1);
}

/* The root's max is the capacity: ENOSPC, and no limit event. */
static void ioasids_test_capacity(struct kunit *test)
{
	struct ioasids_cgroup *r = node(test, NULL);
	struct ioasids_cgroup *a = node(test, r);

	r->max = 4;
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(a, IOASIDS_KERNEL, 4), 0);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(a, IOASIDS_KERNEL, 1),
			-ENOSPC);
	/*
	 * Running out of capacity is not a limit: no "max" event, but a
	 * "capacity" one where it was asked for and up to the root.
	 */
	KUNIT_EXPECT_EQ(test, atomic64_read(&a->events_local), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&r->events), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&a->capacity_events_local), 1);
	KUNIT_EXPECT_EQ(test, atomic64_read(&a->capacity_events), 1);
	KUNIT_EXPECT_EQ(test, atomic64_read(&r->capacity_events), 1);
	KUNIT_EXPECT_EQ(test, atomic64_read(&r->capacity_events_local), 0);
	KUNIT_EXPECT_EQ(test, usage(a), 4);

	/* Lowering below usage is accepted and refuses until usage drops. */
	r->max = 2;
	ioasids_cg_uncharge(a, IOASIDS_KERNEL, 1);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(a, IOASIDS_KERNEL, 1),
			-ENOSPC);
	ioasids_cg_uncharge(a, IOASIDS_KERNEL, 3);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(a, IOASIDS_KERNEL, 2), 0);
	ioasids_cg_uncharge(a, IOASIDS_KERNEL, 2);

	/* No allocator registered: nothing can be charged. */
	r->max = 0;
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(a, IOASIDS_KERNEL, 1),
			-ENOSPC);

	/* More than the 20-bit namespace never fits. */
	r->max = U64_MAX;
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(a, IOASIDS_KERNEL,
						    IOASIDS_MAX_CAPACITY + 1),
			-ENOSPC);
	KUNIT_EXPECT_EQ(test, usage(r), 0);
	/* Every ENOSPC above counted; a charge at the root counts there. */
	KUNIT_EXPECT_EQ(test, atomic64_read(&a->capacity_events), 4);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(r, IOASIDS_KERNEL,
						    IOASIDS_MAX_CAPACITY + 1),
			-ENOSPC);
	KUNIT_EXPECT_EQ(test, atomic64_read(&r->capacity_events_local), 1);
	KUNIT_EXPECT_EQ(test, atomic64_read(&r->capacity_events), 5);
	KUNIT_EXPECT_EQ(test, atomic64_read(&a->events), 0);
	KUNIT_EXPECT_EQ(test, ioasids_current(r), 0);
}

static void ioasids_test_limit_below_usage(struct kunit *test)
{
	struct ioasids_cgroup *r = node(test, NULL);
	struct ioasids_cgroup *a = node(test, r);

	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(a, IOASIDS_FD, 3), 0);
	ioasids_set_max(a, 1);
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
	ioasids_set_max(a, 10);
	ioasids_set_max(b, 20);
	KUNIT_EXPECT_EQ(test, ioasids_cg_room(b), 10);

	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(b, IOASIDS_KERNEL, 1), 0);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(b, IOASIDS_SVA, 2), 0);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(a, IOASIDS_FD, 3), 0);
	KUNIT_EXPECT_EQ(test, ioasids_kind_count(b, IOASIDS_KERNEL), 1);
	KUNIT_EXPECT_EQ(test, ioasids_kind_count(b, IOASIDS_SVA), 2);
	KUNIT_EXPECT_EQ(test, ioasids_kind_count(a, IOASIDS_FD), 3);
	/* Each node counts its own charges, and only those. */
	KUNIT_EXPECT_EQ(test, ioasids_kind_count(a, IOASIDS_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, ioasids_kind_count(a, IOASIDS_SVA), 0);
	KUNIT_EXPECT_EQ(test, ioasids_kind_count(b, IOASIDS_FD), 0);
	KUNIT_EXPECT_EQ(test, ioasids_kind_count(r, IOASIDS_FD), 0);
	KUNIT_EXPECT_EQ(test, ioasids_cg_room(b), 4);
	KUNIT_EXPECT_EQ(test, ioasids_cg_room(a), 4);

	/* Room is bounded by the capacity left, too. */
	r->max = 7;
	KUNIT_EXPECT_EQ(test, ioasids_cg_room(b), 1);

	/* And is 0, not negative, under a limit below usage. */
	ioasids_set_max(a, 2);
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

/* Stub: a peak reset stops between its read and its exchange. */
static void raise_after_racer(struct ioasids_cgroup *cg, u64 mark)
{
	struct kunit *test = kunit_get_current_test();
	struct racer *r = test->priv;

	kunit_deactivate_static_stub(test, ioasids_peak_raise);
	racer_start(test, r);
	KUNIT_EXPECT_TRUE(test, wait(&r->paused));
	ioasids_peak_raise(cg, mark);
}

/*
 * A charge refused by a limit never shows in ioasids.peak, even while it is
 * in flight as another charge of the same cgroup is granted: P max 10, C at
 * 5, a charge of 1 at C between its walks, a charge of 100 at C refused at P.
 */
static void ioasids_test_refused_never_peaks(struct kunit *test)
{
	struct ioasids_cgroup *r = node(test, NULL);
	struct ioasids_cgroup *p = node(test, r);
	struct ioasids_cgroup *c = node(test, p);
	struct racer *big;

	r->max = 1000;
	ioasids_set_max(p, 10);
	/* A limit at C too, so that the charge in flight is held there. */
	ioasids_set_max(c, 1000);
	KUNIT_ASSERT_EQ(test, ioasids_cg_try_charge(c, IOASIDS_FD, 5), 0);

	big = new_racer(test, racer_charge, c, 100);
	kunit_activate_static_stub(test, ioasids_refused, refused_paused);
	kunit_activate_static_stub(test, ioasids_commit, commit_after_racer);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(c, IOASIDS_FD, 1), 0);

	/* The charge of 100 is in flight, refused but not rolled back. */
	KUNIT_EXPECT_FALSE(test, completion_done(&big->done));
	KUNIT_EXPECT_EQ(test, usage(c), 106);
	KUNIT_EXPECT_EQ(test, ioasids_current(c), 6);
	KUNIT_EXPECT_EQ(test, ioasids_current(p), 6);
	KUNIT_EXPECT_EQ(test, peak(c), 6);
	KUNIT_EXPECT_EQ(test, peak(p), 6);
	KUNIT_EXPECT_EQ(test, peak(r), 6);

	complete(&big->resume);
	KUNIT_ASSERT_TRUE(test, wait(&big->done));
	KUNIT_EXPECT_EQ(test, big->ret, -EDQUOT);
	KUNIT_EXPECT_EQ(test, atomic64_read(&p->events_local), 1);
	KUNIT_EXPECT_EQ(test, usage(c), 6);
	KUNIT_EXPECT_EQ(test, peak(c), 6);
	KUNIT_EXPECT_EQ(test, peak(p), 6);

	ioasids_cg_uncharge(c, IOASIDS_FD, 6);
	KUNIT_EXPECT_EQ(test, usage(r), 0);
	KUNIT_EXPECT_EQ(test, peak(c), 6);
}

/*
 * A limit lowered while a charge is between its walks does not cap the mark
 * that charge leaves: P at 49, a charge of 1 at C, P's max set to 10 before
 * it is granted: P's current is 50, and so is its peak.
 */
static void ioasids_test_peak_under_lowered_max(struct kunit *test)
{
	struct ioasids_cgroup *r = node(test, NULL);
	struct ioasids_cgroup *p = node(test, r);
	struct ioasids_cgroup *c = node(test, p);
	struct racer *lower;

	/* A limit, so that the charge in flight is reserved at P. */
	ioasids_set_max(p, 1000);
	KUNIT_ASSERT_EQ(test, ioasids_cg_try_charge(c, IOASIDS_SVA, 49), 0);
	lower = new_racer(test, racer_set_max, p, 10);
	kunit_activate_static_stub(test, ioasids_commit, commit_after_racer);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(c, IOASIDS_SVA, 1), 0);
	KUNIT_ASSERT_TRUE(test, wait(&lower->done));

	KUNIT_EXPECT_EQ(test, p->max, 10);
	KUNIT_EXPECT_EQ(test, ioasids_current(p), 50);
	KUNIT_EXPECT_EQ(test, peak(p), 50);
	KUNIT_EXPECT_EQ(test, peak(c), 50);
	KUNIT_EXPECT_EQ(test, peak(r), 50);
	ioasids_cg_uncharge(c, IOASIDS_SVA, 50);
	KUNIT_EXPECT_EQ(test, usage(r), 0);
}

/* Stub: what the charged cgroup and its parent hold at a refusal. */
static void refused_records_usage(struct ioasids_cgroup *cg,
				  struct ioasids_cgroup *refuser,
				  unsigned int n)
{
	s64 *seen = kunit_get_current_test()->priv;

	seen[0] = usage(cg);
	seen[1] = usage(container_of(cg->css.parent, struct ioasids_cgroup,
				     css));
}

/*
 * Levels without a limit of their own take nothing until a one-step charge
 * is decided, and are then granted in one operation: R (the capacity), P
 * max 10, C and B without limits. A charge of 100 at B refused at P leaves
 * B and C as they were, even while it is refused (a rollback that touched
 * them would underflow their reserved count); one of 2 is granted at every
 * level; the two-step charge still reserves at every level.
 */
static void ioasids_test_unlimited_levels(struct kunit *test)
{
	struct ioasids_cgroup *r = node(test, NULL);
	struct ioasids_cgroup *p = node(test, r);
	struct ioasids_cgroup *c = node(test, p);
	struct ioasids_cgroup *b = node(test, c);
	s64 seen[2] = { -1, -1 };

	ioasids_set_max(p, 10);
	KUNIT_ASSERT_EQ(test, ioasids_cg_try_charge(b, IOASIDS_FD, 5), 0);
	test->priv = seen;
	kunit_activate_static_stub(test, ioasids_refused, refused_records_usage);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(b, IOASIDS_FD, 100),
			-EDQUOT);
	kunit_deactivate_static_stub(test, ioasids_refused);
	KUNIT_EXPECT_EQ(test, seen[0], 5);
	KUNIT_EXPECT_EQ(test, seen[1], 5);
	KUNIT_EXPECT_EQ(test, usage(b), 5);
	KUNIT_EXPECT_EQ(test, usage(c), 5);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(b, IOASIDS_FD, 2), 0);
	KUNIT_EXPECT_EQ(test, ioasids_current(b), 7);
	KUNIT_EXPECT_EQ(test, ioasids_current(c), 7);
	KUNIT_EXPECT_EQ(test, ioasids_current(p), 7);
	KUNIT_EXPECT_EQ(test, ioasids_current(r), 7);
	KUNIT_EXPECT_EQ(test, usage(b), 7);
	KUNIT_EXPECT_EQ(test, peak(b), 7);
	/* Two steps: reserved at B too, shown nowhere until the commit. */
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_reserve(b, 3), 0);
	KUNIT_EXPECT_EQ(test, usage(b), 10);
	KUNIT_EXPECT_EQ(test, ioasids_current(b), 7);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(b, IOASIDS_FD, 1), -EDQUOT);
	rcu_read_lock();
	ioasids_commit(b, IOASIDS_FD, 3, false, 0);
	rcu_read_unlock();
	KUNIT_EXPECT_EQ(test, ioasids_current(b), 10);
	KUNIT_EXPECT_EQ(test, ioasids_current(r), 10);
	ioasids_cg_uncharge(b, IOASIDS_FD, 10);
	KUNIT_EXPECT_EQ(test, usage(b), 0);
	KUNIT_EXPECT_EQ(test, usage(c), 0);
	KUNIT_EXPECT_EQ(test, usage(r), 0);
	KUNIT_EXPECT_EQ(test, peak(c), 10);
}

/*
 * A limit written where there was none waits for the charges in flight
 * that passed that level by: P without a limit at 49 (B's), a charge of 1
 * at C in flight while P's max is written to 10. The write returns only once
 * the charge is granted, so from then on P holds 50 and refuses. Twice:
 * C's first charge walks (stopped between its walks), and once a walk
 * found no limit, the next takes the root's room alone (stopped before it
 * grants the levels below). (On one CPU without preemption, UML's, the
 * writer cannot run before the charge ends: only the outcome is checked
 * there.)
 */
static void max_write_waits(struct kunit *test, bool at_once)
{
	struct ioasids_cgroup *r = node(test, NULL);
	struct ioasids_cgroup *p = node(test, r);
	struct ioasids_cgroup *b = node(test, p);
	struct ioasids_cgroup *c = node(test, p);
	struct racer *w;

	KUNIT_ASSERT_EQ(test, ioasids_cg_try_charge(b, IOASIDS_SVA, 49), 0);
	/* A walk of C found its path unlimited, or none did yet. */
	if (at_once) {
		KUNIT_ASSERT_EQ(test, ioasids_cg_try_charge(c, IOASIDS_SVA, 1),
				0);
		ioasids_cg_uncharge(c, IOASIDS_SVA, 1);
	}
	w = new_racer(test, racer_write_max, p, 10);
	racer_start(test, w);
	if (at_once)
		kunit_activate_static_stub(test, ioasids_granting,
					   granting_while_racer_runs);
	else
		kunit_activate_static_stub(test, ioasids_commit,
					   commit_while_racer_runs);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(c, IOASIDS_SVA, 1), 0);
	KUNIT_ASSERT_TRUE(test, wait(&w->done));
	if (num_online_cpus() > 1) {
		KUNIT_EXPECT_TRUE(test, w->entered);
		KUNIT_EXPECT_FALSE(test, w->early);
	}
	KUNIT_EXPECT_EQ(test, p->max, 10);
	KUNIT_EXPECT_EQ(test, ioasids_current(p), 50);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(c, IOASIDS_SVA, 1),
			-EDQUOT);
	ioasids_cg_uncharge(b, IOASIDS_SVA, 49);
	ioasids_cg_uncharge(c, IOASIDS_SVA, 1);
	KUNIT_EXPECT_EQ(test, usage(r), 0);
}

static void ioasids_test_max_write_waits_for_charges(struct kunit *test)
{
	max_write_waits(test, false);
	max_write_waits(test, true);
}

/*
 * A write to ioasids.peak that races a charge does not lose it: C at 2, a
 * file reset while a charge of 1 lands: the file shows 3, as current does.
 */
static void ioasids_test_peak_reset_races_charge(struct kunit *test)
{
	struct ioasids_cgroup *r = node(test, NULL);
	struct ioasids_cgroup *c = node(test, r);
	struct racer *one;
	struct cgroup_of_peak f = { .value = PEAK_UNSET };

	KUNIT_ASSERT_EQ(test, ioasids_cg_try_charge(c, IOASIDS_FD, 2), 0);
	one = new_racer(test, racer_charge, c, 1);
	kunit_activate_static_stub(test, ioasids_peak_raise, raise_after_racer);
	ioasids_peak_reset(c, &f);
	KUNIT_ASSERT_TRUE(test, wait(&one->done));
	KUNIT_EXPECT_EQ(test, one->ret, 0);

	KUNIT_EXPECT_EQ(test, ioasids_current(c), 3);
	KUNIT_EXPECT_EQ(test, ioasids_peak_value(c, &f), 3);
	KUNIT_EXPECT_EQ(test, peak(c), 3);
	ioasids_peak_forget(&f);
	ioasids_cg_uncharge(c, IOASIDS_FD, 3);
}

/*
 * Every open file: its mark never goes below current, and only its own write
 * moves it down, not another file's.
 */
static void ioasids_test_peak_files(struct kunit *test)
{
	struct ioasids_cgroup *r = node(test, NULL);
	struct ioasids_cgroup *c = node(test, r);
	struct cgroup_of_peak f = { .value = PEAK_UNSET };
	struct cgroup_of_peak g = { .value = PEAK_UNSET };

	KUNIT_ASSERT_EQ(test, ioasids_cg_try_charge(c, IOASIDS_FD, 2), 0);
	ioasids_peak_reset(c, &g);
	KUNIT_EXPECT_EQ(test, ioasids_peak_value(c, &g), 2);
	KUNIT_ASSERT_EQ(test, ioasids_cg_try_charge(c, IOASIDS_FD, 3), 0);
	ioasids_cg_uncharge(c, IOASIDS_FD, 2);
	/* f not written yet: the cgroup's mark. */
	KUNIT_EXPECT_EQ(test, ioasids_peak_value(c, &f), 5);
	ioasids_peak_reset(c, &f);
	KUNIT_EXPECT_EQ(test, ioasids_peak_value(c, &f), 3);
	KUNIT_EXPECT_EQ(test, ioasids_peak_value(c, &g), 5);
	ioasids_cg_uncharge(c, IOASIDS_FD, 2);
	KUNIT_EXPECT_EQ(test, ioasids_peak_value(c, &f), 3);
	KUNIT_EXPECT_EQ(test, ioasids_peak_value(c, &g), 5);
	KUNIT_ASSERT_EQ(test, ioasids_cg_try_charge(c, IOASIDS_FD, 3), 0);
	KUNIT_EXPECT_EQ(test, ioasids_current(c), 4);
	KUNIT_EXPECT_EQ(test, ioasids_peak_value(c, &f), 4);
	KUNIT_EXPECT_EQ(test, ioasids_peak_value(c, &g), 5);
	KUNIT_EXPECT_EQ(test, peak(c), 5);
	ioasids_peak_reset(c, &g);
	KUNIT_EXPECT_EQ(test, ioasids_peak_value(c, &g), 4);
	KUNIT_EXPECT_EQ(test, ioasids_peak_value(c, &f), 4);
	KUNIT_EXPECT_EQ(test, peak(c), 5);
	ioasids_peak_forget(&f);
	ioasids_peak_forget(&g);
	KUNIT_EXPECT_TRUE(test, list_empty(&c->peak_watchers));
	ioasids_cg_uncharge(c, IOASIDS_FD, 4);
}

/*
 * The counts are 21 bits wide and never wrap: what is granted and reserved
 * at a level without a limit stops at 2^20, the largest capacity, where the
 * root would refuse it anyway (-ENOSPC, the capacity's refusal). Here
 * 2^20 - 1 are reserved in flight at C and P, not yet refused at the root,
 * by a two-step charge, which reserves every level. (A one-step charge
 * passes such levels by; every charge takes the root, which is never above
 * 2^20, and no level holds more than the root.)
 */
static void ioasids_test_counts_bounded(struct kunit *test)
{
	struct ioasids_cgroup *r = node(test, NULL);
	struct ioasids_cgroup *p = node(test, r);
	struct ioasids_cgroup *c = node(test, p);
	const s64 in_flight = (IOASIDS_MAX_CAPACITY - 1LL) << 21;

	r->max = IOASIDS_MAX_CAPACITY;
	atomic64_add(in_flight, &c->held);
	atomic64_add(in_flight, &p->held);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_reserve(c, 2), -ENOSPC);
	KUNIT_EXPECT_EQ(test, usage(c), IOASIDS_MAX_CAPACITY - 1);
	KUNIT_EXPECT_EQ(test, usage(p), IOASIDS_MAX_CAPACITY - 1);
	KUNIT_EXPECT_EQ(test, ioasids_current(c), 0);
	KUNIT_EXPECT_EQ(test, peak(c), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c->capacity_events_local), 1);

	KUNIT_EXPECT_EQ(test, ioasids_cg_try_reserve(c, 1), 0);
	rcu_read_lock();
	ioasids_commit(c, IOASIDS_KERNEL, 1, false, 0);
	rcu_read_unlock();
	KUNIT_EXPECT_EQ(test, usage(c), IOASIDS_MAX_CAPACITY);
	KUNIT_EXPECT_EQ(test, ioasids_current(c), 1);
	KUNIT_EXPECT_EQ(test, peak(c), 1);
	KUNIT_EXPECT_EQ(test, ioasids_cg_room(c), 0);

	atomic64_sub(in_flight, &c->held);
	atomic64_sub(in_flight, &p->held);
	ioasids_cg_uncharge(c, IOASIDS_KERNEL, 1);
	KUNIT_EXPECT_EQ(test, usage(c), 0);
	KUNIT_EXPECT_EQ(test, ioasids_current(r), 0);
	KUNIT_EXPECT_EQ(test, peak(c), 1);
}

#define CONTEND_LOOPS	20000

struct contender {
	struct kunit *test;
	struct ioasids_cgroup *cg;
	struct completion *start;
	struct completion done;
	unsigned long charged, refused, errors;
};

/* What the contenders saw at their refusals (refused_in_flight()). */
struct refusals {
	atomic_long_t seen;		/* refusals the stub saw */
	atomic_long_t not_in_flight;	/* no reservation held the charge */
	atomic_long_t bad;		/* current or peak showed it */
};

/*
 * Stub, in a contender, at the moment its charge is refused: the charge is
 * still reserved in the contender's own cgroup, given back right after. It
 * shows nowhere: not in the contender's cgroup, which held nothing when it
 * asked, so its granted count is 0 and its peak within the limit; not in
 * the refusing limit's granted count or peak, both within the limit, and
 * peak at least current.
 */
static void refused_in_flight(struct ioasids_cgroup *cg,
			      struct ioasids_cgroup *refuser, unsigned int n)
{
	struct refusals *rf = kunit_get_current_test()->priv;
	u64 max = READ_ONCE(refuser->max), cur = ioasids_current(refuser);
	u64 mark = peak(refuser);

	atomic_long_inc(&rf->seen);
	if (usage(cg) < n)
		atomic_long_inc(&rf->not_in_flight);
	if (cur > max || mark > max || mark < cur)
		atomic_long_inc(&rf->bad);
	if (ioasids_current(cg) || peak(cg) > max)
		atomic_long_inc(&rf->bad);
}

/*
 * Charge 1 or 2, sometimes yield while holding it, give it back. Alone under
 * a limit of 2 this is never refused: a refusal proves the other thread held
 * IOASIDs at that moment.
 */
static int contender_fn(void *data)
{
	struct contender *ct = data;
	unsigned int n;
	int i, ret;

	/* The test's stubs apply to this thread too. */
	current->kunit_test = ct->test;
	wait_for_completion(ct->start);
	for (i = 0; i < CONTEND_LOOPS; i++) {
		n = 1 + (i & 1);
		ret = ioasids_cg_try_charge(ct->cg, IOASIDS_FD, n);
		if (ret == -EDQUOT) {
			ct->refused++;
		} else if (ret) {
			ct->errors++;
		} else {
			ct->charged++;
			if (!(i % 64))
				schedule_timeout_uninterruptible(1);
			ioasids_cg_uncharge(ct->cg, IOASIDS_FD, n);
		}
		cond_resched();
	}
	current->kunit_test = NULL;
	complete_all(&ct->done);
	return 0;
}

/* The contenders and what they share: off the test's stack. */
struct contention {
	struct contender ct[2];
	struct completion start;
	struct refusals rf;
	int started;
};

/* At the test's end, however it ended: every contender has finished. */
static void contention_finish(void *data)
{
	struct contention *c = data;
	int i;

	complete_all(&c->start);
	for (i = 0; i < c->started; i++)
		wait_for_completion(&c->ct[i].done);
}

/*
 * Two kthreads contend for a limit of 2 from two sibling cgroups. At every
 * refusal, in the refused thread, while the refused charge is still in the
 * limit's usage (a stub of ioasids_refused()), the granted count and the peak
 * must not show it: so this fails on a controller whose current or peak
 * follows usage, on one CPU too. The test thread watches meanwhile: a
 * granted count never above the limit, a peak never below the current
 * count read before it and never above the limit (nothing clamps it).
 * Contention must have happened: both were refused.
 */
static void ioasids_test_contention(struct kunit *test)
{
	struct ioasids_cgroup *r = node(test, NULL);
	struct ioasids_cgroup *a = node(test, r);
	struct cgroup_of_peak f = { .value = PEAK_UNSET };
	unsigned long watched = 0, bad = 0;
	struct contender *ct;
	struct contention *c;
	struct task_struct *t;
	u64 cur, mark;
	int i;

	c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c);
	ct = c->ct;
	/* The nodes first: deferred actions run last-registered first. */
	for (i = 0; i < 2; i++) {
		ct[i].cg = node(test, a);
		/* Limited, so that a refused charge is held there in flight. */
		ioasids_set_max(ct[i].cg, 1000);
		ct[i].test = test;
		init_completion(&ct[i].done);
	}
	init_completion(&c->start);
	KUNIT_ASSERT_EQ(test,
			kunit_add_action_or_reset(test, contention_finish, c),
			0);
	ioasids_set_max(a, 2);
	test->priv = &c->rf;
	kunit_activate_static_stub(test, ioasids_refused, refused_in_flight);
	for (i = 0; i < 2; i++) {
		ct[i].start = &c->start;
		t = kthread_run(contender_fn, &ct[i], "ioasids_kunit/%d", i);
		if (IS_ERR(t))
			break;
		c->started++;
	}
	complete_all(&c->start);
	KUNIT_ASSERT_EQ(test, c->started, 2);
	while (!completion_done(&ct[0].done) || !completion_done(&ct[1].done)) {
		cur = ioasids_current(a);
		mark = peak(a);
		if (cur > 2 || mark < cur || mark > 2)
			bad++;
		if (!(watched % 16))
			ioasids_peak_reset(a, &f);
		cur = ioasids_current(a);
		if (ioasids_peak_value(a, &f) < cur)
			bad++;
		watched++;
		schedule_timeout_uninterruptible(1);
	}
	ioasids_peak_forget(&f);

	kunit_deactivate_static_stub(test, ioasids_refused);

	kunit_info(test, "charged %lu+%lu, refused %lu+%lu, watched %lu\n",
		   ct[0].charged, ct[1].charged, ct[0].refused, ct[1].refused,
		   watched);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&c->rf.seen),
			ct[0].refused + ct[1].refused);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&c->rf.not_in_flight), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&c->rf.bad), 0);
	KUNIT_EXPECT_EQ(test, bad, 0);
	KUNIT_EXPECT_EQ(test, ct[0].errors + ct[1].errors, 0);
	KUNIT_EXPECT_EQ(test, ct[0].charged + ct[0].refused, CONTEND_LOOPS);
	KUNIT_EXPECT_EQ(test, ct[1].charged + ct[1].refused, CONTEND_LOOPS);
	KUNIT_EXPECT_GT(test, ct[0].refused, 0);
	KUNIT_EXPECT_GT(test, ct[1].refused, 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&a->events_local),
			ct[0].refused + ct[1].refused);
	KUNIT_EXPECT_EQ(test, peak(a), 2);
	KUNIT_EXPECT_EQ(test, usage(a), 0);
	KUNIT_EXPECT_EQ(test, usage(r), 0);
	KUNIT_EXPECT_EQ(test, ioasids_current(r), 0);
	KUNIT_EXPECT_EQ(test, ioasids_kind_count(ct[0].cg, IOASIDS_FD), 0);
	KUNIT_EXPECT_EQ(test, ioasids_kind_count(ct[1].cg, IOASIDS_FD), 0);
}

/* Stub: what the refusing limit's usage holds when the refusal counts. */
static void event_records_usage(struct ioasids_cgroup *cg)
{
	s64 *seen = kunit_get_current_test()->priv;

	*seen = usage(cg);
	atomic64_inc(&cg->events_local);
}

/*
 * A refused charge is rolled back before it is counted and logged (which
 * takes a lock with interrupts off): meanwhile, no other charge under
 * that limit is refused for room this one never got. P max 10 at 5, a
 * charge of 100 at C: when the refusal counts, P holds 5 again.
 */
static void ioasids_test_refusal_rolled_back_first(struct kunit *test)
{
	struct ioasids_cgroup *r = node(test, NULL);
	struct ioasids_cgroup *p = node(test, r);
	struct ioasids_cgroup *c = node(test, p);
	s64 seen = -1;

	ioasids_set_max(p, 10);
	KUNIT_ASSERT_EQ(test, ioasids_cg_try_charge(c, IOASIDS_FD, 5), 0);
	test->priv = &seen;
	kunit_activate_static_stub(test, ioasids_event, event_records_usage);
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(c, IOASIDS_FD, 100),
			-EDQUOT);
	kunit_deactivate_static_stub(test, ioasids_event);
	KUNIT_EXPECT_EQ(test, seen, 5);
	KUNIT_EXPECT_EQ(test, usage(c), 5);
	KUNIT_EXPECT_EQ(test, usage(r), 5);
	KUNIT_EXPECT_EQ(test, atomic64_read(&p->events_local), 1);
	ioasids_cg_uncharge(c, IOASIDS_FD, 5);
	KUNIT_EXPECT_EQ(test, usage(r), 0);
}

/*
 * The two-step charge given back: held against the limits meanwhile, never
 * shown in current or peak, and nothing left after the cancel.
 */
static void ioasids_test_reserve_then_cancel(struct kunit *test)
{
	struct ioasids_cgroup *r = node(test, NULL);
	struct ioasids_cgroup *p = node(test, r);
	struct ioasids_cgroup *c = node(test, p);

	ioasids_set_max(p, 4);
	KUNIT_ASSERT_EQ(test, ioasids_cg_try_reserve(c, 3), 0);
	KUNIT_EXPECT_EQ(test, usage(p), 3);
	KUNIT_EXPECT_EQ(test, ioasids_current(c), 0);
	KUNIT_EXPECT_EQ(test, ioasids_current(p), 0);
	/* Held: only 1 more fits under P meanwhile. */
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(c, IOASIDS_FD, 2), -EDQUOT);
	KUNIT_EXPECT_EQ(test, ioasids_cg_room(c), 1);
	ioasids_cg_cancel(c, 3);
	KUNIT_EXPECT_EQ(test, usage(c), 0);
	KUNIT_EXPECT_EQ(test, usage(p), 0);
	KUNIT_EXPECT_EQ(test, usage(r), 0);
	KUNIT_EXPECT_EQ(test, peak(c), 0);
	KUNIT_EXPECT_EQ(test, peak(p), 0);
	KUNIT_EXPECT_EQ(test, peak(r), 0);
	KUNIT_EXPECT_EQ(test, ioasids_kind_count(c, IOASIDS_FD), 0);
	/* The room is back: all 4 fit. */
	KUNIT_EXPECT_EQ(test, ioasids_cg_try_charge(c, IOASIDS_FD, 4), 0);
	ioasids_cg_uncharge(c, IOASIDS_FD, 4);
	KUNIT_EXPECT_EQ(test, usage(r), 0);
}

/* What charge_seen() saw of a charge. */
struct seen {
	u64 skipped;	/* as told to the commit; U64_MAX: the root alone */
	bool committed;
};

/* Stub: which levels the charge's first walk passed by, then the commit. */
static void commit_records_skipped(struct ioasids_cgroup *cg,
				   enum ioasids_kind kind, unsigned int n,
				   bool top_granted, u64 skipped)
{
	struct kunit *test = kunit_get_current_test();
	struct seen *seen = test->priv;

	seen->skipped = skipped;
	seen->committed = true;
	kunit_deactivate_static_stub(test, ioasids_commit);
	ioasids_commit(cg, kind, n, top_granted, skipped);
}

/* Stub: the charge took the root's room alone. */
static void granting_records(struct ioasids_cgroup *cg, unsigned int n)
{
	struct seen *seen = kunit_get_current_test()->priv;

	seen->skipped = U64_MAX;
}

/*
 * A one-step charge of @n at @cg; *@skipped is what its commit was told,
 * U64_MAX if it took the root alone, 0 if neither.
 */
static int charge_seen(struct kunit *test, struct ioasids_cgroup *cg,
		       unsigned int n, u64 *skipped)
{
	struct seen seen = { };
	int ret;

	test->priv = &seen;
	kunit_activate_static_stub(test, ioasids_commit, commit_records_skipped);
	kunit_activate_static_stub(test, ioasids_granting, granting_records);
	ret = ioasids_cg_try_charge(cg, IOASIDS_FD, n);
	kunit_deactivate_static_stub(test, ioasids_granting);
	if (!seen.committed)
		kunit_deactivate_static_stub(test, ioasids_commit);
	*skipped = seen.skipped;
	return ret;
}

/*
 * A one-step charge whose last walk found no limit below the root takes
 * the root alone, until a limit is given anywhere: C under P and R, then
 * P limited to 6 with 5 charged, then D made under P afterwards, then P's
 * limit lifted again. Each charge either takes the root alone (U64_MAX
 * here) or walks (one bit per level it passed by).
 */
static void ioasids_test_unlimited_path_at_once(struct kunit *test)
{
	struct ioasids_cgroup *r = node(test, NULL);
	struct ioasids_cgroup *p = node(test, r);
	struct ioasids_cgroup *c = node(test, p);
	struct ioasids_cgroup *d;
	u64 skipped;

	KUNIT_EXPECT_EQ(test, charge_seen(test, c, 4, &skipped), 0);
	KUNIT_EXPECT_EQ(test, skipped, 0x3);
	KUNIT_EXPECT_EQ(test, charge_seen(test, c, 1, &skipped), 0);
	KUNIT_EXPECT_EQ(test, skipped, U64_MAX);
	KUNIT_EXPECT_EQ(test, ioasids_current(c), 5);
	KUNIT_EXPECT_EQ(test, ioasids_current(p), 5);
	KUNIT_EXPECT_EQ(test, ioasids_current(r), 5);
	KUNIT_EXPECT_EQ(test, ioasids_kind_count(c, IOASIDS_FD), 5);
	KUNIT_EXPECT_EQ(test, peak(c), 5);
	KUNIT_EXPECT_EQ(test, peak(r), 5);

	/* A limit given above C: C's next charge walks, and P refuses it. */
	ioasids_set_max(p, 6);
	KUNIT_EXPECT_EQ(test, charge_seen(test, c, 2, &skipped), -EDQUOT);
	KUNIT_EXPECT_EQ(test, atomic64_read(&p->events_local), 1);
	KUNIT_EXPECT_EQ(test, charge_seen(test, c, 1, &skipped), 0);
	KUNIT_EXPECT_EQ(test, skipped, 0x1);
	KUNIT_EXPECT_EQ(test, charge_seen(test, c, 1, &skipped), -EDQUOT);
	/* A cgroup made under the limit never passes it by. */
	d = node(test, p);
	KUNIT_EXPECT_EQ(test, charge_seen(test, d, 1, &skipped), -EDQUOT);
	KUNIT_EXPECT_EQ(test, usage(p), 6);
	KUNIT_EXPECT_EQ(test, peak(p), 6);
	KUNIT_EXPECT_EQ(test, peak(r), 6);

	/* Lifted: a walk, then the root alone again. */
	ioasids_set_max(p, U64_MAX);
	KUNIT_EXPECT_EQ(test, charge_seen(test, d, 1, &skipped), 0);
	KUNIT_EXPECT_EQ(test, skipped, 0x3);
	KUNIT_EXPECT_EQ(test, charge_seen(test, d, 1, &skipped), 0);
	KUNIT_EXPECT_EQ(test, skipped, U64_MAX);
	/* The root still refuses what it has no room for, touching nothing. */
	KUNIT_EXPECT_EQ(test, charge_seen(test, d, TEST_CAPACITY, &skipped),
			-ENOSPC);
	KUNIT_EXPECT_EQ(test, atomic64_read(&d->capacity_events_local), 1);
	KUNIT_EXPECT_EQ(test, ioasids_current(d), 2);
	KUNIT_EXPECT_EQ(test, usage(p), 8);
	KUNIT_EXPECT_EQ(test, usage(r), 8);
	KUNIT_EXPECT_EQ(test, peak(r), 8);
	/* A limit on the charged cgroup itself: walked, and refused there. */
	ioasids_set_max(d, 2);
	KUNIT_EXPECT_EQ(test, charge_seen(test, d, 1, &skipped), -EDQUOT);
	KUNIT_EXPECT_EQ(test, atomic64_read(&d->events_local), 1);
	KUNIT_EXPECT_EQ(test, ioasids_kind_count(d, IOASIDS_FD), 2);
	ioasids_cg_uncharge(d, IOASIDS_FD, 2);
	ioasids_cg_uncharge(c, IOASIDS_FD, 6);
	KUNIT_EXPECT_EQ(test, usage(r), 0);
	/* Released by one subtraction a level: the marks stay. */
	KUNIT_EXPECT_EQ(test, peak(p), 8);
	KUNIT_EXPECT_EQ(test, peak(d), 2);
	KUNIT_EXPECT_EQ(test, peak(c), 6);
}

static struct kunit_case ioasids_test_cases[] = {
	KUNIT_CASE(ioasids_test_hierarchy),
	KUNIT_CASE(ioasids_test_rollback),
	KUNIT_CASE(ioasids_test_peak),
	KUNIT_CASE(ioasids_test_events),
	KUNIT_CASE(ioasids_test_capacity),
	KUNIT_CASE(ioasids_test_limit_below_usage),
	KUNIT_CASE(ioasids_test_kinds_and_room),
	KUNIT_CASE(ioasids_test_refused_never_peaks),
	KUNIT_CASE(ioasids_test_peak_under_lowered_max),
	KUNIT_CASE(ioasids_test_peak_reset_races_charge),
	KUNIT_CASE(ioasids_test_peak_files),
	KUNIT_CASE(ioasids_test_counts_bounded),
	KUNIT_CASE(ioasids_test_contention),
	KUNIT_CASE(ioasids_test_refusal_rolled_back_first),
	KUNIT_CASE(ioasids_test_reserve_then_cancel),
	KUNIT_CASE(ioasids_test_unlimited_levels),
	KUNIT_CASE(ioasids_test_max_write_waits_for_charges),
	KUNIT_CASE(ioasids_test_unlimited_path_at_once),
	{}
};

static struct kunit_suite ioasids_test_suite = {
	.name = "ioasids_cgroup",
	.test_cases = ioasids_test_cases,
};

kunit_test_suite(ioasids_test_suite);

MODULE_DESCRIPTION("KUnit tests for the IOASID cgroup controller");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

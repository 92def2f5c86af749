// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only charge interface for the IOASID cgroup controller
 * (CONFIG_CGROUP_IOASIDS_TEST).
 *
 * /sys/kernel/debug/ioasids_cgroup/charge behaves like a tiny IOASID set:
 * opening it records the opener's ioasids cgroup and counts as one set there;
 * writing "<kind> <n>" charges that cgroup n IOASIDs of kind kernel, sva or
 * fd, and "<kind> -<n>" gives n of them back; reading shows what the file
 * holds; closing it gives everything back. Errors are those of
 * ioasids_cg_try_charge().
 *
 * /sys/kernel/debug/ioasids_cgroup/capacity reads and sets the capacity, as
 * the IOASID allocator would.
 */

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/ioasids_cgroup.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

static const char *const ioasids_test_kinds[IOASIDS_NR_KINDS] = {
	[IOASIDS_KERNEL] = "kernel",
	[IOASIDS_SVA] = "sva",
	[IOASIDS_FD] = "fd",
};

struct ioasids_test_set {
	struct ioasids_cgroup *cg;
	struct mutex lock;	/* protects held */
	unsigned int held[IOASIDS_NR_KINDS];
};

static int ioasids_test_open(struct inode *inode, struct file *file)
{
	struct ioasids_test_set *set;

	set = kzalloc(sizeof(*set), GFP_KERNEL);
	if (!set)
		return -ENOMEM;
	mutex_init(&set->lock);
	set->cg = ioasids_cg_get_current();
	ioasids_cg_set_attach(set->cg);
	file->private_data = set;
	return nonseekable_open(inode, file);
}

static int ioasids_test_release(struct inode *inode, struct file *file)
{
	struct ioasids_test_set *set = file->private_data;
	int k;

	for (k = 0; k < IOASIDS_NR_KINDS; k++)
		ioasids_cg_uncharge(set->cg, k, set->held[k]);
	ioasids_cg_set_detach(set->cg);
	ioasids_cg_put(set->cg);
	mutex_destroy(&set->lock);
	kfree(set);
	return 0;
}

static ssize_t ioasids_test_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	struct ioasids_test_set *set = file->private_data;
	char buf[32], *num;
	int kind, n, ret;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';

	num = strchr(buf, ' ');
	if (!num)
		return -EINVAL;
	*num++ = '\0';
	kind = match_string(ioasids_test_kinds, IOASIDS_NR_KINDS, buf);
	if (kind < 0)
		return -EINVAL;
	ret = kstrtoint(num, 10, &n);
	if (ret)
		return ret;

	mutex_lock(&set->lock);
	if (n >= 0) {
		ret = ioasids_cg_try_charge(set->cg, kind, n);
		if (!ret)
			set->held[kind] += n;
	} else if (-n > set->held[kind]) {
		ret = -ENOENT;
	} else {
		ioasids_cg_uncharge(set->cg, kind, -n);
		set->held[kind] -= -n;
	}
	mutex_unlock(&set->lock);

	return ret ? ret : count;
}

static ssize_t ioasids_test_read(struct file *file, char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	struct ioasids_test_set *set = file->private_data;
	char buf[96];
	int len = 0, k;

	mutex_lock(&set->lock);
	for (k = 0; k < IOASIDS_NR_KINDS; k++)
		len += scnprintf(buf + len, sizeof(buf) - len, "%s %u\n",
				 ioasids_test_kinds[k], set->held[k]);
	mutex_unlock(&set->lock);

	return simple_read_from_buffer(ubuf, count, ppos, buf, len);
}

static const struct file_operations ioasids_test_charge_fops = {
	.owner = THIS_MODULE,
	.open = ioasids_test_open,
	.release = ioasids_test_release,
	.read = ioasids_test_read,
	.write = ioasids_test_write,
};

static int ioasids_test_capacity_get(void *data, u64 *val)
{
	*val = ioasids_cg_capacity();
	return 0;
}

static int ioasids_test_capacity_set(void *data, u64 val)
{
	if (val > IOASIDS_MAX_CAPACITY)
		return -EINVAL;
	ioasids_cg_set_capacity(val);
	return 0;
}

DEFINE_DEBUGFS_ATTRIBUTE(ioasids_test_capacity_fops, ioasids_test_capacity_get,
			 ioasids_test_capacity_set, "%llu\n");

static int __init ioasids_test_init(void)
{
	struct dentry *dir = debugfs_create_dir("ioasids_cgroup", NULL);

	debugfs_create_file("charge", 0600, dir, NULL,
			    &ioasids_test_charge_fops);
	debugfs_create_file_unsafe("capacity", 0600, dir, NULL,
				   &ioasids_test_capacity_fops);
	return 0;
}
late_initcall(ioasids_test_init);

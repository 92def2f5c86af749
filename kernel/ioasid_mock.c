// SPDX-License-Identifier: GPL-2.0
/*
 * Mock PASID hardware for testing the IOASID core's hardware consumers on
 * machines without any, after iommufd's CONFIG_IOMMUFD_TEST. Test kernels
 * only: CONFIG_IOASID_MOCK_HW.
 *
 * A mock IOMMU on a bus of its own registers ioasid_mock.iommu_pasids
 * PASIDs, so that it bounds the namespace like a real one. Behind it sit
 * mock devices, one per entry of ioasid_mock.pasid_bits, each with a PASID
 * table of 2^bits entries. Each device is registered with the IOASID core,
 * which programs its table through ioasid_bind(): from user space with
 * IOASID_BIND naming /dev/ioasid_mockN, and from the real 6.12 SVA code,
 * which the mock IOMMU serves with SVA domains, when a task binds its mm
 * with IOASID_MOCK_SVA_BIND. debugfs ioasid_mock/ioasid_mockN shows the
 * table, so that tests can check that nothing is left in it.
 *
 * Devices come and go as on a hot-plug bus: writing a number of PASID bits
 * to debugfs ioasid_mock/add adds a device, and writing a device's name to
 * ioasid_mock/remove removes it the way a driver's remove() must, whatever
 * user space still holds: its SVA bonds are unbound, its registration with
 * the core goes (which clears every ID /dev/ioasid programmed), and then
 * its node and the device. Files still open on it fail with -ENODEV.
 */
#define pr_fmt(fmt) "ioasid_mock: " fmt

#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/fwnode.h>
#include <linux/idr.h>
#include <linux/init.h>
#include <linux/ioasid.h>
#include <linux/iommu.h>
#include <linux/miscdevice.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include "iommu-priv.h"
#include "ioasid_mock.h"

#define MOCK_MAX_DEVICES	8
#define MOCK_MAX_NUMBER		63

static unsigned int iommu_pasids = 1U << 20;
module_param(iommu_pasids, uint, 0444);
MODULE_PARM_DESC(iommu_pasids, "PASIDs of the mock IOMMU (default 2^20)");

static unsigned int pasid_bits[MOCK_MAX_DEVICES] = { 20, 4 };
static int nr_devices = 2;
module_param_array(pasid_bits, uint, &nr_devices, 0444);
MODULE_PARM_DESC(pasid_bits,
		 "One mock device per entry, with 2^bits PASIDs (default 20,4)");

/**
 * struct mock_dev - a PASID-capable device behind the mock IOMMU
 * @dev: the device, on the mock bus
 * @misc: its node, /dev/ioasid_mockN
 * @idev: its registration with the IOASID core
 * @pasids: the "hardware" PASID table: each PASID programmed
 * @lock: protects @files and @live
 * @files: the files open on the device
 * @live: set, under @lock, once the core has the device: until then, and
 *	from the start of its removal, no file opens and no SVA bond is made
 * @table: its debugfs file
 * @node: in mock_devices, under mock_devices_lock
 * @nr: the N of its name
 * @fwnode: its firmware node, with the one property the IOMMU core reads
 * @bits: that property, "pasid-num-bits"
 * @name: ioasid_mockN
 */
struct mock_dev {
	struct device dev;
	struct fwnode_handle fwnode;
	unsigned int bits;
	struct miscdevice misc;
	struct ioasid_device idev;
	struct xarray pasids;
	struct mutex lock;	/* protects @files and @live */
	struct list_head files;
	bool live;
	struct dentry *table;
	struct list_head node;
	unsigned int nr;
	char name[16];
};

/*
 * One per open /dev/ioasid_mockN, holding a reference on the device: at
 * most one SVA bond, none once the device is removed.
 */
struct mock_file {
	struct mock_dev *mdev;
	struct list_head node;	/* in the device's @files */
	struct mutex lock;	/* protects @sva, and orders it after @live */
	struct iommu_sva *sva;
};

static const struct bus_type ioasid_mock_bus = {
	.name = "ioasid_mock",
};

static struct notifier_block ioasid_mock_nb;
static struct iommu_device mock_iommu;
static struct dentry *mock_debugfs;
static LIST_HEAD(mock_devices);
static DEFINE_MUTEX(mock_devices_lock);
static DEFINE_IDA(mock_numbers);

/**
 * ioasid_mock_dev() - Whether a device is one of the mock devices.
 * @dev: the device
 *
 * The SVA code lets mock devices bind on x86, where 6.12 refuses SVA for
 * real devices: they do no DMA, so stale IOTLB entries for freed kernel
 * page tables cannot hurt.
 *
 * Return: true for a mock device.
 */
bool ioasid_mock_dev(struct device *dev)
{
	return dev->bus == &ioasid_mock_bus;
}
EXPORT_SYMBOL_GPL(ioasid_mock_dev);

static struct mock_dev *to_mock_dev(struct device *dev)
{
	return container_of(dev, struct mock_dev, dev);
}

/*
 * The device's "pasid-num-bits", which the IOMMU core reads at probe time
 * for a device that is not PCI, as it would from a device tree. A software
 * node would do, but 6.12's software_node_notify() takes no reference when
 * it fails to link the node in sysfs and software_node_notify_remove()
 * drops one anyway: a device added under memory pressure then frees its
 * node on removal while the node is still in use (found by ioasid_fail_nth
 * as a KASAN use-after-free). This node lives in the device.
 */
static int mock_fwnode_read_int_array(const struct fwnode_handle *fwnode,
				      const char *propname,
				      unsigned int elem_size, void *val,
				      size_t nval)
{
	struct mock_dev *mdev = container_of(fwnode, struct mock_dev, fwnode);

	if (strcmp(propname, "pasid-num-bits") || elem_size != sizeof(u32))
		return -EINVAL;
	if (!val)
		return 1;
	if (nval > 1)
		return -EOVERFLOW;
	if (nval)
		*(u32 *)val = mdev->bits;
	return 0;
}

static const struct fwnode_operations mock_fwnode_ops = {
	.property_read_int_array = mock_fwnode_read_int_array,
};

/* The device's table, programmed by the IOASID core. */
static int mock_set_pasid(struct ioasid_device *idev, ioasid_t id)
{
	struct mock_dev *mdev = container_of(idev, struct mock_dev, idev);

	return xa_insert(&mdev->pasids, id, xa_mk_value(id), GFP_KERNEL);
}

static void mock_clear_pasid(struct ioasid_device *idev, ioasid_t id)
{
	struct mock_dev *mdev = container_of(idev, struct mock_dev, idev);

	WARN_ON(!xa_erase(&mdev->pasids, id));
}

static const struct file_operations mock_fops;

/*
 * A file of the node that this device, and not an earlier one that had
 * the node's number, gave out.
 */
static bool mock_owns_file(struct ioasid_device *idev, struct file *file)
{
	struct mock_file *mf = file->private_data;

	return mf->mdev == container_of(idev, struct mock_dev, idev);
}

static const struct ioasid_device_ops mock_idev_ops = {
	.set_pasid = mock_set_pasid,
	.clear_pasid = mock_clear_pasid,
	.owns_file = mock_owns_file,
};

/*
 * The SVA domain's PASID is its mm's: program it as an ID of the mm's set,
 * like any other, so the same table and the same teardown apply.
 */
static int mock_sva_set_dev_pasid(struct iommu_domain *domain,
				  struct device *dev, ioasid_t pasid,
				  struct iommu_domain *old)
{
	struct ioasid_set *set = ioasid_set_find_mm(domain->mm, pasid);
	int ret;

	if (!set)
		return -ENOENT;
	ret = ioasid_bind(set, &to_mock_dev(dev)->idev, pasid);
	ioasid_set_put(set);
	return ret;
}

static void mock_remove_dev_pasid(struct device *dev, ioasid_t pasid,
				  struct iommu_domain *domain)
{
	struct ioasid_set *set = ioasid_set_find_mm(domain->mm, pasid);

	if (WARN_ON(!set))
		return;
	WARN_ON(ioasid_unbind(set, &to_mock_dev(dev)->idev, pasid));
	ioasid_set_put(set);
}

static void mock_domain_free(struct iommu_domain *domain)
{
	kfree(domain);
}

static const struct iommu_domain_ops mock_sva_ops = {
	.set_dev_pasid = mock_sva_set_dev_pasid,
	.free = mock_domain_free,
};

static struct iommu_domain *mock_domain_alloc_sva(struct device *dev,
						  struct mm_struct *mm)
{
	struct iommu_domain *domain;

	domain = kzalloc(sizeof(*domain), GFP_KERNEL);
	if (!domain)
		return ERR_PTR(-ENOMEM);
	domain->ops = &mock_sva_ops;
	return domain;
}

static int mock_attach_dev(struct iommu_domain *domain, struct device *dev)
{
	return 0;
}

/* Without PASID, the devices do no DMA at all. */
static struct iommu_domain mock_blocking_domain = {
	.type = IOMMU_DOMAIN_BLOCKED,
	.ops = &(const struct iommu_domain_ops){
		.attach_dev = mock_attach_dev,
	},
};

static struct iommu_device *mock_probe_device(struct device *dev)
{
	if (!ioasid_mock_dev(dev))
		return ERR_PTR(-ENODEV);
	return &mock_iommu;
}

static const struct iommu_ops mock_ops = {
	.default_domain = &mock_blocking_domain,
	.blocked_domain = &mock_blocking_domain,
	.owner = THIS_MODULE,
	.pgsize_bitmap = PAGE_SIZE,
	.domain_alloc_sva = mock_domain_alloc_sva,
	.device_group = generic_device_group,
	.probe_device = mock_probe_device,
	.remove_dev_pasid = mock_remove_dev_pasid,
};

/* misc_open() holds misc_mtx: a removal's misc_deregister() waits. */
static int mock_fops_open(struct inode *inode, struct file *filp)
{
	struct miscdevice *misc = filp->private_data;
	struct mock_dev *mdev = container_of(misc, struct mock_dev, misc);
	struct mock_file *mf;

	mf = kzalloc(sizeof(*mf), GFP_KERNEL_ACCOUNT);
	if (!mf)
		return -ENOMEM;
	mf->mdev = mdev;
	mutex_init(&mf->lock);
	mutex_lock(&mdev->lock);
	if (!mdev->live) {
		mutex_unlock(&mdev->lock);
		kfree(mf);
		return -ENODEV;
	}
	list_add(&mf->node, &mdev->files);
	get_device(&mdev->dev);
	mutex_unlock(&mdev->lock);
	filp->private_data = mf;
	return 0;
}

static int mock_fops_release(struct inode *inode, struct file *filp)
{
	struct mock_file *mf = filp->private_data;
	struct mock_dev *mdev = mf->mdev;

	/* As a removal does: it must not miss a bond that is going. */
	mutex_lock(&mdev->lock);
	mutex_lock(&mf->lock);
	if (mf->sva)
		iommu_sva_unbind_device(mf->sva);
	mf->sva = NULL;
	mutex_unlock(&mf->lock);
	list_del(&mf->node);
	mutex_unlock(&mdev->lock);
	mutex_destroy(&mf->lock);
	kfree(mf);
	put_device(&mdev->dev);
	return 0;
}

static long mock_sva_bind(struct mock_file *mf, u32 __user *upasid)
{
	struct iommu_sva *sva;
	int ret = 0;

	mutex_lock(&mf->lock);
	if (!READ_ONCE(mf->mdev->live)) {
		ret = -ENODEV;
		goto out;
	}
	if (mf->sva) {
		ret = -EEXIST;
		goto out;
	}
	sva = iommu_sva_bind_device(&mf->mdev->dev, current->mm);
	if (IS_ERR(sva)) {
		ret = PTR_ERR(sva);
		goto out;
	}
	if (put_user(iommu_sva_get_pasid(sva), upasid)) {
		iommu_sva_unbind_device(sva);
		ret = -EFAULT;
		goto out;
	}
	mf->sva = sva;
out:
	mutex_unlock(&mf->lock);
	return ret;
}

static long mock_fops_ioctl(struct file *filp, unsigned int cmd,
			    unsigned long arg)
{
	struct mock_file *mf = filp->private_data;
	long ret = -ENOENT;

	switch (cmd) {
	case IOASID_MOCK_SVA_BIND:
		return mock_sva_bind(mf, (u32 __user *)arg);
	case IOASID_MOCK_SVA_UNBIND:
		mutex_lock(&mf->lock);
		if (!READ_ONCE(mf->mdev->live)) {
			ret = -ENODEV;
		} else if (mf->sva) {
			iommu_sva_unbind_device(mf->sva);
			mf->sva = NULL;
			ret = 0;
		}
		mutex_unlock(&mf->lock);
		return ret;
	default:
		return -ENOTTY;
	}
}

static const struct file_operations mock_fops = {
	.owner = THIS_MODULE,
	.open = mock_fops_open,
	.release = mock_fops_release,
	.unlocked_ioctl = mock_fops_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static int mock_table_show(struct seq_file *m, void *v)
{
	struct mock_dev *mdev = m->private;
	unsigned long id;
	void *entry;

	seq_printf(m, "max_pasids %u\n", mdev->idev.max_pasids);
	xa_lock(&mdev->pasids);
	xa_for_each(&mdev->pasids, id, entry)
		seq_printf(m, "%lu\n", id);
	xa_unlock(&mdev->pasids);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mock_table);

static void mock_dev_release(struct device *dev)
{
	struct mock_dev *mdev = to_mock_dev(dev);

	WARN_ON(!xa_empty(&mdev->pasids));
	xa_destroy(&mdev->pasids);
	mutex_destroy(&mdev->lock);
	kfree(mdev);
}

/* A device with 2^@bits PASIDs, numbered @nr, or the lowest free if -1. */
static struct mock_dev *mock_dev_create(int nr, unsigned int bits)
{
	struct mock_dev *mdev;
	int ret;

	ret = ida_alloc_range(&mock_numbers, nr < 0 ? 0 : nr,
			      nr < 0 ? MOCK_MAX_NUMBER : nr, GFP_KERNEL);
	if (ret < 0)
		return ERR_PTR(ret);
	mdev = kzalloc(sizeof(*mdev), GFP_KERNEL);
	if (!mdev) {
		ida_free(&mock_numbers, ret);
		return ERR_PTR(-ENOMEM);
	}
	mdev->nr = ret;
	mdev->bits = bits;
	fwnode_init(&mdev->fwnode, &mock_fwnode_ops);
	xa_init(&mdev->pasids);
	mutex_init(&mdev->lock);
	INIT_LIST_HEAD(&mdev->files);
	snprintf(mdev->name, sizeof(mdev->name), "ioasid_mock%u", mdev->nr);
	device_initialize(&mdev->dev);
	mdev->dev.bus = &ioasid_mock_bus;
	mdev->dev.release = mock_dev_release;
	device_set_node(&mdev->dev, &mdev->fwnode);
	ret = dev_set_name(&mdev->dev, "%s", mdev->name);
	if (ret)
		goto err_put;
	/* Probes the device: the mock IOMMU takes it, with its max_pasids. */
	ret = device_add(&mdev->dev);
	if (ret)
		goto err_put;
	/* The bus notifier drops the probe's error: retry, and return its. */
	if (!mdev->dev.iommu) {
		ret = iommu_probe_device(&mdev->dev);
		if (ret)
			goto err_del;
	}
	if (!mdev->dev.iommu->max_pasids) {
		ret = -ENODEV;
		goto err_del;
	}

	mdev->misc.minor = MISC_DYNAMIC_MINOR;
	mdev->misc.name = mdev->name;
	mdev->misc.fops = &mock_fops;
	mdev->misc.mode = 0600;
	ret = misc_register(&mdev->misc);
	if (ret)
		goto err_del;

	mdev->idev.dev = &mdev->dev;
	mdev->idev.devt = mdev->misc.this_device->devt;
	/* IOASID_BIND takes only files misc_open() gave these fops. */
	mdev->idev.fops = &mock_fops;
	mdev->idev.max_pasids = mdev->dev.iommu->max_pasids;
	mdev->idev.ops = &mock_idev_ops;
	/*
	 * The tests' only view of the table: no device without it (the mock
	 * needs debugfs, where its tables and controls are).
	 */
	mdev->table = debugfs_create_file(mdev->name, 0400, mock_debugfs, mdev,
					  &mock_table_fops);
	if (IS_ERR(mdev->table)) {
		ret = PTR_ERR(mdev->table);
		goto err_misc;
	}
	ret = ioasid_device_register(&mdev->idev);
	if (ret)
		goto err_table;
	/* Only now may files open: the core has the device. */
	mutex_lock(&mdev->lock);
	mdev->live = true;
	mutex_unlock(&mdev->lock);
	list_add_tail(&mdev->node, &mock_devices);
	return mdev;

err_table:
	debugfs_remove(mdev->table);
err_misc:
	misc_deregister(&mdev->misc);
err_del:
	device_del(&mdev->dev);
err_put:
	ida_free(&mock_numbers, mdev->nr);
	put_device(&mdev->dev);
	return ERR_PTR(ret);
}

/*
 * What a driver's remove() does with user space still holding the device:
 * no new bond, the SVA bonds unbound, the core's entries cleared, then the
 * node and the device. Files still open keep the structure until closed.
 */
static void mock_dev_remove(struct mock_dev *mdev)
{
	struct mock_file *mf;

	lockdep_assert_held(&mock_devices_lock);
	list_del(&mdev->node);
	mutex_lock(&mdev->lock);
	WRITE_ONCE(mdev->live, false);
	list_for_each_entry(mf, &mdev->files, node) {
		mutex_lock(&mf->lock);
		if (mf->sva) {
			iommu_sva_unbind_device(mf->sva);
			mf->sva = NULL;
		}
		mutex_unlock(&mf->lock);
	}
	mutex_unlock(&mdev->lock);

	debugfs_remove(mdev->table);
	ioasid_device_unregister(&mdev->idev);
	misc_deregister(&mdev->misc);
	device_del(&mdev->dev);
	ida_free(&mock_numbers, mdev->nr);
	put_device(&mdev->dev);
}

/* debugfs ioasid_mock/add: a number of PASID bits, 1 to 20. */
static ssize_t mock_add_write(struct file *file, const char __user *ubuf,
			      size_t count, loff_t *ppos)
{
	struct mock_dev *mdev;
	unsigned int bits;
	int ret;

	ret = kstrtouint_from_user(ubuf, count, 0, &bits);
	if (ret)
		return ret;
	if (!bits || bits > 20)
		return -EINVAL;
	mutex_lock(&mock_devices_lock);
	mdev = mock_dev_create(-1, bits);
	mutex_unlock(&mock_devices_lock);
	return IS_ERR(mdev) ? PTR_ERR(mdev) : count;
}

/* debugfs ioasid_mock/remove: a device's name, ioasid_mockN. */
static ssize_t mock_remove_write(struct file *file, const char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	struct mock_dev *mdev;
	char name[16];
	int ret = -ENODEV;

	if (!count || count >= sizeof(name))
		return -EINVAL;
	if (copy_from_user(name, ubuf, count))
		return -EFAULT;
	name[count] = '\0';
	mutex_lock(&mock_devices_lock);
	list_for_each_entry(mdev, &mock_devices, node) {
		if (sysfs_streq(mdev->name, name)) {
			mock_dev_remove(mdev);
			ret = count;
			break;
		}
	}
	mutex_unlock(&mock_devices_lock);
	return ret;
}

static const struct file_operations mock_add_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = mock_add_write,
};

static const struct file_operations mock_remove_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = mock_remove_write,
};

static int __init ioasid_mock_init(void)
{
	struct mock_dev *mdev;
	int i, ret;

	ret = bus_register(&ioasid_mock_bus);
	if (ret)
		return ret;
	ret = iommu_device_sysfs_add(&mock_iommu, NULL, NULL, "ioasid_mock");
	if (ret)
		goto err_bus;
	mock_iommu.max_pasids = iommu_pasids;
	ret = iommu_device_register_bus(&mock_iommu, &mock_ops,
					&ioasid_mock_bus, &ioasid_mock_nb);
	if (ret)
		goto err_sysfs;

	mock_debugfs = debugfs_create_dir("ioasid_mock", NULL);
	debugfs_create_file("add", 0200, mock_debugfs, NULL, &mock_add_fops);
	debugfs_create_file("remove", 0200, mock_debugfs, NULL,
			    &mock_remove_fops);
	mutex_lock(&mock_devices_lock);
	for (i = 0; i < nr_devices; i++) {
		mdev = mock_dev_create(i, min(pasid_bits[i], 20U));
		if (IS_ERR(mdev))
			pr_err("device %d: %ld\n", i, PTR_ERR(mdev));
	}
	mutex_unlock(&mock_devices_lock);
	pr_info("IOMMU with %u PASIDs, %d devices\n", iommu_pasids, nr_devices);
	return 0;

err_sysfs:
	iommu_device_sysfs_remove(&mock_iommu);
err_bus:
	bus_unregister(&ioasid_mock_bus);
	return ret;
}
late_initcall(ioasid_mock_init);

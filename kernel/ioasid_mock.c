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
 */
#define pr_fmt(fmt) "ioasid_mock: " fmt

#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/ioasid.h>
#include <linux/iommu.h>
#include <linux/miscdevice.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/property.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include "iommu-priv.h"
#include "ioasid_mock.h"

#define MOCK_MAX_DEVICES	8

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
 * @name: ioasid_mockN
 */
struct mock_dev {
	struct device dev;
	struct miscdevice misc;
	struct ioasid_device idev;
	struct xarray pasids;
	char name[16];
};

/* One per open /dev/ioasid_mockN: at most one SVA bond. */
struct mock_file {
	struct mock_dev *mdev;
	struct mutex lock;	/* protects @sva */
	struct iommu_sva *sva;
};

static const struct bus_type ioasid_mock_bus = {
	.name = "ioasid_mock",
};

static struct notifier_block ioasid_mock_nb;
static struct iommu_device mock_iommu;
static struct dentry *mock_debugfs;

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

static const struct ioasid_device_ops mock_idev_ops = {
	.set_pasid = mock_set_pasid,
	.clear_pasid = mock_clear_pasid,
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

static int mock_fops_open(struct inode *inode, struct file *filp)
{
	struct miscdevice *misc = filp->private_data;
	struct mock_file *mf;

	mf = kzalloc(sizeof(*mf), GFP_KERNEL_ACCOUNT);
	if (!mf)
		return -ENOMEM;
	mf->mdev = container_of(misc, struct mock_dev, misc);
	mutex_init(&mf->lock);
	filp->private_data = mf;
	return 0;
}

static int mock_fops_release(struct inode *inode, struct file *filp)
{
	struct mock_file *mf = filp->private_data;

	if (mf->sva)
		iommu_sva_unbind_device(mf->sva);
	mutex_destroy(&mf->lock);
	kfree(mf);
	return 0;
}

static long mock_sva_bind(struct mock_file *mf, u32 __user *upasid)
{
	struct iommu_sva *sva;
	int ret = 0;

	mutex_lock(&mf->lock);
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
		if (mf->sva) {
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
	kfree(to_mock_dev(dev));
}

static struct mock_dev *mock_dev_create(unsigned int nr, unsigned int bits)
{
	const struct property_entry props[] = {
		PROPERTY_ENTRY_U32("pasid-num-bits", bits),
		{ }
	};
	struct mock_dev *mdev;
	int ret;

	mdev = kzalloc(sizeof(*mdev), GFP_KERNEL);
	if (!mdev)
		return ERR_PTR(-ENOMEM);
	xa_init(&mdev->pasids);
	snprintf(mdev->name, sizeof(mdev->name), "ioasid_mock%u", nr);
	device_initialize(&mdev->dev);
	mdev->dev.bus = &ioasid_mock_bus;
	mdev->dev.release = mock_dev_release;
	ret = dev_set_name(&mdev->dev, "%s", mdev->name);
	if (ret)
		goto err_put;
	ret = device_create_managed_software_node(&mdev->dev, props, NULL);
	if (ret)
		goto err_put;
	/* Probes the device: the mock IOMMU takes it, with its max_pasids. */
	ret = device_add(&mdev->dev);
	if (ret)
		goto err_put;
	if (!mdev->dev.iommu || !mdev->dev.iommu->max_pasids) {
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
	ret = ioasid_device_register(&mdev->idev);
	if (ret)
		goto err_misc;

	debugfs_create_file(mdev->name, 0400, mock_debugfs, mdev,
			    &mock_table_fops);
	return mdev;

err_misc:
	misc_deregister(&mdev->misc);
err_del:
	device_del(&mdev->dev);
err_put:
	put_device(&mdev->dev);
	return ERR_PTR(ret);
}

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
	for (i = 0; i < nr_devices; i++) {
		mdev = mock_dev_create(i, min(pasid_bits[i], 20U));
		if (IS_ERR(mdev))
			pr_err("device %d: %ld\n", i, PTR_ERR(mdev));
	}
	pr_info("IOMMU with %u PASIDs, %d devices\n", iommu_pasids, nr_devices);
	return 0;

err_sysfs:
	iommu_device_sysfs_remove(&mock_iommu);
err_bus:
	bus_unregister(&ioasid_mock_bus);
	return ret;
}
late_initcall(ioasid_mock_init);

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * IOASID core: the system-wide PCIe PASID namespace, divided into sets whose
 * every allocation is charged to the ioasids cgroup controller.
 */
#ifndef __LINUX_IOASID_H
#define __LINUX_IOASID_H

#include <linux/errno.h>
#include <linux/iommu.h>	/* ioasid_t, IOMMU_PASID_INVALID */
#include <linux/list.h>
#include <linux/types.h>
#include <linux/xarray.h>

struct device;
struct file;
struct ioasids_cgroup;
struct ioasid_device;
struct ioasid_set;
struct mm_struct;
struct seq_file;

/**
 * enum ioasid_set_type - who a set belongs to
 * @IOASID_SET_TYPE_KERNEL: kernel users, such as iommu_alloc_global_pasid()
 * @IOASID_SET_TYPE_MM: a process address space (SVA); one set per mm
 * @IOASID_SET_TYPE_FD: an open /dev/ioasid file
 */
enum ioasid_set_type {
	IOASID_SET_TYPE_KERNEL,
	IOASID_SET_TYPE_MM,
	IOASID_SET_TYPE_FD,
};

/*
 * The most IDs one ioasid_alloc_reserve() or ioasid_free_batch() takes:
 * /dev/ioasid's IOASID_MAX_COUNT.
 */
#define IOASID_MAX_BATCH	4096

/**
 * struct ioasid_set_info - a snapshot of a set, for user space
 * @type: the &enum ioasid_set_type
 * @quota: the set's own quota, 0 for none
 * @count: IDs charged to the set, including ones a FREE under way holds
 * @room: how many more the set could allocate now, given its quota, every
 *	ioasids.max on the way to the root and the free namespace
 * @capacity: how many IDs the namespace has
 */
struct ioasid_set_info {
	u32 type;
	u32 quota;
	u32 count;
	u32 room;
	u32 capacity;
};

/**
 * struct ioasid_device_ops - how the core programs a device's PASID table
 * @set_pasid: write the entry for @id; from then on the device may issue
 *	DMA tagged with @id
 * @clear_pasid: remove the entry for @id; when it returns, the device no
 *	longer uses @id and any DMA tagged with it has completed
 * @owns_file: whether @file, opened through the device's @fops on its
 *	@devt, was opened on this device, and not on an earlier one that had
 *	the same node number and was removed (required with @devt)
 *
 * All are called with the core's device lock held: they must not bind or
 * unbind, or register or unregister a device.
 */
struct ioasid_device_ops {
	int (*set_pasid)(struct ioasid_device *idev, ioasid_t id);
	void (*clear_pasid)(struct ioasid_device *idev, ioasid_t id);
	bool (*owns_file)(struct ioasid_device *idev, struct file *file);
};

/**
 * struct ioasid_device - a PASID-capable device the core programs
 * @dev: the device, for messages; may be %NULL
 * @devt: the character device through which user space names the device
 *	in IOASID_BIND, or 0 if user space cannot bind IDs to it
 * @fops: the file operations of the driver's files of @devt (required
 *	with @devt): IOASID_BIND accepts only files opened through them
 * @max_pasids: the size of its PASID table: IDs up to @max_pasids - 1
 * @ops: its &struct ioasid_device_ops
 * @table: private to the core: each programmed ID, the entry holding a
 *	reference on it
 * @index: private to the core: the device's number among those registered
 * @list: private to the core
 */
struct ioasid_device {
	struct device *dev;
	dev_t devt;
	const struct file_operations *fops;
	u32 max_pasids;
	const struct ioasid_device_ops *ops;
	struct xarray table;
	u32 index;
	struct list_head list;
};

#if IS_ENABLED(CONFIG_IOASID)

struct ioasid_set *ioasid_set_alloc(enum ioasid_set_type type, void *token,
				    unsigned int quota);
void ioasid_set_free(struct ioasid_set *set);
struct ioasid_set *ioasid_set_find_mm(struct mm_struct *mm, ioasid_t pasid);
void ioasid_set_put(struct ioasid_set *set);
int ioasid_set_set_quota(struct ioasid_set *set, unsigned int quota);
int ioasid_set_set_cgroup(struct ioasid_set *set, struct ioasids_cgroup *cg);
struct ioasids_cgroup *ioasid_set_get_cgroup(struct ioasid_set *set);
void ioasid_set_get_info(struct ioasid_set *set, struct ioasid_set_info *info);
void ioasid_set_show_fdinfo(struct seq_file *m, struct ioasid_set *set);

int ioasid_alloc_reserve(struct ioasid_set *set, ioasid_t min, ioasid_t max,
			 unsigned int n, ioasid_t spid, ioasid_t *ids);
void ioasid_alloc_finalize(struct ioasid_set *set, const ioasid_t *ids,
			   unsigned int n);
void ioasid_alloc_abort(struct ioasid_set *set, const ioasid_t *ids,
			unsigned int n);
int ioasid_alloc(struct ioasid_set *set, ioasid_t min, ioasid_t max,
		 ioasid_t spid, ioasid_t *id);
int ioasid_free(struct ioasid_set *set, ioasid_t id);
int ioasid_free_batch(struct ioasid_set *set, const ioasid_t *ids,
		      unsigned int n);

int ioasid_find_by_spid(struct ioasid_set *set, ioasid_t spid, ioasid_t *id);
int ioasid_find_spid(struct ioasid_set *set, ioasid_t id, ioasid_t *spid);

void ioasid_register_max_pasids(u32 max_pasids);
u32 ioasid_max_pasids(void);

int ioasid_device_register(struct ioasid_device *idev);
void ioasid_device_unregister(struct ioasid_device *idev);
int ioasid_bind(struct ioasid_set *set, struct ioasid_device *idev,
		ioasid_t id);
int ioasid_unbind(struct ioasid_set *set, struct ioasid_device *idev,
		  ioasid_t id);
int ioasid_bind_file(struct ioasid_set *set, struct file *file, ioasid_t id,
		     bool bind);

/* The kernel users' set, behind iommu_alloc_global_pasid(). */
extern struct ioasid_set *ioasid_kernel_set;

int ioasid_mm_alloc(struct mm_struct *mm, ioasid_t max, ioasid_t *pasid);
void ioasid_mm_drop(struct mm_struct *mm, ioasid_t pasid);

#else /* !CONFIG_IOASID */

static inline void ioasid_register_max_pasids(u32 max_pasids)
{
}
#endif /* CONFIG_IOASID */

#if IS_ENABLED(CONFIG_IOASID_MOCK_HW)
bool ioasid_mock_dev(struct device *dev);
#else
static inline bool ioasid_mock_dev(struct device *dev)
{
	return false;
}
#endif /* CONFIG_IOASID_MOCK_HW */
#endif /* __LINUX_IOASID_H */

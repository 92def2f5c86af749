/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The mock PASID hardware's test interface (CONFIG_IOASID_MOCK_HW), for
 * the selftests only: like iommufd_test.h, it is not a stable uAPI.
 *
 * Each mock device has a node /dev/ioasid_mockN, which user space passes to
 * IOASID_BIND on /dev/ioasid, and debugfs ioasid_mock/ioasid_mockN, which
 * lists "max_pasids N" and then each PASID programmed into its table.
 *
 * Devices are hot-plugged through debugfs: writing a number of bits (1 to
 * 20) to ioasid_mock/add adds the lowest-numbered free ioasid_mockN with a
 * table of 2^bits PASIDs; writing its name to ioasid_mock/remove removes it
 * as a driver's remove() would (ENODEV for no such device). Its SVA bonds
 * and the IDs bound to it are cleared, the IDs stay allocated; files still
 * open on it then fail every ioctl here, and IOASID_BIND, with ENODEV.
 */
#ifndef _IOASID_MOCK_H
#define _IOASID_MOCK_H

#include <linux/ioctl.h>
#include <linux/types.h>

/*
 * ioctl(IOASID_MOCK_SVA_BIND, __u32 *pasid) on /dev/ioasid_mockN binds the
 * caller's address space to the device with iommu_sva_bind_device() and
 * returns its PASID: the mm's PASID, charged to the ioasids cgroup of the
 * first task that binds it until the mm goes. One bond per open file:
 * EEXIST for a second. IOASID_MOCK_SVA_UNBIND undoes it (ENOENT if none),
 * as does releasing the file.
 */
#define IOASID_MOCK_SVA_BIND	_IOR(';', 0x60, __u32)
#define IOASID_MOCK_SVA_UNBIND	_IO(';', 0x61)

#endif /* _IOASID_MOCK_H */

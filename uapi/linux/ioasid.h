/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * /dev/ioasid: allocate PCIe PASIDs (IOASIDs) from user space.
 *
 * One open file is one IOASID set. Every ID it allocates is charged to the
 * ioasids cgroup of the task that opened it (or the one IOASID_SET_CGROUP
 * named), whoever uses the file later,
 * and everything it holds is freed when the file is released.
 *
 * Every ioctl takes a struct that starts with __u32 size, the size user space
 * knows, and __u32 flags. The kernel accepts a larger struct only when the
 * bytes it does not know are zero (E2BIG otherwise), refuses unknown flags
 * and non-zero reserved fields (EOPNOTSUPP and EINVAL). There is no version
 * ioctl: user space probes the ioctls it needs, as with iommufd.
 */
#ifndef _UAPI_LINUX_IOASID_H
#define _UAPI_LINUX_IOASID_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define IOASID_TYPE	(';')

enum {
	IOASID_CMD_BASE = 0x40,
	IOASID_CMD_GET_INFO = IOASID_CMD_BASE,
	IOASID_CMD_ALLOC,
	IOASID_CMD_FREE,
	IOASID_CMD_SET_QUOTA,
	IOASID_CMD_FIND,
	IOASID_CMD_BIND,
	IOASID_CMD_UNBIND,
	IOASID_CMD_SET_CGROUP,
};

/*
 * The most IDs one IOASID_ALLOC or IOASID_FREE may name: a larger @count
 * gets EINVAL. Allocate more in several calls.
 */
#define IOASID_MAX_COUNT	4096

/**
 * struct ioasid_info - ioctl(IOASID_GET_INFO)
 * @size: sizeof(struct ioasid_info)
 * @flags: must be 0
 * @capacity: how many IDs the system's namespace has
 * @min_id: the lowest ID that can be allocated
 * @max_id: the highest ID that can be allocated
 * @quota: this file's own quota, 0 for none (IOASID_SET_QUOTA)
 * @count: IDs this file holds, including ones a FREE under way is
 *	clearing from hardware
 * @room: how many more IDs this file could allocate now: the least of its
 *	quota's room, the room under every ioasids.max from its cgroup to
 *	the root, and the free capacity. A VMM tells its guest this many.
 * @__reserved: must be 0
 *
 * Errors: EFAULT, E2BIG, EOPNOTSUPP for flags, EINVAL for a short struct.
 */
struct ioasid_info {
	__u32 size;
	__u32 flags;
	__u32 capacity;
	__u32 min_id;
	__u32 max_id;
	__u32 quota;
	__u32 count;
	__u32 room;
	__u32 __reserved;
};

#define IOASID_GET_INFO		_IO(IOASID_TYPE, IOASID_CMD_GET_INFO)

/**
 * enum ioasid_alloc_flags - flags for struct ioasid_alloc
 * @IOASID_ALLOC_SPID: attach @spid as the private ID (e.g. the guest's
 *	PASID) of the one ID allocated; needs @count == 1
 */
enum ioasid_alloc_flags {
	IOASID_ALLOC_SPID = 1 << 0,
};

/**
 * struct ioasid_alloc - ioctl(IOASID_ALLOC)
 * @size: sizeof(struct ioasid_alloc)
 * @flags: &enum ioasid_alloc_flags
 * @min: the lowest acceptable ID; 0 means the lowest there is
 * @max: the highest acceptable ID; ~0U means the highest there is
 * @count: how many IDs, at least 1
 * @spid: the private ID, with %IOASID_ALLOC_SPID
 * @ids: user pointer to an array of @count __u32, filled with the IDs
 *
 * All or nothing: on any error no ID is held and nothing is charged. The
 * IDs become visible to this file's other calls (FREE, FIND, BIND, from
 * any thread) only once the whole allocation succeeded, copy to @ids
 * included, and all at once (from then on it cannot fail; another call
 * that would see one of them meanwhile waits until it sees all); an
 * allocation refused by
 * a quota, a limit or a full range
 * leaves nothing behind but the ioasids.events count of a refusing limit,
 * and never shows in ioasids.peak.
 *
 * Placement: with @min 0, IDs are taken lowest-first from 256 up, and below
 * 256 only when nothing above is free, so that devices with small PASID
 * tables (4 or 8 bits) keep low IDs for the kernel, SVA and callers that
 * ask for them with @min and @max.
 *
 * Errors: EDQUOT when this file's quota or an ioasids.max on its cgroup's
 * path would be exceeded; ENOSPC when [@min, @max] has no @count free IDs
 * or the system's capacity is used up; EEXIST when @spid is attached to
 * another of this file's IDs; EINVAL for @count 0 or above
 * %IOASID_MAX_COUNT, @min > @max, or %IOASID_ALLOC_SPID with @count > 1
 * or @spid 0xFFFFFFFF (no private ID);
 * EOPNOTSUPP for unknown flags; EFAULT for a bad @ids; EINTR when a fatal
 * signal interrupted it; ENOMEM.
 */
struct ioasid_alloc {
	__u32 size;
	__u32 flags;
	__u32 min;
	__u32 max;
	__u32 count;
	__u32 spid;
	__aligned_u64 ids;
};

#define IOASID_ALLOC		_IO(IOASID_TYPE, IOASID_CMD_ALLOC)

/**
 * struct ioasid_free - ioctl(IOASID_FREE)
 * @size: sizeof(struct ioasid_free)
 * @flags: must be 0
 * @count: how many IDs, at least 1
 * @__reserved: must be 0
 * @ids: user pointer to an array of @count __u32 IDs to free
 *
 * All or nothing: if any ID is not one this file holds (never allocated,
 * freed already, listed twice, or another file's, which is not told apart),
 * none is freed, and no other call saw any of them go. Of a batch of more
 * than 64 that succeeds, the IDs go 64 at a time before the call returns.
 * An ID programmed into hardware is torn down there first.
 *
 * Errors: ENOENT for an ID that is not this file's; EINVAL for @count 0
 * or above %IOASID_MAX_COUNT; EFAULT for a bad @ids; ENOMEM; EOPNOTSUPP,
 * EINVAL for flags and reserved fields.
 */
struct ioasid_free {
	__u32 size;
	__u32 flags;
	__u32 count;
	__u32 __reserved;
	__aligned_u64 ids;
};

#define IOASID_FREE		_IO(IOASID_TYPE, IOASID_CMD_FREE)

/**
 * struct ioasid_set_quota - ioctl(IOASID_SET_QUOTA)
 * @size: sizeof(struct ioasid_set_quota)
 * @flags: must be 0
 * @quota: the most IDs this file may hold. It never lifts the cgroup's
 *	ioasids.max. A quota below the count is accepted and refuses new IDs
 *	until the count drops below it.
 * @__reserved: must be 0
 *
 * A quota can only be lowered: once set, a higher quota, or 0 (none), gets
 * EPERM, whoever holds the file. A manager can set one and pass the file
 * to a VMM, which cannot lift it.
 *
 * Errors: EPERM to raise or remove a quota; EINVAL for a quota of 0 on a
 * file without one, and for reserved fields; EOPNOTSUPP for flags.
 */
struct ioasid_set_quota {
	__u32 size;
	__u32 flags;
	__u32 quota;
	__u32 __reserved;
};

#define IOASID_SET_QUOTA	_IO(IOASID_TYPE, IOASID_CMD_SET_QUOTA)

/**
 * enum ioasid_find_flags - what struct ioasid_find looks up
 * @IOASID_FIND_BY_SPID: the ID whose private ID is @spid
 * @IOASID_FIND_BY_ID: the private ID of @id
 */
enum ioasid_find_flags {
	IOASID_FIND_BY_SPID = 1 << 0,
	IOASID_FIND_BY_ID = 1 << 1,
};

/**
 * struct ioasid_find - ioctl(IOASID_FIND)
 * @size: sizeof(struct ioasid_find)
 * @flags: exactly one of &enum ioasid_find_flags
 * @id: the ID; in with %IOASID_FIND_BY_ID, out with %IOASID_FIND_BY_SPID
 * @spid: the private ID; in with %IOASID_FIND_BY_SPID, out otherwise
 *
 * Only this file's IDs are found.
 *
 * Errors: ENOENT when there is no such ID or private ID in this file;
 * EINVAL for no or both flags; EOPNOTSUPP for unknown flags.
 */
struct ioasid_find {
	__u32 size;
	__u32 flags;
	__u32 id;
	__u32 spid;
};

#define IOASID_FIND		_IO(IOASID_TYPE, IOASID_CMD_FIND)

/**
 * struct ioasid_bind - ioctl(IOASID_BIND) and ioctl(IOASID_UNBIND)
 * @size: sizeof(struct ioasid_bind)
 * @flags: must be 0
 * @dev_fd: a file of the PASID-capable device's character node, opened
 *	for writing through the device's own driver; the node's file mode is
 *	what grants the right to program the device
 * @id: an ID this file holds
 *
 * IOASID_BIND programs @id into the device's PASID table. The entry keeps
 * @id reserved, and charged, until it is cleared: by IOASID_UNBIND, by
 * freeing @id (IOASID_FREE) or releasing this file, which clear the
 * hardware entry first, or by the device going away. Only then can @id be
 * handed out again.
 *
 * Errors: EBADF for a bad @dev_fd, or one not open for writing; ENODEV
 * when @dev_fd is not a file of a device's driver that takes PASIDs;
 * ENOENT when @id is not this file's (never allocated, freed,
 * or another file's, which is not told apart), and for IOASID_UNBIND when
 * it is not bound to the device; EOVERFLOW when @id is beyond the device's
 * PASID table; EEXIST when @id is bound to the device already; EBUSY when
 * @id is in too many tables; EOPNOTSUPP for flags; ENOMEM, or the device
 * driver's error from programming its table.
 */
struct ioasid_bind {
	__u32 size;
	__u32 flags;
	__s32 dev_fd;
	__u32 id;
};

#define IOASID_BIND		_IO(IOASID_TYPE, IOASID_CMD_BIND)
#define IOASID_UNBIND		_IO(IOASID_TYPE, IOASID_CMD_UNBIND)

/**
 * struct ioasid_set_cgroup - ioctl(IOASID_SET_CGROUP)
 * @size: sizeof(struct ioasid_set_cgroup)
 * @flags: must be 0
 * @cgroup_fd: an open directory of a cgroup v2 cgroup
 * @__reserved: must be 0
 *
 * Charge this file's IDs to that cgroup from now on, instead of the
 * opener's: for a manager (libvirtd, a container runtime) that opens
 * /dev/ioasid and passes the file to a VMM in the VM's cgroup, so that the
 * VM's ioasids.max applies. The caller must be allowed to move a process
 * from the cgroup the file is charged to now into that cgroup (write
 * access to the target's cgroup.procs and to that of the common ancestor
 * of the two, both within the caller's cgroup namespace), whatever the
 * caller's own cgroup: a process that receives the file gains no right to
 * move its charge. The file must hold no IDs.
 *
 * Once only: a second IOASID_SET_CGROUP on the file is refused, so the
 * manager's choice holds whoever gets the file.
 *
 * Errors: EBADF when @cgroup_fd is not a cgroup v2 directory; EACCES or
 * EPERM when the caller may not move a process there (ENOENT when the
 * target or the file's cgroup is outside its cgroup namespace); ENODEV
 * when the target was removed or is being removed; EPERM when the file was
 * given a cgroup already; EBUSY when the file holds IDs; EOPNOTSUPP for
 * flags, or without the ioasids controller; EINVAL for reserved fields;
 * ENOMEM.
 */
struct ioasid_set_cgroup {
	__u32 size;
	__u32 flags;
	__s32 cgroup_fd;
	__u32 __reserved;
};

#define IOASID_SET_CGROUP	_IO(IOASID_TYPE, IOASID_CMD_SET_CGROUP)

#endif /* _UAPI_LINUX_IOASID_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/ioasid: the fd container through which user space allocates PASIDs.
 *
 * One open file is one IOASID set of type fd, charged to the ioasids cgroup
 * of the task that opened it, or to the one IOASID_SET_CGROUP names: passing
 * the file to another process, or forking, moves neither the IDs nor the
 * charge. Several threads may use one file at once: an allocation is
 * reserved, copied to user space and only then made visible. Releasing the file frees
 * everything the set holds, hardware programming first.
 *
 * The ioctls follow iommufd: each takes a struct that begins with its size
 * and flags, and the dispatch table checks sizes the same way.
 */
#define pr_fmt(fmt) "ioasid: " fmt

#include <linux/cgroup.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/ioasid.h>
#include <linux/ioasids_cgroup.h>
#include <linux/kernfs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/nsproxy.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/ioasid.h>

struct ioasid_file {
	struct ioasid_set *set;
};

struct ioasid_ucmd {
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
};

/* Copy the command back, as much of it as user space knows. */
static int ioasid_ucmd_respond(struct ioasid_ucmd *ucmd, size_t cmd_len)
{
	if (copy_to_user(ucmd->ubuffer, ucmd->cmd,
			 min_t(size_t, ucmd->user_size, cmd_len)))
		return -EFAULT;
	return 0;
}

static int ioasid_get_info(struct ioasid_file *f, struct ioasid_ucmd *ucmd)
{
	struct ioasid_info *cmd = ucmd->cmd;
	struct ioasid_set_info info;
	u32 max_pasids;

	if (cmd->flags)
		return -EOPNOTSUPP;
	if (cmd->__reserved)
		return -EINVAL;

	ioasid_set_get_info(f->set, &info);
	max_pasids = ioasid_max_pasids();
	cmd->capacity = info.capacity;
	cmd->min_id = max_pasids > IOMMU_FIRST_GLOBAL_PASID ?
		      IOMMU_FIRST_GLOBAL_PASID : 0;
	cmd->max_id = max_pasids > IOMMU_FIRST_GLOBAL_PASID ?
		      max_pasids - 1 : 0;
	cmd->quota = info.quota;
	cmd->count = info.count;
	cmd->room = info.room;
	return ioasid_ucmd_respond(ucmd, sizeof(*cmd));
}

static_assert(IOASID_MAX_COUNT == IOASID_MAX_BATCH);

/* A VMM mostly asks for one ID at a time: keep small arrays on the stack. */
#define IOASID_STACK_IDS	16

static ioasid_t *ioasid_ids_alloc(u32 count, ioasid_t *stack)
{
	if (count <= IOASID_STACK_IDS)
		return stack;
	return kvmalloc_array(count, sizeof(ioasid_t),
			      GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL);
}

static void ioasid_ids_free(ioasid_t *ids, ioasid_t *stack)
{
	if (ids != stack)
		kvfree(ids);
}

static int ioasid_alloc_ioctl(struct ioasid_file *f, struct ioasid_ucmd *ucmd)
{
	struct ioasid_alloc *cmd = ucmd->cmd;
	ioasid_t stack[IOASID_STACK_IDS];
	ioasid_t *ids;
	int ret;

	if (cmd->flags & ~IOASID_ALLOC_SPID)
		return -EOPNOTSUPP;
	if (!cmd->count || cmd->count > IOASID_MAX_COUNT || cmd->min > cmd->max)
		return -EINVAL;
	/* 0xFFFFFFFF is no private ID: it would be an ID without one. */
	if ((cmd->flags & IOASID_ALLOC_SPID) &&
	    (cmd->count != 1 || cmd->spid == IOMMU_PASID_INVALID))
		return -EINVAL;

	ids = ioasid_ids_alloc(cmd->count, stack);
	if (!ids)
		return -ENOMEM;

	/*
	 * Reserve, copy out, then finalize: no other thread on this file can
	 * free, find or bind the IDs before user space has them, and a failed
	 * copy gives them back as if they had never been taken.
	 */
	ret = ioasid_alloc_reserve(f->set, cmd->min, cmd->max, cmd->count,
				   (cmd->flags & IOASID_ALLOC_SPID) ?
				   cmd->spid : IOMMU_PASID_INVALID, ids);
	if (ret)
		goto out;
	if (copy_to_user(u64_to_user_ptr(cmd->ids), ids,
			 array_size(cmd->count, sizeof(*ids)))) {
		ioasid_alloc_abort(f->set, ids, cmd->count);
		ret = -EFAULT;
		goto out;
	}
	ioasid_alloc_finalize(f->set, ids, cmd->count);
out:
	ioasid_ids_free(ids, stack);
	return ret;
}

static int ioasid_free_ioctl(struct ioasid_file *f, struct ioasid_ucmd *ucmd)
{
	struct ioasid_free *cmd = ucmd->cmd;
	ioasid_t stack[IOASID_STACK_IDS];
	ioasid_t *ids;
	int ret;

	if (cmd->flags)
		return -EOPNOTSUPP;
	if (cmd->__reserved || !cmd->count || cmd->count > IOASID_MAX_COUNT)
		return -EINVAL;

	ids = ioasid_ids_alloc(cmd->count, stack);
	if (!ids)
		return -ENOMEM;
	if (copy_from_user(ids, u64_to_user_ptr(cmd->ids),
			   array_size(cmd->count, sizeof(*ids))))
		ret = -EFAULT;
	else
		ret = ioasid_free_batch(f->set, ids, cmd->count);
	ioasid_ids_free(ids, stack);
	return ret;
}

static int ioasid_set_quota_ioctl(struct ioasid_file *f,
				  struct ioasid_ucmd *ucmd)
{
	struct ioasid_set_quota *cmd = ucmd->cmd;

	if (cmd->flags)
		return -EOPNOTSUPP;
	if (cmd->__reserved)
		return -EINVAL;
	return ioasid_set_set_quota(f->set, cmd->quota);
}

static int ioasid_find_ioctl(struct ioasid_file *f, struct ioasid_ucmd *ucmd)
{
	struct ioasid_find *cmd = ucmd->cmd;
	int ret;

	if (cmd->flags & ~(IOASID_FIND_BY_SPID | IOASID_FIND_BY_ID))
		return -EOPNOTSUPP;
	if (cmd->flags == IOASID_FIND_BY_SPID)
		ret = ioasid_find_by_spid(f->set, cmd->spid, &cmd->id);
	else if (cmd->flags == IOASID_FIND_BY_ID)
		ret = ioasid_find_spid(f->set, cmd->id, &cmd->spid);
	else
		return -EINVAL;
	if (ret)
		return ret;
	return ioasid_ucmd_respond(ucmd, sizeof(*cmd));
}

static int ioasid_bind_ioctl(struct ioasid_file *f, struct ioasid_ucmd *ucmd,
			     bool bind)
{
	struct ioasid_bind *cmd = ucmd->cmd;
	struct fd dev;
	int ret;

	if (cmd->flags)
		return -EOPNOTSUPP;
	dev = fdget(cmd->dev_fd);
	if (!fd_file(dev))
		return -EBADF;
	/* A device is named by a file its own driver opened, as with VFIO. */
	ret = ioasid_bind_file(f->set, fd_file(dev), cmd->id, bind);
	fdput(dev);
	return ret;
}

static int ioasid_bind_cmd(struct ioasid_file *f, struct ioasid_ucmd *ucmd)
{
	return ioasid_bind_ioctl(f, ucmd, true);
}

static int ioasid_unbind_cmd(struct ioasid_file *f, struct ioasid_ucmd *ucmd)
{
	return ioasid_bind_ioctl(f, ucmd, false);
}

#ifdef CONFIG_CGROUP_IOASIDS
/* Whether current may write @cgrp's cgroup.procs; under cgroup_mutex. */
static int ioasid_cgroup_may_write(struct cgroup *cgrp, struct super_block *sb)
{
	struct inode *inode;
	int ret;

	lockdep_assert_held(&cgroup_mutex);
	inode = kernfs_get_inode(sb, cgrp->procs_file.kn);
	if (!inode)
		return -ENOMEM;
	ret = inode_permission(&nop_mnt_idmap, inode, MAY_WRITE);
	iput(inode);
	return ret;
}

/*
 * The ioasids cgroup of a cgroup v2 directory @fd, if the caller may move
 * the charge of a file charged to @from there: what moving a process from
 * @from's cgroup to the target asks (write access to the target's
 * cgroup.procs and to that of their common ancestor, both within the
 * caller's cgroup namespace), and a target that is not being removed. The
 * caller's own cgroup does not matter: a file passed to a process that owns
 * another cgroup gives it no right to move the file's charge there.
 */
static struct ioasids_cgroup *ioasid_cgroup_from_fd(int fd,
						    struct ioasids_cgroup *from)
{
	struct cgroup_namespace *ns = current->nsproxy->cgroup_ns;
	struct cgroup_subsys_state *css, *e = NULL;
	struct cgroup *dst, *src, *com;
	struct super_block *sb;
	struct fd f;
	int ret;

	f = fdget_raw(fd);
	if (!fd_file(f))
		return ERR_PTR(-EBADF);
	css = css_tryget_online_from_dir(fd_file(f)->f_path.dentry, NULL);
	if (IS_ERR(css)) {
		fdput(f);
		/* -ENOENT: a cgroup directory, removed. */
		return ERR_PTR(PTR_ERR(css) == -ENOENT ? -ENODEV : -EBADF);
	}
	sb = fd_file(f)->f_path.dentry->d_sb;
	dst = css->cgroup;

	cgroup_lock();
	if (dst->root != &cgrp_dfl_root) {
		ret = -EBADF;
		goto out;
	}
	ret = -ENODEV;
	if (!(dst->self.flags & CSS_ONLINE))
		goto out;
	/* @from holds its cgroup; the hierarchy is stable under the lock. */
	src = from->css.cgroup;
	ret = -ENOENT;
	if (!cgroup_is_descendant(src, ns->root_cset->dfl_cgrp) ||
	    !cgroup_is_descendant(dst, ns->root_cset->dfl_cgrp))
		goto out;
	com = src;
	while (!cgroup_is_descendant(dst, com))
		com = cgroup_parent(com);
	ret = ioasid_cgroup_may_write(com, sb) ?:
	      ioasid_cgroup_may_write(dst, sb);
	if (!ret)
		e = cgroup_get_e_css(dst, &ioasids_cgrp_subsys);
out:
	cgroup_unlock();
	css_put(css);
	fdput(f);
	if (ret)
		return ERR_PTR(ret);
	return container_of(e, struct ioasids_cgroup, css);
}

static int ioasid_set_cgroup_ioctl(struct ioasid_file *f,
				   struct ioasid_ucmd *ucmd)
{
	struct ioasid_set_cgroup *cmd = ucmd->cmd;
	struct ioasids_cgroup *from, *cg;
	int ret;

	if (cmd->flags)
		return -EOPNOTSUPP;
	if (cmd->__reserved)
		return -EINVAL;
	/* -EPERM once named: whatever the target, as the uAPI says. */
	from = ioasid_set_get_cgroup(f->set);
	if (IS_ERR(from))
		return PTR_ERR(from);
	cg = ioasid_cgroup_from_fd(cmd->cgroup_fd, from);
	ioasids_cg_put(from);
	if (IS_ERR(cg))
		return PTR_ERR(cg);
	/* -EPERM if another call named a cgroup since @from was read. */
	ret = ioasid_set_set_cgroup(f->set, cg);
	if (ret)
		ioasids_cg_put(cg);
	return ret;
}
#else
static int ioasid_set_cgroup_ioctl(struct ioasid_file *f,
				   struct ioasid_ucmd *ucmd)
{
	return -EOPNOTSUPP;
}
#endif

union ioasid_ucmd_buffer {
	struct ioasid_info info;
	struct ioasid_alloc alloc;
	struct ioasid_free free;
	struct ioasid_set_quota quota;
	struct ioasid_find find;
	struct ioasid_bind bind;
	struct ioasid_set_cgroup cgroup;
};

struct ioasid_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	int (*execute)(struct ioasid_file *f, struct ioasid_ucmd *ucmd);
};

/* Every command is _IO(IOASID_TYPE, nr): the size is in the struct. */
#define IOCTL_OP(_cmd, _fn, _struct, _last)                                  \
	[(_cmd) - IOASID_CMD_BASE] = {                                       \
		.size = sizeof(_struct) +                                    \
			BUILD_BUG_ON_ZERO(sizeof(union ioasid_ucmd_buffer) < \
					  sizeof(_struct)),                  \
		.min_size = offsetofend(_struct, _last),                     \
		.execute = _fn,                                              \
	}

static const struct ioasid_ioctl_op ioasid_ioctl_ops[] = {
	IOCTL_OP(IOASID_CMD_GET_INFO, ioasid_get_info, struct ioasid_info,
		 __reserved),
	IOCTL_OP(IOASID_CMD_ALLOC, ioasid_alloc_ioctl, struct ioasid_alloc,
		 ids),
	IOCTL_OP(IOASID_CMD_FREE, ioasid_free_ioctl, struct ioasid_free, ids),
	IOCTL_OP(IOASID_CMD_SET_QUOTA, ioasid_set_quota_ioctl,
		 struct ioasid_set_quota, __reserved),
	IOCTL_OP(IOASID_CMD_FIND, ioasid_find_ioctl, struct ioasid_find, spid),
	IOCTL_OP(IOASID_CMD_BIND, ioasid_bind_cmd, struct ioasid_bind, id),
	IOCTL_OP(IOASID_CMD_UNBIND, ioasid_unbind_cmd, struct ioasid_bind, id),
	IOCTL_OP(IOASID_CMD_SET_CGROUP, ioasid_set_cgroup_ioctl,
		 struct ioasid_set_cgroup, __reserved),
};

static long ioasid_fops_ioctl(struct file *filp, unsigned int cmd,
			      unsigned long arg)
{
	struct ioasid_file *f = filp->private_data;
	const struct ioasid_ioctl_op *op;
	union ioasid_ucmd_buffer buf;
	struct ioasid_ucmd ucmd = {};
	unsigned int nr;
	int ret;

	nr = _IOC_NR(cmd);
	if (nr < IOASID_CMD_BASE ||
	    (nr - IOASID_CMD_BASE) >= ARRAY_SIZE(ioasid_ioctl_ops))
		return -ENOIOCTLCMD;
	if (cmd != _IO(IOASID_TYPE, nr))
		return -ENOIOCTLCMD;
	op = &ioasid_ioctl_ops[nr - IOASID_CMD_BASE];

	ucmd.ubuffer = (void __user *)arg;
	ret = get_user(ucmd.user_size, (u32 __user *)ucmd.ubuffer);
	if (ret)
		return ret;
	if (ucmd.user_size < op->min_size)
		return -EINVAL;

	ucmd.cmd = &buf;
	ret = copy_struct_from_user(ucmd.cmd, op->size, ucmd.ubuffer,
				    ucmd.user_size);
	if (ret)
		return ret;
	return op->execute(f, &ucmd);
}

static int ioasid_fops_open(struct inode *inode, struct file *filp)
{
	struct ioasid_file *f;

	f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL);
	if (!f)
		return -ENOMEM;
	/* Charged to the opener's cgroup, whoever uses the file later. */
	f->set = ioasid_set_alloc(IOASID_SET_TYPE_FD, filp, 0);
	if (IS_ERR(f->set)) {
		int ret = PTR_ERR(f->set);

		kfree(f);
		return ret;
	}
	filp->private_data = f;
	return 0;
}

static int ioasid_fops_release(struct inode *inode, struct file *filp)
{
	struct ioasid_file *f = filp->private_data;

	ioasid_set_free(f->set);
	kfree(f);
	return 0;
}

/* /proc/PID/fdinfo/FD: the set's number, count, quota, cgroup and bonds. */
static void ioasid_fops_show_fdinfo(struct seq_file *m, struct file *filp)
{
	struct ioasid_file *f = filp->private_data;

	ioasid_set_show_fdinfo(m, f->set);
}

static const struct file_operations ioasid_fops = {
	.owner = THIS_MODULE,
	.open = ioasid_fops_open,
	.release = ioasid_fops_release,
	.show_fdinfo = ioasid_fops_show_fdinfo,
	.unlocked_ioctl = ioasid_fops_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/*
 * 0660: a udev rule gives the node to the kvm group, so that a VMM running
 * as an unprivileged member of it can open it. The file mode says who may
 * allocate at all; how many each may hold is the cgroup's ioasids.max.
 */
static struct miscdevice ioasid_misc_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "ioasid",
	.nodename = "ioasid",
	.fops = &ioasid_fops,
	.mode = 0660,
};

static int __init ioasid_dev_init(void)
{
	return misc_register(&ioasid_misc_dev);
}
device_initcall(ioasid_dev_init);

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of the IOASID core: each allocation, free, bind and unbind,
 * and each refused allocation, with the set (the number its fdinfo shows as
 * ioasid-set), the ioasids cgroup it is charged to (the cgroup's ID, the
 * inode number of its directory), and for a refusal the errno.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM ioasid

#if !defined(_TRACE_IOASID_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_IOASID_H

#include <linux/tracepoint.h>

DECLARE_EVENT_CLASS(ioasid_batch,
		    TP_PROTO(u64 set, u64 cgroup, const u32 *ids, unsigned int n),
		    TP_ARGS(set, cgroup, ids, n),
		    TP_STRUCT__entry(__field(u64, set)
				     __field(u64, cgroup)
				     __field(unsigned int, n)
				     __dynamic_array(u32, ids, n)),
		    TP_fast_assign(__entry->set = set;
				   __entry->cgroup = cgroup;
				   __entry->n = n;
				   memcpy(__get_dynamic_array(ids), ids,
					  n * sizeof(*ids));),
		    TP_printk("set=%llu cgroup=%llu n=%u ids=%s",
			      __entry->set, __entry->cgroup, __entry->n,
			      __print_array(__get_dynamic_array(ids), __entry->n,
					    sizeof(u32)))
);

/* IDs handed out: visible to their set from now on. */
DEFINE_EVENT(ioasid_batch, ioasid_alloc,
	     TP_PROTO(u64 set, u64 cgroup, const u32 *ids, unsigned int n),
	     TP_ARGS(set, cgroup, ids, n)
);

/* IDs freed by their owner (they return to the pool once unreferenced). */
DEFINE_EVENT(ioasid_batch, ioasid_free,
	     TP_PROTO(u64 set, u64 cgroup, const u32 *ids, unsigned int n),
	     TP_ARGS(set, cgroup, ids, n)
);

/* An allocation that failed, with its errno: EDQUOT, ENOSPC, ... */
TRACE_EVENT(ioasid_refused,
	    TP_PROTO(u64 set, u64 cgroup, unsigned int n, u32 min, u32 max,
		     int error),
	    TP_ARGS(set, cgroup, n, min, max, error),
	    TP_STRUCT__entry(__field(u64, set)
			     __field(u64, cgroup)
			     __field(unsigned int, n)
			     __field(u32, min)
			     __field(u32, max)
			     __field(int, error)),
	    TP_fast_assign(__entry->set = set;
			   __entry->cgroup = cgroup;
			   __entry->n = n;
			   __entry->min = min;
			   __entry->max = max;
			   __entry->error = error;),
	    TP_printk("set=%llu cgroup=%llu n=%u range=[%u,%u] error=%d",
		      __entry->set, __entry->cgroup, __entry->n, __entry->min,
		      __entry->max, __entry->error)
);

DECLARE_EVENT_CLASS(ioasid_bond,
		    TP_PROTO(u64 set, u64 cgroup, const char *device, u32 id,
			     int error),
		    TP_ARGS(set, cgroup, device, id, error),
		    TP_STRUCT__entry(__field(u64, set)
				     __field(u64, cgroup)
				     __string(device, device)
				     __field(u32, id)
				     __field(int, error)),
		    TP_fast_assign(__entry->set = set;
				   __entry->cgroup = cgroup;
				   __assign_str(device);
				   __entry->id = id;
				   __entry->error = error;),
		    TP_printk("set=%llu cgroup=%llu device=%s id=%u error=%d",
			      __entry->set, __entry->cgroup, __get_str(device),
			      __entry->id, __entry->error)
);

/* An ID programmed into a device's PASID table, or the error. */
DEFINE_EVENT(ioasid_bond, ioasid_bind,
	     TP_PROTO(u64 set, u64 cgroup, const char *device, u32 id,
		      int error),
	     TP_ARGS(set, cgroup, device, id, error)
);

/* An ID cleared from a device's PASID table, or the error. */
DEFINE_EVENT(ioasid_bond, ioasid_unbind,
	     TP_PROTO(u64 set, u64 cgroup, const char *device, u32 id,
		      int error),
	     TP_ARGS(set, cgroup, device, id, error)
);

#endif /* _TRACE_IOASID_H */

#include <trace/define_trace.h>

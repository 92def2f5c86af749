/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the kernel's tools/include/linux/compiler.h gives its tools. The
 * definition is the one place the attribute is spelled out: checkpatch
 * warns here as it does on include/linux/compiler_attributes.h's own.
 */
#ifndef IOASIDCTL_COMPILER_H
#define IOASIDCTL_COMPILER_H

#define __printf(a, b)	__attribute__((format(printf, a, b)))
#define __noreturn	__attribute__((__noreturn__))

#endif

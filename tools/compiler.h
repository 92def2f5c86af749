/* SPDX-License-Identifier: GPL-2.0 */
/* What the kernel's tools/include/linux/compiler.h gives its tools. */
#ifndef IOASIDCTL_COMPILER_H
#define IOASIDCTL_COMPILER_H

#define __printf(a, b)	__attribute__((format(printf, a, b)))

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fixture roots: trees kept as data under tests/data/roots/ (files, modes
 * and symlinks as they are in git), and machines made from the IOMMU
 * listings. A test declares the root it runs on with AV_TEST_ROOTFS(), or
 * lays several over one another with tu_root_add().
 */
#ifndef AV_TESTROOT_H
#define AV_TESTROOT_H

/*
 * Copy tests/data/roots/@name into @dir (made when missing), over what is
 * there: directories, files with their modes, symlinks unresolved.
 */
void tu_root_add(const char *dir, const char *name);

/* The copy of the root the running test declares, made on first use. */
const char *tu_rootfs(void);

/*
 * A fresh root holding the sysfs tree of the IOMMU listing @listing (a path
 * under tests/data), with the fixture roots named after it laid over it in
 * order (NULL ends the list).
 */
__attribute__((sentinel)) char *tu_machine(const char *listing, ...);

#endif

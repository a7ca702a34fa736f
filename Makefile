# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of the Rust ip_vs_mh scheduler module.
#
#   make [KDIR=/path/to/kernel/build] [CONFIG_IP_VS_MH_RS_TAB_INDEX=8..17]
#   make install        # into /lib/modules/<release>/updates, then depmod
#   make clippy         # build with the kernel's Rust lints (CLIPPY=1)
#   make clean

KDIR ?= /lib/modules/$(shell uname -r)/build
# The kernel's Rust toolchain: the rustc that built KDIR (Debian's rustc-web).
RUSTC ?= /usr/bin/rustc
CLIPPY_DRIVER ?= $(dir $(RUSTC))clippy-driver
# bindgen: from PATH, else where scripts/bootstrap.sh installs it.
BINDGEN ?= $(or $(shell command -v bindgen),$(HOME)/.cache/ip-vs-mh-rs/tools/bin/bindgen)
export LIBCLANG_PATH ?= $(wildcard /usr/lib/llvm-19/lib)
# A clang-built kernel needs the same LLVM for its modules.
KBUILD_LLVM := $(shell grep -q '^CONFIG_CC_IS_CLANG=y' $(KDIR)/.config 2>/dev/null && echo LLVM=-19)
MAKE_KERNEL = $(MAKE) -C $(KDIR) M=$(CURDIR) RUSTC=$(RUSTC) BINDGEN=$(BINDGEN) $(KBUILD_LLVM)

all: modules

modules:
	$(MAKE_KERNEL) modules

clippy:
	$(MAKE_KERNEL) CLIPPY=1 CLIPPY_DRIVER=$(CLIPPY_DRIVER) modules

# modprobe prefers updates/ over the in-tree kernel/ directory.
install: modules
	$(MAKE_KERNEL) INSTALL_MOD_DIR=updates modules_install

# Only this module's products: kbuild's own clean would sweep every *.o
# below the tree, userspace-tests/target included.
clean:
	rm -f ip_vs_mh.ko ip_vs_mh.o ip_vs_mh.mod ip_vs_mh.mod.c ip_vs_mh.mod.o \
		.module-common.o Module.symvers modules.order src/*.o \
		src/ipvs/bindings_generated.rs src/build_config_generated.rs
	find . -path ./userspace-tests -prune -o -name '.*.cmd' -print -o -name '.*.d' -print | xargs rm -f

.PHONY: all modules clippy install clean

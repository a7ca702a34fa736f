# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of the Rust ip_vs_mh scheduler module.
#
#   make [KDIR=/path/to/kernel/build] [CONFIG_IP_VS_MH_RS_TAB_INDEX=8..17]
#   make install        # into /lib/modules/<release>/updates, then depmod
#                       # MODULE_SIGN_KEY=key.pem MODULE_SIGN_CERT=cert.der: signed
#   make debian-install # Debian's own kernel: Rust metadata for its headers
#                       # (scripts/debian-metadata.sh), then install
#   make clippy         # build with the kernel's Rust lints (CLIPPY=1)
#   make IP_VS_MH_RS_KUNIT=y  # a test build with the core's KUnit suite
#   make clean

KDIR ?= /lib/modules/$(shell uname -r)/build
# The kernel's Rust toolchain: the rustc that built KDIR (Debian's rustc-web).
RUSTC ?= /usr/bin/rustc
CLIPPY_DRIVER ?= $(dir $(RUSTC))clippy-driver
# bindgen: from PATH, else where scripts/bootstrap.sh installs it.
BINDGEN ?= $(or $(shell command -v bindgen),$(HOME)/.cache/ip-vs-mh-rs/tools/bin/bindgen)
# Its libclang: LLVM 19's where it is installed (the bookworm build host's
# bindgen-cli), else whatever the system's bindgen finds by itself (an empty
# LIBCLANG_PATH would hide it: sid's bindgen uses LLVM 21).
ifneq ($(wildcard /usr/lib/llvm-19/lib),)
export LIBCLANG_PATH ?= /usr/lib/llvm-19/lib
endif
# A clang-built kernel needs the same LLVM for its modules.
KBUILD_LLVM := $(shell grep -q '^CONFIG_CC_IS_CLANG=y' $(KDIR)/.config 2>/dev/null && echo LLVM=-19)
MAKE_KERNEL = $(MAKE) -C $(KDIR) M=$(CURDIR) RUSTC=$(RUSTC) BINDGEN=$(BINDGEN) $(KBUILD_LLVM)

all: modules

modules:
	$(MAKE_KERNEL) modules

clippy:
	$(MAKE_KERNEL) CLIPPY=1 CLIPPY_DRIVER=$(CLIPPY_DRIVER) modules

# modprobe prefers updates/ over the in-tree kernel/ directory. Signing is
# ours, with the operator's key, not kbuild's attempt with the kernel's own
# (which Debian's headers do not ship).
KERNELRELEASE_OF_KDIR = $(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null)
# Installed uncompressed (so that it can be signed afterwards); kbuild skips
# depmod without a System.map, which Debian's headers lack.
install: modules
	$(MAKE_KERNEL) INSTALL_MOD_DIR=updates CONFIG_MODULE_SIG_ALL= \
		CONFIG_MODULE_COMPRESS_ALL= modules_install
ifneq ($(MODULE_SIGN_KEY),)
	$(CURDIR)/scripts/sign-module.sh $(MODULE_SIGN_KEY) $(MODULE_SIGN_CERT) \
		$(INSTALL_MOD_PATH)/lib/modules/$(KERNELRELEASE_OF_KDIR)/updates/ip_vs_mh.ko $(KDIR)
endif
	depmod $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) $(KERNELRELEASE_OF_KDIR)

debian-install:
	$(CURDIR)/scripts/debian-metadata.sh $(KDIR)
	$(MAKE) install

# Only this module's products: kbuild's own clean would sweep every *.o
# below the tree, userspace-tests/target included.
clean:
	rm -f ip_vs_mh.ko ip_vs_mh.o ip_vs_mh.mod ip_vs_mh.mod.c ip_vs_mh.mod.o \
		.module-common.o Module.symvers modules.order src/*.o \
		src/ipvs/bindings_generated.rs src/build_config_generated.rs .module-build.log
	find . -path ./userspace-tests -prune -o -name '.*.cmd' -print -o -name '.*.d' -print | xargs rm -f

.PHONY: all modules clippy install debian-install clean

#!/usr/bin/env bash
# Builds the sample VNF package from Debian packages into samples/build/:
#   vmlinuz              the Debian cloud kernel (apt-get download + dpkg-deb -x)
#   sample-rootfs.qcow2  the VDU image: an ext4 root file system with busybox
#   sample-vnf/          the package tree; sample-vnf.zip, the CSAR
# Needs (Debian 12, as .ci/run installs): busybox-static, e2fsprogs,
# qemu-utils, zip, coreutils, apt and dpkg.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/sample-vnf"
# SAMPLES_OUT puts the build elsewhere (the tests of this script use it).
out="${SAMPLES_OUT:-$here/build}"
work="$out/work"

need() { command -v "$1" >/dev/null 2>&1 || { echo "samples: $1 is missing: apt-get install $2" >&2; exit 1; }; }
need busybox busybox-static
need mke2fs e2fsprogs
need qemu-img qemu-utils
need zip zip
need sha512sum coreutils
need od coreutils

# elf_interpreter FILE succeeds when FILE is a 64-bit little-endian ELF
# with a PT_INTERP program header, i.e. it needs the dynamic loader and a
# libc at run time. Read with od so that no binutils are needed.
elf_interpreter() {
  local f="$1" phoff phentsize phnum i type
  [ "$(od -An -tx1 -N5 "$f" | tr -d ' \n')" = "7f454c4602" ] || return 1
  phoff=$(od -An -tu8 -j32 -N8 "$f" | tr -d ' ')
  phentsize=$(od -An -tu2 -j54 -N2 "$f" | tr -d ' ')
  phnum=$(od -An -tu2 -j56 -N2 "$f" | tr -d ' ')
  for ((i = 0; i < phnum; i++)); do
    type=$(od -An -tu4 -j$((phoff + i * phentsize)) -N4 "$f" | tr -d ' ')
    [ "$type" = 3 ] && return 0 # PT_INTERP
  done
  return 1
}

# The guest's root file system has no libc: a dynamically linked busybox
# (Debian's "busybox" package) cannot run there and the kernel panics with
# "No working init found". Only busybox-static will do.
busybox="$(command -v busybox)"
if [ "$(od -An -tx1 -N5 "$busybox" | tr -d ' \n')$(od -An -tu2 -j18 -N2 "$busybox" | tr -d ' ')" != "7f454c460262" ]; then
  echo "samples: $busybox is not an x86-64 ELF program: apt-get install busybox-static" >&2
  exit 1
fi
if elf_interpreter "$busybox"; then
  echo "samples: $busybox is dynamically linked (Debian's busybox package); the guest has no libc," >&2
  echo "samples: so its kernel would panic with \"No working init found\": apt-get install busybox-static (it replaces busybox)" >&2
  exit 1
fi

rm -rf "$work" "$out/sample-vnf" "$out/sample-vnf.zip"
mkdir -p "$work" "$out"

# The kernel: the package linux-image-cloud-amd64 depends on, unpacked.
if [ ! -s "$out/vmlinuz" ]; then
  kpkg="$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends:/{print $2; exit}')"
  [ -n "$kpkg" ] || { echo "samples: no linux-image-cloud-amd64 in the apt lists (run apt-get update)" >&2; exit 1; }
  (cd "$work" && apt-get download "$kpkg")
  dpkg-deb -x "$work"/"$kpkg"_*.deb "$work/kernel"
  cp "$work"/kernel/boot/vmlinuz-* "$out/vmlinuz.tmp"
  mkdir -p "$out/modules"
  find "$work/kernel/lib/modules" \( -name button.ko -o -name evdev.ko \) -exec cp {} "$out/modules/" \;
  mv "$out/vmlinuz.tmp" "$out/vmlinuz"
fi

# The root file system: busybox, /sbin/init, the power-button handling.
root="$work/rootfs"
mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,lib/modules,etc/acpi/PWRF}
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
install -m 0755 "$src/rootfs/init" "$root/sbin/init"
install -m 0755 "$src/rootfs/power-button" "$root/etc/acpi/PWRF/00000080"
cp "$out"/modules/*.ko "$root/lib/modules/" 2>/dev/null || true
size_mb=16
# -d fills the file system from a directory without mounting anything;
# -E root_owner: files owned by root whoever builds. The UUID and hash seed
# are fixed, but file times still differ, so each build has its own checksum
# (computed below into the VNFD).
export E2FSPROGS_FAKE_TIME=1700000000
mke2fs -q -F -t ext4 -L vnfroot -U 6b1d6a4e-3c0e-4b7a-9a52-5f0d1e0c0a01 \
  -E root_owner=0:0,hash_seed=6b1d6a4e-3c0e-4b7a-9a52-5f0d1e0c0a02 \
  -d "$root" "$work/rootfs.raw" "${size_mb}M"
qemu-img convert -f raw -O qcow2 "$work/rootfs.raw" "$out/sample-rootfs.qcow2"

# The package tree.
pkg="$out/sample-vnf"
mkdir -p "$pkg/TOSCA-Metadata" "$pkg/Definitions" "$pkg/Files/images" "$pkg/Files/kernel"
cp "$src/TOSCA.meta" "$pkg/TOSCA-Metadata/TOSCA.meta"
cp "$src/ChangeLog.txt" "$pkg/ChangeLog.txt"
cp "$out/sample-rootfs.qcow2" "$pkg/Files/images/sample-rootfs.qcow2"
cp "$out/vmlinuz" "$pkg/Files/kernel/vmlinuz"
img_sha512="$(sha512sum "$out/sample-rootfs.qcow2" | cut -d' ' -f1)"
img_size="$(stat -c %s "$out/sample-rootfs.qcow2")"
sed -e "s/@IMAGE_SHA512@/$img_sha512/" -e "s/@IMAGE_SIZE@/$img_size/" \
    -e "s/@MIN_DISK@/$size_mb/g" -e "s/@DESCRIPTOR_ID@/b1f5e1c2-5d3a-4a0e-9a7b-6a2f3c4d5e60/g" \
    "$src/Definitions/sample_vnf.yaml.in" > "$pkg/Definitions/sample_vnf.yaml"

# The manifest: SOL 004 metadata, then a SHA-256 for every other file.
{
  printf 'metadata:\nvnf_provider_id: vnfpkgm\nvnf_product_name: Sample VNF\nvnf_release_date_time: 2026-01-01T00:00:00+00:00\nvnf_package_version: 1.0\n'
  (cd "$pkg" && find . -type f ! -name sample_vnf.mf | sed 's|^\./||' | LC_ALL=C sort) | while read -r f; do
    printf '\nSource: %s\nAlgorithm: SHA-256\nHash: %s\n' "$f" "$(sha256sum "$pkg/$f" | cut -d' ' -f1)"
  done
} > "$pkg/sample_vnf.mf"

(cd "$pkg" && zip -q -X -r "$out/sample-vnf.zip" TOSCA-Metadata Definitions Files ChangeLog.txt sample_vnf.mf)
# What the tests read: the image's declared checksum.
printf '%s\n' "$img_sha512" > "$out/sample-rootfs.qcow2.sha512"
rm -rf "$work"
echo "samples: built $out/sample-vnf.zip (image $img_size bytes, sha512 ${img_sha512:0:16}...)"

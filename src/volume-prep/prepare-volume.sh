#!/bin/bash
# pairkeeper-prepare: make a pair's EBS volume usable on the instance it was just
# attached to. pairkeeper sends this script through SSM (AWS-RunShellScript) after
# AttachVolume. It proves which block device is the volume, creates a filesystem
# only if the volume may be formatted and is provably blank, mounts it, records it
# in fstab and runs the service's start command. Safe to run again at any point: on
# a prepared volume it changes nothing and exits 0.
#
# Bash, not sh (sh is dash on Ubuntu). AWS-RunShellScript writes the commands it is
# sent to a file and runs that file, so this shebang must stay their first line.
# Runs as root (SSM's default). Uses blkid, wipefs, flock, blockdev, mount
# (util-linux), cmp (diffutils), mkfs.ext4 or mkfs.xfs; without blkid, wipefs or cmp
# it stops with 12.
#
# Never destroy data (DESIGN.md, invariant 3). In this order, and every refusal
# before the first change:
# 1. Identity. The device must be proven to be VOLUME_ID: on Nitro by its NVMe
#    serial (/sys/block/*/device/serial, which EBS sets to the volume id without its
#    hyphen, or udev's by-id link made from it); on Xen by the virtual device number
#    the hypervisor gave the attachment's name (/sys/block/*/device/nodename is
#    device/vbd/<number of DEVICE>). A name alone (/dev/sdf, /dev/xvdf) proves
#    nothing: exit 17, nothing read or changed.
# 2. An FS_TYPE filesystem at byte 0 is mounted as it is. Anything else blkid names
#    at byte 0 (partition table, LUKS, LVM, md, swap, another filesystem) refuses.
# 3. Nothing at byte 0: with MAY_FORMAT=0 (pairkeeper knows the volume was created
#    from a snapshot or was prepared before) it is never formatted, exit 18. With
#    MAY_FORMAT=1 it is formatted only when blkid finds nothing at the usual
#    partition offsets, wipefs finds no signature anywhere, and these read back as
#    zeros: the first 16 MiB (partitions, LVM and RAID metadata start there), the
#    last MiB (backup GPT, md 0.90/1.0), and SAMPLE_READS blocks spread over the
#    whole device. Anything else, or any failure to find out, refuses.
#
# Input, from the environment:
#   VOLUME_ID      vol-0123456789abcdef0; required.
#   DEVICE         the attachment's device name, e.g. /dev/sdf; required.
#   MAY_FORMAT     1 or 0; required. 0: never format, whatever the device shows.
#   MOUNT_POINT    e.g. /var/lib/zookeeper; required. Matches PATH_PATTERN below,
#                  the same pattern as the config schema's (a test keeps them equal).
#   FS_TYPE        ext4 (default) or xfs: what a blank volume gets, and what an
#                  existing filesystem must be.
#   FS_LABEL       label for a new filesystem; optional (ext4: 16 chars, xfs: 12).
#   MOUNT_OPTIONS  default defaults,nofail. nofail is added when missing, so that a
#                  volume gone elsewhere never stops this instance from booting.
#   AFTER_COMMAND  run with `bash -c` after every successful run, e.g.
#                  `systemctl start zookeeper`; so it must be idempotent. Optional.
#   DEVICE_WAIT_SECONDS  how long to wait for the device to appear; default 60.
# Test hooks (leave unset in production):
#   SYS_BLOCK_DIR  default /sys/block: where serials and Xen node names are read
#   DEV_DIR        default /dev: where a block device named in SYS_BLOCK_DIR is
#   BY_ID_DIR      default /dev/disk/by-id
#   FSTAB          default /etc/fstab
#   DRY_MOUNT=1    do everything but mount(8): print the mount it would do instead,
#                  and accept a regular file (an image) as the device.
#
# Output: one line per step, `pairkeeper-prepare: vol-…: …`; failures on stderr.
#
# Exit codes:
#   0   ready: prepared now, or already
#   10  bad input: a variable is missing or malformed
#   11  not found: no device proven to be VOLUME_ID, and nothing at DEVICE, its
#       xvd/sd alias or the by-id link, within DEVICE_WAIT_SECONDS
#   12  detection failed: could not tell whether the device holds data; nothing changed
#   13  refused: the device holds something other than a blank volume or an
#       FS_TYPE filesystem (a signature anywhere, or a non-zero byte where it was
#       read), or the mount point or fstab belongs to something else; nothing changed
#   14  format failed (mkfs on a blank device)
#   15  mount failed, or fstab could not be updated
#   16  AFTER_COMMAND failed
#   17  identity not proven: a device is there, but nothing proves it is VOLUME_ID,
#       or its serial is another volume's, or two devices claim to be it; nothing
#       read or changed
#   18  may not format: no FS_TYPE filesystem on the device, and MAY_FORMAT=0; nothing
#       changed

set -u -o pipefail

readonly EXIT_BAD_INPUT=10 EXIT_NOT_FOUND=11 EXIT_DETECTION_FAILED=12 EXIT_REFUSED=13
readonly EXIT_FORMAT_FAILED=14 EXIT_MOUNT_FAILED=15 EXIT_AFTER_COMMAND_FAILED=16
readonly EXIT_NOT_PROVEN=17 EXIT_MAY_NOT_FORMAT=18
readonly MiB=$((1024 * 1024))
# Partitions (1 MiB and its multiples since 2010, 63 sectors before), LVM and md
# metadata all start within the first 16 MiB; backup GPT and md 0.90/1.0 sit at the end.
readonly HEAD_BYTES=$((16 * MiB)) TAIL_BYTES=$MiB
readonly -a PARTITION_OFFSETS=(32256 65536 "$MiB" $((2 * MiB)) $((4 * MiB)) $((8 * MiB)) $((16 * MiB)))
# Data in the middle of a disk whose ends were wiped: a few hundred reads, seconds.
readonly SAMPLE_READS=256 SAMPLE_BYTES=4096
# Paths we accept: absolute, no spaces, no shell or fstab metacharacters, no . or ..
# components. The config schema's MOUNT_POINT_PATTERN is this same string.
readonly PATH_PATTERN='^(/\.*[A-Za-z0-9_@+:=,-][A-Za-z0-9._@+:=,-]*)+$'

say() { printf 'pairkeeper-prepare: %s%s\n' "${VOLUME_ID:+$VOLUME_ID: }" "$*"; }
fail() {
  local code=$1
  shift
  say "$*" >&2
  exit "$code"
}
oneline() { local text=${1//$'\n'/; }; printf '%s' "${text%; }"; }

read_inputs() {
  VOLUME_ID=${VOLUME_ID:-}
  DEVICE=${DEVICE:-}
  MAY_FORMAT=${MAY_FORMAT:-}
  MOUNT_POINT=${MOUNT_POINT:-}
  FS_TYPE=${FS_TYPE:-ext4}
  FS_LABEL=${FS_LABEL:-}
  MOUNT_OPTIONS=${MOUNT_OPTIONS:-defaults,nofail}
  AFTER_COMMAND=${AFTER_COMMAND:-}
  DEVICE_WAIT_SECONDS=${DEVICE_WAIT_SECONDS:-60}
  SYS_BLOCK_DIR=${SYS_BLOCK_DIR:-/sys/block}
  DEV_DIR=${DEV_DIR:-/dev}
  BY_ID_DIR=${BY_ID_DIR:-/dev/disk/by-id}
  FSTAB=${FSTAB:-/etc/fstab}
  DRY_MOUNT=${DRY_MOUNT:-}

  [[ $VOLUME_ID =~ ^vol-[0-9a-f]{8,17}$ ]] ||
    fail $EXIT_BAD_INPUT "VOLUME_ID must look like vol-0123456789abcdef0, got '$VOLUME_ID'"
  [[ $DEVICE =~ $PATH_PATTERN ]] ||
    fail $EXIT_BAD_INPUT "DEVICE must be an absolute path such as /dev/sdf, got '$DEVICE'"
  [[ $MAY_FORMAT == [01] ]] ||
    fail $EXIT_BAD_INPUT "MAY_FORMAT must be 1 (the volume may be formatted if blank) or 0 (never), got '$MAY_FORMAT'"
  while [[ $MOUNT_POINT == */ && $MOUNT_POINT != / ]]; do MOUNT_POINT=${MOUNT_POINT%/}; done
  [[ $MOUNT_POINT =~ $PATH_PATTERN ]] ||
    fail $EXIT_BAD_INPUT "MOUNT_POINT must be an absolute path other than /, without spaces, shell metacharacters, . or .., got '$MOUNT_POINT'"
  local max_label
  case $FS_TYPE in
    ext4) max_label=16 ;;
    xfs) max_label=12 ;;
    *) fail $EXIT_BAD_INPUT "FS_TYPE must be ext4 or xfs, got '$FS_TYPE'" ;;
  esac
  [[ $FS_LABEL =~ ^[A-Za-z0-9._-]*$ && ${#FS_LABEL} -le $max_label ]] ||
    fail $EXIT_BAD_INPUT "FS_LABEL must be at most $max_label letters, digits, '.', '_' or '-' for $FS_TYPE, got '$FS_LABEL'"
  [[ $MOUNT_OPTIONS =~ ^[A-Za-z0-9._=,:/+-]+$ ]] ||
    fail $EXIT_BAD_INPUT "MOUNT_OPTIONS must be a comma-separated list without spaces, got '$MOUNT_OPTIONS'"
  [[ ,$MOUNT_OPTIONS, == *,nofail,* ]] || MOUNT_OPTIONS+=,nofail
  SERIAL=${VOLUME_ID/-/}
  XEN_NODES=$(xen_nodes_of "$DEVICE")
  [[ $DEVICE_WAIT_SECONDS =~ ^[0-9]+$ ]] ||
    fail $EXIT_BAD_INPUT "DEVICE_WAIT_SECONDS must be a whole number of seconds, got '$DEVICE_WAIT_SECONDS'"
  [[ -z $DRY_MOUNT || $DRY_MOUNT == 1 ]] || fail $EXIT_BAD_INPUT "DRY_MOUNT must be 1 or unset, got '$DRY_MOUNT'"
}

# Sets DEV to the block device proven to be VOLUME_ID, waiting for it to appear.
find_device() {
  local deadline=$((SECONDS + DEVICE_WAIT_SECONDS))
  until identify; do
    ((SECONDS < deadline)) || break
    sleep 1
  done
  [[ -z $DEV ]] || return 0
  [[ -z $UNPROVEN ]] || fail $EXIT_NOT_PROVEN "$UNPROVEN; left untouched"
  fail $EXIT_NOT_FOUND "no device proven to be $VOLUME_ID after ${DEVICE_WAIT_SECONDS}s; looked for NVMe serial $SERIAL and Xen ${XEN_NODES:-(none for $DEVICE)} under $SYS_BLOCK_DIR, and at $(candidates_text)"
}

# What the kernel says a block device is, from SYS_BLOCK_DIR/<name>/device: its NVMe
# serial (EBS pads it with spaces), or its Xen node. Sets ID_KIND (serial, xen or '')
# and ID_VALUE.
identity_of() {
  local dir=$SYS_BLOCK_DIR/$1/device
  ID_KIND='' ID_VALUE=''
  if [[ -r $dir/serial ]]; then
    ID_KIND=serial
    ID_VALUE=$(tr -d '[:space:]' <"$dir/serial")
  elif [[ -r $dir/nodename ]]; then
    ID_KIND=xen
    ID_VALUE=$(tr -d '[:space:]' <"$dir/nodename")
  fi
}

# The names that are not proof but may hold the device: udev's link from the NVMe
# serial (its target's own serial is still checked when the kernel shows one), the
# attachment's name, and its Xen alias (sdf is xvdf).
candidates() {
  local dir=${DEVICE%/*} name=${DEVICE##*/}
  CANDIDATES=("$BY_ID_DIR/nvme-Amazon_Elastic_Block_Store_$SERIAL" "$DEVICE")
  case $name in
    sd*) CANDIDATES+=("$dir/xvd${name#sd}") ;;
    xvd*) CANDIDATES+=("$dir/sd${name#xvd}") ;;
  esac
}
candidates_text() { candidates && printf '%s' "${CANDIDATES[*]}"; }

# A regular file under /dev is someone's write to a missing device, not our volume:
# only a dry run (tests, on images) takes one.
is_device() { [[ -b $1 ]] || [[ $DRY_MOUNT == 1 && -f $1 ]]; }

# One look. Sets DEV and returns 0 when exactly one device is proven to be VOLUME_ID;
# otherwise returns 1 with UNPROVEN saying what is there but not proven (or '').
identify() {
  local proven=() entry name candidate real
  DEV='' UNPROVEN=''
  # Every disk the kernel shows whose serial (Nitro) or Xen node is this volume's.
  for entry in "$SYS_BLOCK_DIR"/*/; do
    name=${entry%/}
    name=${name##*/}
    identity_of "$name"
    if names_volume && is_device "$DEV_DIR/$name"; then proven+=("$DEV_DIR/$name"); fi
  done
  candidates
  for candidate in "${CANDIDATES[@]}"; do
    is_device "$candidate" || continue
    real=$(readlink -f -- "$candidate")
    identity_of "${real##*/}"
    if names_volume; then
      proven+=("$real")
    elif [[ $ID_KIND == serial ]]; then
      UNPROVEN="$candidate ($real) is not $VOLUME_ID: its NVMe serial is $ID_VALUE, not $SERIAL"
    elif [[ $ID_KIND == xen ]]; then
      UNPROVEN="$candidate ($real) is not $VOLUME_ID: it is Xen $ID_VALUE, not ${XEN_NODES:-a Xen name for $DEVICE}"
    elif [[ $candidate == "$BY_ID_DIR"/* ]]; then
      # The kernel shows nothing for it: udev's link, named from the serial, is the proof.
      proven+=("$real")
    else
      UNPROVEN="$candidate ($real) is there, but neither an NVMe serial nor a Xen node proves it is $VOLUME_ID"
    fi
  done
  local unique
  unique=$(printf '%s\n' "${proven[@]}" | sort -u)
  [[ -n $unique ]] || return 1
  [[ $unique != *$'\n'* ]] ||
    fail $EXIT_NOT_PROVEN "more than one device claims to be $VOLUME_ID ($(oneline "$unique")); left untouched"
  DEV=$unique
  say "found $DEV, proven to be $VOLUME_ID"
}

# The hypervisor's nodes for the attachment's name on Xen: the virtual device number
# is Linux's major << 8 | disk << 4, for the sd (8) or xvd (202) spelling of the same
# disk letter (/dev/sdf: device/vbd/2128 or device/vbd/51792), whichever name the
# kernel then gives it. Both spellings at once would be two devices: refused.
xen_nodes_of() {
  local name=${1##*/} letter
  case $name in
    sd[a-z]) letter=${name#sd} ;;
    xvd[a-z]) letter=${name#xvd} ;;
    *) return 0 ;;
  esac
  local index=$(($(printf '%d' "'$letter") - 97))
  printf 'device/vbd/%d device/vbd/%d' $(((8 << 8) | (index << 4))) $(((202 << 8) | (index << 4)))
}

# Whether identity_of's answer names VOLUME_ID.
names_volume() {
  case $ID_KIND in
    serial) [[ $ID_VALUE == "$SERIAL" ]] ;;
    xen) [[ -n $XEN_NODES && " $XEN_NODES " == *" $ID_VALUE "* ]] ;;
    *) return 1 ;;
  esac
}

# Two runs at once (an SSM retry while the first still runs) must not both see a
# blank device and both format it. fstab is the one file every run opens anyway
# and nothing else flocks; the lock is held until fstab is written.
lock() {
  exec 9>>"$FSTAB" || fail $EXIT_MOUNT_FAILED "cannot open $FSTAB"
  flock -x 9 || fail $EXIT_DETECTION_FAILED "cannot lock $FSTAB"
}
unlock() { exec 9>&-; }

# Sets FS_UUID when DEV holds an FS_TYPE filesystem, or FS_UUID='' when DEV is
# blank and may be formatted; exits when it holds anything else, when it may not be
# formatted, or when we cannot tell.
probe() {
  FS_UUID=
  command -v blkid >/dev/null ||
    fail $EXIT_DETECTION_FAILED "blkid not found: cannot tell whether $DEV holds data; left untouched"
  local out rc
  # -p reads the device itself, not blkid's cache.
  out=$(blkid -p -o export -- "$DEV" 2>&1 </dev/null)
  rc=$?
  case $rc in
    0) read_signature "$out" ;;
    # blkid says 2 both for "nothing found" and for a device it could not open or
    # read (with an error on stderr, merged into out here), and it names only the
    # formats it knows, at the offset it is given: so blank must also be seen.
    2)
      [[ -z $out ]] ||
        fail $EXIT_DETECTION_FAILED "blkid could not probe $DEV ($(oneline "$out")); left untouched"
      ((MAY_FORMAT)) ||
        fail $EXIT_MAY_NOT_FORMAT "$DEV holds no $FS_TYPE filesystem, and MAY_FORMAT=0 (created from a snapshot, or prepared before): it is never formatted; left untouched"
      check_blank
      ;;
    8) fail $EXIT_REFUSED "$DEV carries more than one signature (blkid: ambivalent); left untouched" ;;
    *) fail $EXIT_DETECTION_FAILED "blkid failed on $DEV (exit $rc${out:+: $(oneline "$out")}): cannot tell whether it holds data; left untouched" ;;
  esac
}

# Reads blkid's KEY=value lines into TYPE, PTTYPE, UUID and USAGE.
read_tags() {
  local line
  TYPE='' PTTYPE='' UUID='' USAGE=''
  while IFS= read -r line; do
    case $line in
      TYPE=*) TYPE=${line#TYPE=} ;;
      PTTYPE=*) PTTYPE=${line#PTTYPE=} ;;
      UUID=*) UUID=${line#UUID=} ;;
      USAGE=*) USAGE=${line#USAGE=} ;;
    esac
  done <<<"$1"
}

read_signature() {
  read_tags "$1"
  [[ -z $PTTYPE ]] || fail $EXIT_REFUSED "$DEV holds a partition table ($PTTYPE); left untouched"
  [[ -n $TYPE ]] || fail $EXIT_REFUSED "blkid finds something on $DEV it cannot name ($(oneline "$1")); left untouched"
  [[ $TYPE == "$FS_TYPE" ]] ||
    fail $EXIT_REFUSED "$DEV holds $TYPE${USAGE:+ ($USAGE)}, not $FS_TYPE; left untouched"
  [[ -n $UUID ]] || fail $EXIT_REFUSED "$DEV holds $TYPE without a UUID, so no fstab entry can name it; left untouched"
  FS_UUID=$UUID
}

# Returns when nothing on DEV shows it was ever used: blkid finds nothing where a
# partition would start, wipefs finds no signature, and every byte read is zero.
check_blank() {
  local tool
  for tool in wipefs cmp; do
    command -v "$tool" >/dev/null ||
      fail $EXIT_DETECTION_FAILED "$tool not found: cannot check that $DEV is blank; left untouched"
  done
  local size
  if [[ -b $DEV ]]; then size=$(blockdev --getsize64 "$DEV"); else size=$(stat -Lc %s -- "$DEV"); fi
  [[ $size =~ ^[0-9]+$ && $size -ge $SAMPLE_BYTES ]] ||
    fail $EXIT_DETECTION_FAILED "cannot read the size of $DEV; left untouched"

  # A partition whose table was wiped (sgdisk --zap-all) still holds its filesystem.
  local offset out rc
  for offset in "${PARTITION_OFFSETS[@]}"; do
    ((offset < size)) || continue
    out=$(blkid -p -O "$offset" -o export -- "$DEV" 2>&1 </dev/null)
    rc=$?
    case $rc in
      0)
        read_tags "$out"
        fail $EXIT_REFUSED "$DEV is not blank: blkid finds ${TYPE:-a partition table ($PTTYPE)} at offset $offset (a partition whose table was wiped?); left untouched"
        ;;
      2) [[ -z $out ]] || fail $EXIT_DETECTION_FAILED "blkid could not probe $DEV at offset $offset ($(oneline "$out")); left untouched" ;;
      *) fail $EXIT_DETECTION_FAILED "blkid failed on $DEV at offset $offset (exit $rc): cannot tell whether it holds data; left untouched" ;;
    esac
  done
  out=$(wipefs --no-act --noheadings --output OFFSET,TYPE -- "$DEV" 2>&1 </dev/null) ||
    fail $EXIT_DETECTION_FAILED "wipefs failed on $DEV ($(oneline "$out")): cannot tell whether it holds data; left untouched"
  [[ -z $out ]] || fail $EXIT_REFUSED "$DEV is not blank: wipefs finds $(oneline "$out"); left untouched"

  zeros_at 0 $((size < HEAD_BYTES ? size : HEAD_BYTES))
  zeros_at $((size < TAIL_BYTES ? 0 : size - TAIL_BYTES)) $((size < TAIL_BYTES ? size : TAIL_BYTES))
  local i
  for ((i = 0; i < SAMPLE_READS; i++)); do
    offset=$(((size - SAMPLE_BYTES) * i / (SAMPLE_READS - 1) / SAMPLE_BYTES * SAMPLE_BYTES))
    zeros_at "$offset" "$SAMPLE_BYTES"
  done
}

# Returns when $2 bytes of DEV from offset $1 are all zeros.
zeros_at() {
  # cmp: 0 same, 1 differs, 2 trouble (cannot read).
  cmp -s -n "$2" -i "$1:0" -- "$DEV" /dev/zero
  case $? in
    0) ;;
    1) fail $EXIT_REFUSED "$DEV is not blank: bytes at $1..$(($1 + $2)) are not all zeros; left untouched" ;;
    *) fail $EXIT_DETECTION_FAILED "cannot read $DEV at $1 to check that it is blank; left untouched" ;;
  esac
}

# major:minor of what is mounted at $1 (the topmost mount), from mountinfo.
mounted_at() { awk -v mp="$1" '$5 == mp { dev = $3 } END { print dev }' /proc/self/mountinfo; }
# Mount points of the device major:minor $1.
mounts_of() { awk -v dev="$1" '$3 == dev { print $5 }' /proc/self/mountinfo; }
majmin() {
  local major minor
  read -r major minor < <(stat -Lc '%t %T' -- "$1") && printf '%d:%d' "0x$major" "0x$minor"
}

# Sets MOUNTED=1 when DEV is already mounted at MOUNT_POINT; refuses a mount point
# that is not a directory or holds another filesystem, and a DEV mounted elsewhere.
check_mount_point() {
  MOUNTED=0
  [[ ! -e $MOUNT_POINT || -d $MOUNT_POINT ]] || fail $EXIT_REFUSED "$MOUNT_POINT exists and is not a directory"
  # mountinfo has paths with symlinks resolved, as mount(8) resolves its target.
  local real_mount_point here ours=''
  real_mount_point=$(readlink -m -- "$MOUNT_POINT")
  here=$(mounted_at "$real_mount_point")
  [[ -b $DEV ]] && ours=$(majmin "$DEV")
  if [[ -n $here ]]; then
    [[ -n $ours && $here == "$ours" ]] ||
      fail $EXIT_REFUSED "$MOUNT_POINT already has another filesystem mounted (device $here); left alone"
    MOUNTED=1
  elif [[ -n $ours ]]; then
    local elsewhere
    elsewhere=$(mounts_of "$ours")
    [[ -z $elsewhere ]] || fail $EXIT_REFUSED "$DEV is mounted at $(oneline "$elsewhere"), not at $MOUNT_POINT"
  fi
}

# Sets IN_FSTAB=1 when fstab mounts UUID $1 at MOUNT_POINT; refuses an entry that
# mounts something else there, or this filesystem somewhere else. $1 is empty for a
# blank device: then any entry for MOUNT_POINT belongs to something else.
check_fstab() {
  local uuid=${1,,} spec file rest key
  IN_FSTAB=0
  [[ -s $FSTAB ]] || return 0
  while read -r spec file rest || [[ -n $spec ]]; do
    [[ -z $spec || $spec == \#* ]] && continue
    key=${spec//\"/}
    key=${key,,}
    while [[ $file == */ && $file != / ]]; do file=${file%/}; done
    local is_ours=0
    [[ -n $uuid && ($key == "uuid=$uuid" || $key == "/dev/disk/by-uuid/$uuid") ]] && is_ours=1
    if [[ $file == "$MOUNT_POINT" ]]; then
      ((is_ours)) || fail $EXIT_REFUSED "$FSTAB already mounts $spec at $MOUNT_POINT; left alone"
      IN_FSTAB=1
    elif ((is_ours)); then
      fail $EXIT_REFUSED "$FSTAB already mounts UUID=$uuid at $file, not at $MOUNT_POINT; left alone"
    fi
  done <"$FSTAB"
}

format() {
  command -v "mkfs.$FS_TYPE" >/dev/null || fail $EXIT_FORMAT_FAILED "mkfs.$FS_TYPE not found"
  local args=(-q) out
  [[ -n $FS_LABEL ]] && args+=(-L "$FS_LABEL")
  say "$DEV is blank: creating $FS_TYPE${FS_LABEL:+ labelled $FS_LABEL}"
  # No -f/-F: mkfs's own checks (mounted device, existing signature) stay on.
  out=$("mkfs.$FS_TYPE" "${args[@]}" -- "$DEV" 2>&1 </dev/null) ||
    fail $EXIT_FORMAT_FAILED "mkfs.$FS_TYPE failed on $DEV: $(oneline "$out")"
  probe
  [[ -n $FS_UUID ]] || fail $EXIT_FORMAT_FAILED "after mkfs.$FS_TYPE, blkid finds no filesystem on $DEV"
  say "created $FS_TYPE on $DEV (UUID=$FS_UUID)"
}

mount_volume() {
  if ((MOUNTED)); then
    say "$DEV is already mounted at $MOUNT_POINT"
    return
  fi
  mkdir -p -- "$MOUNT_POINT" || fail $EXIT_MOUNT_FAILED "cannot create $MOUNT_POINT"
  local entries
  entries=$(find "$MOUNT_POINT" -mindepth 1 -maxdepth 1 -print -quit 2>/dev/null)
  [[ -z $entries ]] || say "warning: $MOUNT_POINT is not empty; its files stay hidden under the volume while it is mounted"
  if [[ $DRY_MOUNT == 1 ]]; then
    say "dry run: would mount -t $FS_TYPE -o $MOUNT_OPTIONS $DEV $MOUNT_POINT"
    return
  fi
  local out
  out=$(mount -t "$FS_TYPE" -o "$MOUNT_OPTIONS" -- "$DEV" "$MOUNT_POINT" 2>&1 </dev/null) ||
    fail $EXIT_MOUNT_FAILED "mount $DEV at $MOUNT_POINT failed: $(oneline "$out")"
  say "mounted $DEV at $MOUNT_POINT"
}

add_to_fstab() {
  if ((IN_FSTAB)); then
    say "$FSTAB already mounts UUID=$FS_UUID at $MOUNT_POINT"
    return
  fi
  # fsck.xfs does nothing (xfs repairs its log at mount): pass 0 for xfs.
  local pass=2 newline=''
  [[ $FS_TYPE == xfs ]] && pass=0
  [[ -s $FSTAB && -n $(tail -c 1 -- "$FSTAB") ]] && newline=$'\n'
  printf '%s# pairkeeper %s\nUUID=%s %s %s %s 0 %s\n' "$newline" "$VOLUME_ID" \
    "$FS_UUID" "$MOUNT_POINT" "$FS_TYPE" "$MOUNT_OPTIONS" "$pass" >>"$FSTAB" ||
    fail $EXIT_MOUNT_FAILED "cannot add UUID=$FS_UUID to $FSTAB"
  say "added UUID=$FS_UUID $MOUNT_POINT to $FSTAB"
}

main() {
  read_inputs
  find_device
  lock
  probe
  # Every refusal comes before the first change.
  check_mount_point
  check_fstab "$FS_UUID"
  [[ -n $FS_UUID ]] || format
  mount_volume
  add_to_fstab
  unlock
  if [[ -n $AFTER_COMMAND ]]; then
    say "running AFTER_COMMAND"
    bash -c "$AFTER_COMMAND" </dev/null || fail $EXIT_AFTER_COMMAND_FAILED "AFTER_COMMAND failed (exit $?)"
  fi
  say "ready: $DEV ($FS_TYPE, UUID=$FS_UUID) at $MOUNT_POINT"
}

main "$@"

#!/bin/bash
# pairkeeper-prepare: make a pair's EBS volume usable on the instance it was just
# attached to. pairkeeper sends this script through SSM (AWS-RunShellScript) after
# AttachVolume. It finds the volume's block device, creates a filesystem only if
# the volume is blank, mounts it, records it in fstab and runs the service's start
# command. Safe to run again at any point: on a prepared volume it changes nothing
# and exits 0.
#
# Bash, not sh (sh is dash on Ubuntu). AWS-RunShellScript writes the commands it is
# sent to a file and runs that file, so this shebang must stay their first line.
# Runs as root (SSM's default). Uses blkid, flock, blockdev, mount (util-linux),
# cmp (diffutils), mkfs.ext4 or mkfs.xfs; without blkid or cmp it stops with 12.
#
# Never destroy data (DESIGN.md, invariant 3). A filesystem is created only when
# blkid positively finds nothing AND the first and last MiB read back as zeros, as
# they do on a new EBS volume. Anything else — a filesystem, a partition table, a
# LUKS/LVM/RAID member, bytes blkid cannot name, or any failure to find out —
# leaves the device untouched.
#
# Input, from the environment:
#   VOLUME_ID      vol-0123456789abcdef0; required. On Nitro the device is found by it.
#   DEVICE         the name given to AttachVolume, e.g. /dev/sdf; required.
#   MOUNT_POINT    e.g. /var/lib/zookeeper; required.
#   FS_TYPE        ext4 (default) or xfs: what a blank volume gets, and what an
#                  existing filesystem must be.
#   FS_LABEL       label for a new filesystem; optional (ext4: 16 chars, xfs: 12).
#   MOUNT_OPTIONS  default defaults,nofail. nofail is added when missing, so that a
#                  volume gone elsewhere never stops this instance from booting.
#   AFTER_COMMAND  run with `bash -c` after every successful run, e.g.
#                  `systemctl start zookeeper`; so it must be idempotent. Optional.
#   DEVICE_WAIT_SECONDS  how long to wait for the device to appear; default 60.
# Test hooks (leave unset in production):
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
#   11  device not found within DEVICE_WAIT_SECONDS
#   12  detection failed: could not tell whether the device holds data; nothing changed
#   13  refused: the device holds something other than a blank volume or an
#       FS_TYPE filesystem, or the mount point or fstab belongs to something else;
#       nothing changed
#   14  format failed (mkfs on a blank device)
#   15  mount failed, or fstab could not be updated
#   16  AFTER_COMMAND failed

set -u -o pipefail

readonly EXIT_BAD_INPUT=10 EXIT_NOT_FOUND=11 EXIT_DETECTION_FAILED=12 EXIT_REFUSED=13
readonly EXIT_FORMAT_FAILED=14 EXIT_MOUNT_FAILED=15 EXIT_AFTER_COMMAND_FAILED=16
# Formats keep their headers in the first MiB (ext4, xfs, btrfs, LUKS, LVM, MBR/GPT)
# or the last (backup GPT, md 0.90/1.0, ZFS's tail labels).
readonly ZERO_CHECK_BYTES=$((1024 * 1024))
# Paths we accept: absolute, no spaces or characters that fstab or mountinfo escape.
readonly PATH_PATTERN='^(/[A-Za-z0-9._@+:=,-]+)+$'

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
  MOUNT_POINT=${MOUNT_POINT:-}
  FS_TYPE=${FS_TYPE:-ext4}
  FS_LABEL=${FS_LABEL:-}
  MOUNT_OPTIONS=${MOUNT_OPTIONS:-defaults,nofail}
  AFTER_COMMAND=${AFTER_COMMAND:-}
  DEVICE_WAIT_SECONDS=${DEVICE_WAIT_SECONDS:-60}
  BY_ID_DIR=${BY_ID_DIR:-/dev/disk/by-id}
  FSTAB=${FSTAB:-/etc/fstab}
  DRY_MOUNT=${DRY_MOUNT:-}

  [[ $VOLUME_ID =~ ^vol-[0-9a-f]{8,17}$ ]] ||
    fail $EXIT_BAD_INPUT "VOLUME_ID must look like vol-0123456789abcdef0, got '$VOLUME_ID'"
  [[ $DEVICE =~ $PATH_PATTERN ]] ||
    fail $EXIT_BAD_INPUT "DEVICE must be an absolute path such as /dev/sdf, got '$DEVICE'"
  while [[ $MOUNT_POINT == */ && $MOUNT_POINT != / ]]; do MOUNT_POINT=${MOUNT_POINT%/}; done
  if ! [[ $MOUNT_POINT =~ $PATH_PATTERN ]] || [[ /$MOUNT_POINT/ == */./* || /$MOUNT_POINT/ == */../* ]]; then
    fail $EXIT_BAD_INPUT "MOUNT_POINT must be an absolute path other than /, without spaces, . or .., got '$MOUNT_POINT'"
  fi
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
  [[ $DEVICE_WAIT_SECONDS =~ ^[0-9]+$ ]] ||
    fail $EXIT_BAD_INPUT "DEVICE_WAIT_SECONDS must be a whole number of seconds, got '$DEVICE_WAIT_SECONDS'"
  [[ -z $DRY_MOUNT || $DRY_MOUNT == 1 ]] || fail $EXIT_BAD_INPUT "DRY_MOUNT must be 1 or unset, got '$DRY_MOUNT'"
}

# Sets DEV to the volume's block device, waiting for it to appear. Looked for, best
# first: on Nitro, the link udev makes from the NVMe serial, which EBS sets to the
# volume id without its hyphen (systemd's 60-persistent-storage.rules name it
# nvme-<model>_<serial>, spaces made underscores); then the requested name (Xen, or
# Nitro with amazon-ec2-utils' /dev/sdf link); then its Xen alias (sdf is xvdf).
find_device() {
  local dir=${DEVICE%/*} name=${DEVICE##*/} candidate
  local candidates=("$BY_ID_DIR/nvme-Amazon_Elastic_Block_Store_${VOLUME_ID/-/}" "$DEVICE")
  case $name in
    sd*) candidates+=("$dir/xvd${name#sd}") ;;
    xvd*) candidates+=("$dir/sd${name#xvd}") ;;
  esac
  local deadline=$((SECONDS + DEVICE_WAIT_SECONDS))
  while :; do
    for candidate in "${candidates[@]}"; do
      # A regular file under /dev is someone's write to a missing device, not our
      # volume: only a dry run (tests, on images) takes one.
      if [[ -b $candidate ]] || [[ $DRY_MOUNT == 1 && -f $candidate ]]; then
        DEV=$(readlink -f -- "$candidate")
        say "found $candidate ($DEV)"
        return
      fi
    done
    ((SECONDS < deadline)) ||
      fail $EXIT_NOT_FOUND "no block device after ${DEVICE_WAIT_SECONDS}s; looked for ${candidates[*]}"
    sleep 1
  done
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
# blank; exits when it holds anything else or when we cannot tell.
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
    # formats it knows: so blank must also be seen, as zeros.
    2)
      [[ -z $out ]] ||
        fail $EXIT_DETECTION_FAILED "blkid could not probe $DEV ($(oneline "$out")); left untouched"
      check_zeros
      ;;
    8) fail $EXIT_REFUSED "$DEV carries more than one signature (blkid: ambivalent); left untouched" ;;
    *) fail $EXIT_DETECTION_FAILED "blkid failed on $DEV (exit $rc${out:+: $(oneline "$out")}): cannot tell whether it holds data; left untouched" ;;
  esac
}

read_signature() {
  local line type='' pttype='' uuid='' usage=''
  while IFS= read -r line; do
    case $line in
      TYPE=*) type=${line#TYPE=} ;;
      PTTYPE=*) pttype=${line#PTTYPE=} ;;
      UUID=*) uuid=${line#UUID=} ;;
      USAGE=*) usage=${line#USAGE=} ;;
    esac
  done <<<"$1"
  [[ -z $pttype ]] || fail $EXIT_REFUSED "$DEV holds a partition table ($pttype); left untouched"
  [[ -n $type ]] || fail $EXIT_REFUSED "blkid finds something on $DEV it cannot name ($(oneline "$1")); left untouched"
  [[ $type == "$FS_TYPE" ]] ||
    fail $EXIT_REFUSED "$DEV holds $type${usage:+ ($usage)}, not $FS_TYPE; left untouched"
  [[ -n $uuid ]] || fail $EXIT_REFUSED "$DEV holds $type without a UUID, so no fstab entry can name it; left untouched"
  FS_UUID=$uuid
}

# Returns when the first and last ZERO_CHECK_BYTES of DEV are all zeros.
check_zeros() {
  command -v cmp >/dev/null ||
    fail $EXIT_DETECTION_FAILED "cmp (diffutils) not found: cannot check that $DEV is blank; left untouched"
  local size
  if [[ -b $DEV ]]; then size=$(blockdev --getsize64 "$DEV"); else size=$(stat -Lc %s -- "$DEV"); fi
  [[ $size =~ ^[0-9]+$ && $size -gt 0 ]] ||
    fail $EXIT_DETECTION_FAILED "cannot read the size of $DEV; left untouched"
  local length=$((size < ZERO_CHECK_BYTES ? size : ZERO_CHECK_BYTES)) offset
  for offset in 0 $((size - length)); do
    # cmp: 0 same, 1 differs (or ends early), 2 trouble (cannot read).
    cmp -s -n "$length" -i "$offset:0" -- "$DEV" /dev/zero
    case $? in
      0) ;;
      1) fail $EXIT_REFUSED "$DEV is not blank: blkid names no format, but bytes $offset..$((offset + length)) are not all zeros; left untouched" ;;
      *) fail $EXIT_DETECTION_FAILED "cannot read $DEV to check that it is blank; left untouched" ;;
    esac
  done
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

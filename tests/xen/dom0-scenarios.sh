#!/bin/bash
# tests/xen/dom0-scenarios.sh: the scenarios, in dom0 (/rig/scenarios.sh).
#
# vmediad runs as an integrator starts it (vmediad --config FILE). This
# script plays the Xen 4.18 toolstack's part for the virtio-media device,
# which Xen 4.17's xl cannot describe:
#   - each domU gets a virtio *disk* entry with specification=virtio, the
#     one 4.17 path that makes libxl allocate a virtio-mmio window and SPI
#     (0x2000000, 33) and put a "virtio,mmio" node in the guest's device
#     tree; nothing serves that disk, so the harness answers its backend
#     state (1 -> 2 while xl create waits, 5 -> 6 while xl destroy waits);
#   - it writes backend/virtio/<domid>/0 and device/virtio/0 as 4.18's
#     libxl writes them for `virtio = [ "type=virtio,device30,..." ]`;
#   - on xl destroy it writes online=0 and state=5 there, as 4.18's libxl
#     does, and waits (libxl's 10 s) for vmediad's state 6; then removes
#     the backend directory, as libxl does after the device is closed.
# Everything vmediad sees is what it would see under 4.18; vmediad itself
# knows nothing of this.
#
# Output: "XT: ok - ...", "XT: not ok - ..." and "XT: # ..." lines (the
# host counts them), other lines for the record.
set -euo pipefail
# shellcheck source=/dev/null
. /rig/params
CONF=/rig/vmediad-rig.conf
CARD="vmedia Xen rig"
VLOG=/var/log/vmediad.log
DUMMY=/var/lib/xen/rig-dummy.img
XSB=/local/domain/0/backend

ok() { echo "XT: ok - $*"; }
nok() { echo "XT: not ok - $*"; }
note() { echo "XT: # $*"; }
# check COND-STATUS TEXT: one check line from a command's status.
check() { if [ "$1" = 0 ]; then ok "$2"; else nok "$2"; fi; }
now() { cut -d' ' -f1 /proc/uptime; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# wait_for SECONDS CMD...: poll CMD every 50 ms; status 0 once it succeeds.
wait_for() {
	local end
	end=$(awk -v n="$(now)" -v s="$1" 'BEGIN { print n + s }')
	shift
	while ! "$@"; do
		awk -v n="$(now)" -v e="$end" 'BEGIN { exit !(n > e) }' && return 1
		sleep 0.05
	done
}
xs_is() { [ "$(xenstore-read "$1" 2>/dev/null)" = "$2" ]; }
log_has() { grep -q -- "$1" "$VLOG"; }
vmediad_alive() { kill -0 "$VPID" 2>/dev/null; }

truncate -s 1M "$DUMMY" # libxl stat()s a disk's target

# ---- vmediad ---------------------------------------------------------------
T=$(now)
VARGS=(--config "$CONF")
# Options on the command line override the file, as for an integrator.
[ "$DEBUG" = 1 ] && VARGS+=(--log-level debug)
vmediad "${VARGS[@]}" >"$VLOG" 2>&1 &
VPID=$!
if wait_for 10 log_has 'watching backend/virtio'; then
	ok "vmediad --config $CONF started (pid $VPID) and watches backend/virtio [$(since "$T") s]"
else
	nok "vmediad did not start watching backend/virtio within 10 s: $(tail -n 3 "$VLOG" | tr '\n' ' ')"
	exit 1
fi

# ---- one guest -------------------------------------------------------------
# ack_disk DOMID-PATTERN: answer the dummy disk's state 1 with 2, as its
# backend would (libxl waits up to 10 s for it inside xl create).
ack_disk() {
	local i d v p
	for ((i = 0; i < 400; i++)); do
		for d in $(xenstore-list $XSB/virtio_disk 2>/dev/null); do
			for v in $(xenstore-list $XSB/virtio_disk/"$d" 2>/dev/null); do
				p=$XSB/virtio_disk/$d/$v/state
				if xs_is "$p" 1; then
					xenstore-write "$p" 2
					return 0
				fi
			done
		done
		sleep 0.05
	done
	return 1
}

# guest_up NAME GRANTS MODE FRAMES: create NAME paused, add the device,
# wait for vmediad's state 4, unpause, wait for the domU's tests.
# Sets DOMID, BASE, IRQ, GLOG; prints the check lines.
guest_up() {
	local name=$1 grants=$2 mode=$3 frames=$4 cfg t t0 b f limit apid mem
	cfg=/etc/xen/rig/$name.cfg
	# Xen scrubs a domain's memory, slowly under TCG: cycles get less
	# (the domU's driver pool is 32 MiB in full mode, 16 in cycles; with
	# 128 MiB a grant-mode v4l2-ctl was OOM-killed).
	mem=256
	[ "$mode" = cycle ] && mem=192
	# Some guests have two vCPUs: vmediad must bind both IOREQ slots.
	vcpus=1
	case $name in vmt-grants | vmt-c03 | vmt-c07 | vmt-c11 | vmt-c15 | vmt-c19) vcpus=2 ;; esac
	GLOG=/var/log/xen/guest-$name.log
	mkdir -p /etc/xen/rig
	cat >"$cfg" <<EOF
name = "$name"
kernel = "/boot/domU-Image"
ramdisk = "/boot/domU-initrd.gz"
extra = "console=hvc0 quiet vmt.mode=$mode vmt.grants=$grants vmt.frames=$frames vmt.verbose=$DEBUG"
memory = $mem
vcpus = $vcpus
disk = [ "format=raw,vdev=xvda,access=rw,backendtype=standalone,specification=virtio,target=$DUMMY" ]
EOF
	t0=$(now)
	ack_disk &
	apid=$!
	# (wait for that job only: a bare wait would wait for vmediad too)
	if ! xl create -p "$cfg" >/tmp/xl-create.log 2>&1; then
		wait $apid || true
		nok "$name: xl create -p failed: $(tail -n 2 /tmp/xl-create.log | tr '\n' ' ')"
		return 1
	fi
	wait $apid || true
	DOMID=$(xl domid "$name")
	MEM0=$(guest_mem "$name")
	b=$XSB/virtio_disk/$DOMID/51712
	# libxl wrote the disk's window in decimal; 4.18 writes base in hex.
	BASE=$(printf '0x%x' "$(xenstore-read $b/base)")
	IRQ=$(xenstore-read $b/irq)
	CREATE_S=$(since "$t0")
	# The 4.18 nodes, each directory in one transaction (xenstore-write
	# writes all its pairs in one), permissions as libxl sets them.
	b=$XSB/virtio/$DOMID/0
	f=/local/domain/$DOMID/device/virtio/0
	t=$(now)
	xenstore-write $b/frontend $f $b/frontend-id "$DOMID" $b/online 1 \
		$b/state 1 $b/irq "$IRQ" $b/base "$BASE" $b/type virtio,device30 \
		$b/transport mmio $b/grant_usage "$grants"
	xenstore-chmod -r $b n0 r"$DOMID"
	xenstore-write $f/backend $b $f/backend-id 0 $f/state 1
	xenstore-chmod -r $f n"$DOMID" r0
	if ! wait_for 15 xs_is $b/state 4; then
		nok "$name (dom$DOMID): vmediad did not report state 4 within 15 s (state $(xenstore-read $b/state 2>/dev/null || echo gone)); vmediad log: $(grep "dom$DOMID" "$VLOG" | tail -n 2 | tr '\n' ' ')"
		return 1
	fi
	SERVE_S=$(since "$t")
	xl unpause "$name"
	t=$(now)
	limit=120
	[ "$mode" = full ] && limit=600
	if ! wait_for $limit grep -q VMT-DONE "$GLOG"; then
		nok "$name (dom$DOMID): the domU did not finish its tests within $limit s; its console: $(tail -n 5 "$GLOG" | tr '\r\n' '  ')"
		tr -d '\r' <"$GLOG" | grep -a '^VMT' | tail -n 80 | sed "s/^/$name| /"
		return 1
	fi
	RUN_S=$(since "$t")
	MEM1=$(guest_mem "$name")
	return 0
}

# guest_mem NAME: "tot/max KiB" of the domain as Xen counts them (xentop:
# tot_pages and max_pages; it cuts names to 10 characters). MMAP buffers
# raise both while they exist; once the domU's programs exited they must
# be back.
guest_mem() {
	xentop -b -i 1 2>/dev/null |
		awk -v n="$(printf '%.10s' "$1")" '$1 == n {print $5 "/" $7}'
}

# check_mem LABEL: the guest's memory accounting is back to where it was
# before its driver started (issue #9).
check_mem() {
	if [ -n "$MEM0" ] && [ "$MEM0" = "$MEM1" ]; then
		ok "$1: the guest's memory accounting is back where it started after MMAP streaming (tot/max KiB $MEM0 -> $MEM1)"
	else
		nok "$1: the guest's memory accounting did not come back (tot/max KiB '$MEM0' -> '$MEM1')"
	fi
}

# guest_regs NAME: scenario a's checks on what the domU read.
guest_regs() {
	local name=$1 reg
	reg=$(tr -d '\r' <"$GLOG" | sed -n 's/^VMT: REG //p' | head -n 1)
	echo "$name registers: $reg"
	case $reg in
	"magic=0x74726976 version=0x00000002 device=0x00000030 "*"card=$CARD")
		ok "$name (dom$DOMID): the domU reads the window at $BASE through /dev/mem: magic 0x74726976, version 2, device ID 0x30, config space card '$CARD' ($reg)" ;;
	*)
		nok "$name (dom$DOMID): registers through /dev/mem: '$reg' (want magic=0x74726976 version=0x00000002 device=0x00000030 ... card=$CARD)" ;;
	esac
}

# guest_results NAME LABEL: relay the domU's own checks.
guest_results() {
	local name=$1 label=$2 line
	while IFS= read -r line; do
		case $line in
		"VMT: ok - "* | "VMT: not ok - "*)
			line=${line#VMT: }
			case $line in
			"ok - "*) echo "XT: ok - $label: ${line#ok - }" ;;
			*) echo "XT: not ok - $label: ${line#not ok - }" ;;
			esac ;;
		"VMT: # "*) echo "XT: # $label: ${line#VMT: # }" ;;
		esac
	done < <(tr -d '\r' <"$GLOG")
}

# guest_down NAME [died]: xl destroy, with 4.18's device removal
# emulated; with "died", without it: the toolstack never says state 5, as
# when a guest crashes or a toolstack forgets, and vmediad has only
# @releaseDomain to go by. Sets DESTROY_S, REMOVE_S, DOWN_OK; prints the
# failed checks.
REMOVE_RES=/tmp/remove.res
remove_device() { # died|""
	local d=$XSB/virtio_disk/$DOMID/51712 b=$XSB/virtio/$DOMID/0 t
	rm -f $REMOVE_RES
	wait_for 20 xs_is $d/state 5 || { echo "no-disk-5" >$REMOVE_RES; return 0; }
	if [ "$1" = died ]; then
		xenstore-write $d/state 6
		echo "skipped" >$REMOVE_RES
		return 0
	fi
	# libxl's removal of the disk starts: do what 4.18 does for the
	# virtio device at the same point, and wait as long as it would.
	t=$(now)
	xenstore-write $b/online 0 $b/state 5
	if wait_for 10 xs_is $b/state 6; then
		echo "ok $(since "$t")" >$REMOVE_RES
	else
		echo "timeout $(xenstore-read $b/state 2>/dev/null || echo gone)" >$REMOVE_RES
	fi
	xenstore-write $d/state 6
}
guest_down() {
	local name=$1 how=${2:-} t res rpid
	remove_device "$how" &
	rpid=$!
	t=$(now)
	xl destroy "$name" >/tmp/xl-destroy.log 2>&1 || true
	DESTROY_S=$(since "$t")
	wait $rpid || true
	res=$(cat $REMOVE_RES 2>/dev/null || echo none)
	if [ "$res" = skipped ]; then
		# The domain is gone: vmediad tears down on @releaseDomain and
		# writes 6 into the directory the toolstack has not removed yet.
		if wait_for 10 xs_is $XSB/virtio/"$DOMID"/0/state 6; then
			res="ok $(since "$t")"
		else
			res="no state 6 within 10 s of the domain's death"
		fi
	fi
	# libxl removes the backend directory once the device is closed.
	xenstore-rm $XSB/virtio/"$DOMID" 2>/dev/null || true
	DOWN_OK=1
	if xl list "$name" >/dev/null 2>&1; then
		DOWN_OK=0
		nok "$name (dom$DOMID): xl destroy left the domain: $(tr '\n' ' ' </tmp/xl-destroy.log)"
	fi
	case $res in
	ok*) REMOVE_S=${res#ok } ;;
	*)
		DOWN_OK=0
		nok "$name (dom$DOMID): vmediad did not write state 6 within libxl's 10 s ($res); xl destroy took $DESTROY_S s: $(tr '\n' ' ' </tmp/xl-destroy.log)" ;;
	esac
	if ! vmediad_alive; then
		DOWN_OK=0
		nok "vmediad died at the teardown of $name: $(tail -n 3 "$VLOG" | tr '\n' ' ')"
	fi
	return 0
}

# sample: vmediad's open fds and RSS (KiB).
sample() {
	FDS=$(ls /proc/"$VPID"/fd | wc -l)
	RSS=$(awk '/^VmRSS/ { print $2 }' /proc/"$VPID"/status)
	THREADS=$(awk '/^Threads/ { print $2 }' /proc/"$VPID"/status)
}

sample
note "vmediad at start: $FDS fds, RSS $RSS KiB, $THREADS threads"

# A progress line every 60 s (on the serial console, not a check), so a
# stuck run shows where: vmediad's CPU time (clock ticks), the domains,
# each running guest's last console line.
watchdog() {
	local g
	while sleep 60; do
		echo "watchdog: [$(now) s] vmediad cpu $(awk '{ print $14 + $15 }' /proc/"$VPID"/stat 2>/dev/null || echo gone) ticks, $(ls /proc/"$VPID"/task 2>/dev/null | wc -l) threads; domains: $(xl list 2>/dev/null | awk 'NR > 1 { printf "%s(%s,%s) ", $1, $2, $6 }')"
		for g in /var/log/xen/guest-vmt-*.log; do
			[ -f "$g" ] || continue
			echo "watchdog:   $(basename "$g"): $(tr -d '\r' <"$g" | grep -a '^VMT' | tail -n 1 | cut -c1-160)"
		done
	done
}
watchdog &
WPID=$!

# ---- scenarios a, b, c (foreign mapping), d (teardown) -------------------
scenario() { # NAME GRANTS LABEL
	local name=$1 grants=$2 label=$3 t st
	t=$(now)
	if guest_up "$name" "$grants" full 30; then
		ok "$label: $name is dom$DOMID; window $BASE, SPI $IRQ; vmediad reached state 4 ${SERVE_S} s after the nodes appeared (xl create -p ${CREATE_S} s)"
		st=0
		log_has "dom$DOMID: device 0: connected (state 4)" || st=$?
		check $st "$label: vmediad's log shows it serving dom$DOMID: $(grep "dom$DOMID: device 0: connected" "$VLOG" | head -n 1)"
		guest_regs "$name"
		guest_results "$name" "$label"
		check_mem "$label"
		# The domU's console, for the record.
		tr -d '\r' <"$GLOG" | grep -a '^VMT' | sed "s/^/$name| /"
		note "$label: the domU ran its tests in ${RUN_S} s"
	fi
	guest_down "$name"
	if [ "$DOWN_OK" = 1 ]; then
		ok "$label: xl destroy $name took ${DESTROY_S} s (< libxl's 10 s): vmediad wrote state 6 ${REMOVE_S} s after state 5, and keeps running"
	fi
	if wait_for 5 log_has "dom$DOMID: device 0: closed (state 6)"; then
		ok "$label: vmediad logged the teardown of dom$DOMID: $(grep "dom$DOMID" "$VLOG" | grep -E 'tearing|closed' | tr '\n' ' ')"
	else
		nok "$label: no teardown of dom$DOMID in vmediad's log: $(grep "dom$DOMID" "$VLOG" | tail -n 3 | tr '\n' ' ')"
	fi
	note "time: $label: $(since "$t") s (create ${CREATE_S:-?}, serve ${SERVE_S:-?}, domU tests ${RUN_S:-?}, destroy ${DESTROY_S:-?})"
}

if [ -z "$ONLY" ] || [ "$ONLY" = foreign ]; then
	CREATE_S='' SERVE_S='' RUN_S='' DESTROY_S=''
	scenario vmt-foreign 0 "foreign mapping (grant_usage=0)"
	grep "dom$DOMID" "$VLOG" | sed 's/^/vmediad| /'
	sample
	note "vmediad after the first guest: $FDS fds, RSS $RSS KiB, $THREADS threads"
fi
if [ -z "$ONLY" ] || [ "$ONLY" = grants ]; then
	CREATE_S='' SERVE_S='' RUN_S='' DESTROY_S=''
	scenario vmt-grants 1 "grants (grant_usage=1), second guest"
	grep "dom$DOMID" "$VLOG" | sed 's/^/vmediad| /'
fi

# ---- scenario d: create/stream/destroy cycles -----------------------------
# Alternating foreign mapping and grants; vmediad's fds and RSS sampled
# after each destroy, once vmediad wrote state 6 (its guest thread is
# joined and everything of the guest unmapped by then).
fds_list="" rss_list="" cyc_list="" mem_list="" cyc_fail=0 died=0
for ((c = 1; c <= CYCLES; c++)); do
	t=$(now)
	name=$(printf 'vmt-c%02d' "$c")
	CREATE_S='' SERVE_S='' RUN_S='' DESTROY_S=''
	up=0
	guest_up "$name" $((c % 2 == 0)) cycle 10 && up=1
	if [ $up = 1 ]; then
		bad=$(tr -d '\r' <"$GLOG" | grep -c '^VMT: not ok' || true)
		reg=$(tr -d '\r' <"$GLOG" | sed -n 's/^VMT: REG magic=\([^ ]*\).*/\1/p')
		if [ -z "$MEM0" ] || [ "$MEM0" != "$MEM1" ]; then
			bad=$((bad + 1))
			echo "cycle $c: $name's memory accounting did not come back: tot/max KiB '$MEM0' -> '$MEM1'"
		fi
		mem_list="$mem_list $MEM1"
		if [ "$bad" != 0 ] || [ "$reg" != 0x74726976 ]; then
			cyc_fail=$((cyc_fail + 1))
			guest_results "$name" "cycle $c"
			tr -d '\r' <"$GLOG" | grep -a '^VMT' | tail -n 20 | sed "s/^/$name| /"
		fi
	else
		cyc_fail=$((cyc_fail + 1))
	fi
	# Every fifth guest "dies": no state 5 from the toolstack.
	how=
	[ $((c % 5)) = 0 ] && how=died && died=$((died + 1))
	guest_down "$name" $how
	[ "$DOWN_OK" = 1 ] || cyc_fail=$((cyc_fail + 1))
	if [ "$how" = died ] && ! grep -q "dom$DOMID: domain is gone" "$VLOG"; then
		cyc_fail=$((cyc_fail + 1))
		nok "cycle $c: vmediad did not log dom$DOMID's death: $(grep "dom$DOMID" "$VLOG" | tail -n 3 | tr '\n' ' ')"
	fi
	sleep 0.2
	sample
	fds_list="$fds_list $FDS" rss_list="$rss_list $RSS"
	cyc_list="$cyc_list $(since "$t")"
	echo "cycle $c: dom$DOMID $name up=$up vcpus=$vcpus ${how:+(died) }create ${CREATE_S:-?} s, serve ${SERVE_S:-?} s, domU ${RUN_S:-?} s, destroy ${DESTROY_S:-?} s; vmediad $FDS fds, RSS $RSS KiB, $THREADS threads"
done
note "time: cycles (s):$cyc_list"
note "vmediad fds after each cycle:$fds_list"
note "vmediad RSS (KiB) after each cycle:$rss_list"
note "guests' tot/max KiB after their MMAP streaming (= before it):$mem_list"
[ "$CYCLES" = 0 ] ||
	check $cyc_fail "$CYCLES create/stream/destroy cycles (foreign mapping and grants in turn; $died guests died without state 5), each served, streamed (USERPTR and MMAP, the guest's memory accounting back after MMAP) and torn down: $cyc_fail failures"
# fds: every guest's files are closed at its teardown, so the count after
# each cycle must equal the count after the first.
read -r -a fa <<<"$fds_list"
if [ ${#fa[@]} -ge 2 ]; then
	flat=0
	for v in "${fa[@]}"; do [ "$v" = "${fa[0]}" ] || flat=1; done
	check $flat "vmediad's fd count is flat over $CYCLES cycles (${fa[0]} after cycle 1, ${fa[-1]} after cycle $CYCLES)"
fi
# RSS: it grows while vmediad first meets each kind of guest (its malloc
# arenas and heap reach their high-water mark, code and data pages are
# touched the first time): cycles 1..5 see foreign and grant guests, one
# and two vCPUs, a regular and a dying teardown. After that only noise is
# allowed: no sample of cycles 6..N may exceed the largest of cycles 1..5
# by more than 256 KiB (64 pages), i.e. 17 KiB per cycle over 15 cycles;
# one guest's rings, sessions and mapping records are larger than that, so
# a per-guest leak fails.
read -r -a ra <<<"$rss_list"
if [ ${#ra[@]} -ge 7 ]; then
	base=0 max=0
	for v in "${ra[@]:0:5}"; do [ "$v" -gt $base ] && base=$v; done
	for v in "${ra[@]:5}"; do [ "$v" -gt $max ] && max=$v; done
	grow=$((max - base))
	st=0
	[ $grow -le 256 ] || st=1
	check $st "vmediad's RSS is flat over $CYCLES cycles: ${ra[0]} KiB after cycle 1, at most $base KiB over cycles 1-5, at most $max KiB over cycles 6-$CYCLES (growth $grow KiB, tolerance 256 KiB), ${ra[-1]} KiB after cycle $CYCLES"
fi

# ---- the end ---------------------------------------------------------------
kill "$WPID" 2>/dev/null || true
if vmediad_alive; then
	kill -TERM "$VPID"
	st=0
	wait "$VPID" || st=$?
	check $st "vmediad stops cleanly on SIGTERM (status $st)"
else
	nok "vmediad is not running at the end: $(tail -n 3 "$VLOG" | tr '\n' ' ')"
fi
warn=$(grep -cE ': (warn|err): ' "$VLOG" || true)
note "vmediad's log: $(wc -l <"$VLOG") lines, $warn warnings or errors"
grep -E ': (warn|err): ' "$VLOG" | head -n 20 | sed 's/^/XT: # vmediad| /' || true
xl dmesg | grep -iE 'ioreq|unhandled|vgic|d[0-9]+v[0-9]+' | tail -n 10 | sed 's/^/xen| /' || true

/* SPDX-License-Identifier: MIT */
/*
 * The attack suite's shared harness: the real vmediad as a child process
 * with its stderr captured, its /proc figures, hostile test guests, and a
 * witness guest that streams on its own connection the whole time, so that
 * every case can assert that a guest under attack disturbs nobody else.
 */
#ifndef VMEDIA_TESTS_ATTACK_ATK_H
#define VMEDIA_TESTS_ATTACK_ATK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vg_capture.h"
#include "vg_media.h"
#include "vg_ram.h"
#include "vg_transport.h"

/* Generous: sanitizer builds of the daemon are slow. */
#define ATK_TIMEOUT_MS 20000

/* ---- the daemon (atk_daemon.c) ------------------------------------------ */

struct atk_daemon {
	pid_t pid;
	int exit_status; /* wait status once stopped, -1 before */
	char dir[64];
	char sock[96];
	char log[96];  /* its stderr */
	char conf[96]; /* a config file, when the test writes one */
};

/*
 * Start $VMEDIAD --test-socket <private path> ARGS... (NULL-terminated)
 * with stderr in d->log. Returns 0 or a negative errno.
 */
int atk_daemon_start(struct atk_daemon *d, const char *const *args);
/* Make the private directory and d->conf holding `text` (before start). */
int atk_daemon_prepare(struct atk_daemon *d, const char *conf_text);
bool atk_daemon_alive(struct atk_daemon *d);
/* SIGTERM and wait: the wait status, or -1 on timeout. */
int atk_daemon_stop(struct atk_daemon *d, int timeout_ms);
/* Kill if still running, remove its files; safe to call twice. */
void atk_daemon_cleanup(struct atk_daemon *d);

/* Lines of the daemon's log containing both words (NULL: any line). */
unsigned atk_log_count(const struct atk_daemon *d, const char *w1,
		       const char *w2);
/* The domid the daemon gave the guest whose RAM is ram_size bytes. */
int atk_log_domid(const struct atk_daemon *d, uint64_t ram_size);

struct atk_stats {
	long fds;    /* entries in /proc/pid/fd */
	long rss_kb; /* VmRSS */
	long maps;   /* lines of /proc/pid/maps */
	long threads;
};

int atk_stats(pid_t pid, struct atk_stats *st);
/* Inside a case: the daemon's fd count comes back to `before`. */
void atk_check_fds_back(long before, const char *what);
long atk_daemon_fds(void);
/* Print the daemon log's last lines as TAP diagnostics. */
void atk_log_dump(const struct atk_daemon *d, unsigned lines);

int64_t atk_now_ms(void);
void atk_sleep_ms(long ms);

/* Does the binary carry AddressSanitizer (RSS and timing are then off)? */
bool atk_daemon_is_asan(void);

/* ---- guests (atk_guest.c) ----------------------------------------------- */

struct atk_guest {
	struct vg_transport *t;
	struct vg_ram ram;
	uint64_t ram_size;
};

/* Connect with ram_size bytes of RAM, retrying while the socket appears. */
int atk_guest_connect(struct atk_daemon *d, struct atk_guest *g,
		      uint64_t ram_size);
void atk_guest_close(struct atk_guest *g);

/* Register access on device `index` of g (4 bytes). */
uint32_t atk_reg(struct vg_transport *t, unsigned index, uint32_t off);
void atk_reg_write(struct vg_transport *t, unsigned index, uint32_t off,
		   uint32_t val);

/* ---- virtio-media helpers over vg_media (atk_guest.c) -------------------- */

uint32_t atk_open(struct vg_media *m);
int atk_g_fmt(struct vg_media *m, uint32_t s, uint32_t type);
/* S_FMT YUYV (sp) or NV12 (mp) at w x h; returns the plane-0 sizeimage. */
uint32_t atk_set_fmt(struct vg_media *m, uint32_t s, uint32_t w, uint32_t h);
/* The same without asserting: 0 or the negative errno. */
int atk_s_fmt(struct vg_media *m, uint32_t s, uint32_t w, uint32_t h,
	      uint32_t *sizeimage);
int atk_reqbufs(struct vg_media *m, uint32_t s, uint32_t memory,
		uint32_t count);
int atk_stream(struct vg_media *m, uint32_t s, bool on);
int atk_querybuf_off(struct vg_media *m, uint32_t s, uint32_t index,
		     uint32_t *off);
int atk_qbuf_mmap(struct vg_media *m, uint32_t s, uint32_t index);
/* USERPTR QBUF of `length` bytes described by the SG list sg (or NULL). */
int atk_qbuf_user(struct vg_media *m, uint32_t s, uint32_t code, uint32_t index,
		  uint32_t length, const struct vg_media_sg *sg);
uint32_t atk_buf_type(const struct vg_media *m);
/* Raw command bytes; the response status as a negative errno. */
int atk_raw_status(struct vg_media *m, const void *cmd, size_t len,
		   size_t resp_len);
size_t atk_put_ioctl(uint8_t *buf, uint32_t session, uint32_t code);
/* A fresh session still answers G_FMT: the device serves. */
void atk_check_alive(struct vg_media *m);
/* The device's STATUS register. */
uint32_t atk_status(struct vg_media *m);
/* STATUS once it has any of `bits` (or after timeout_ms). */
uint32_t atk_wait_status(struct vg_media *m, uint32_t bits, int timeout_ms);
/*
 * A whole capture on m (320x240, 4 buffers of `memory`): n frames in
 * sequence, then stop. 0 or a negative errno.
 */
int atk_capture_frames(struct vg_media *m, uint32_t memory, unsigned n);
/* Bring m up on device index of the attacker guest; 0 or an errno. */
int atk_media_up(struct vg_media *m, unsigned index);

/* ---- the witness (atk_witness.c) ----------------------------------------- */

struct atk_mark {
	uint64_t frames;
	uint64_t errors;
};

/*
 * Connect a guest of its own and stream on device `index` (an unpaced
 * single-planar vcam) from a thread, checking every frame: sequence
 * without gaps, no ERROR flag, the stamp drawn in the frame.
 */
int atk_witness_start(struct atk_daemon *d, unsigned index, uint32_t memory);
void atk_witness_mark(struct atk_mark *m);
/*
 * Inside a case: the witness made progress since the mark (waits for it)
 * and saw nothing wrong.
 */
void atk_witness_check(const struct atk_mark *m, const char *after);
/* Stop the thread; the number of problems it saw overall. */
uint64_t atk_witness_stop(void);
uint64_t atk_witness_frames(void);

/* ---- the suite (atk_suite.c) --------------------------------------------- */

/*
 * Start the daemon with args (after --test-socket), a witness on device
 * 0, and connect the attacker guest with ram_size bytes. Skips the whole
 * program when $VMEDIAD is not set.
 */
void atk_suite_start(const char *const *args, uint64_t ram_size);
/* Like atk_suite_start, with a config file for --config. */
void atk_suite_start_conf(const char *conf, const char *const *args,
			  uint64_t ram_size);
/* Run a named case with the witness and daemon checks around it. */
void atk_run(const char *name, void (*fn)(void));
/* Stop the witness, SIGTERM the daemon (exit 0 expected); tap_done(). */
int atk_suite_end(void);

extern struct atk_daemon atk_d;
extern struct atk_guest atk_g;

#endif

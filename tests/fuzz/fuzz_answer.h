/* SPDX-License-Identifier: MIT */
/*
 * Checks on the device's answer to one command, given the request's
 * readable bytes and what the device wrote: no host pointer may reach
 * the guest, pointer fields come back as the guest sent them, and sizes
 * and offsets stay inside what the guest gave and the device owns.
 */
#ifndef VMEDIA_TESTS_FUZZ_ANSWER_H
#define VMEDIA_TESTS_FUZZ_ANSWER_H

#include <stddef.h>
#include <stdint.h>

/* A new input: forget what the guest sent before. */
void fc_reset(void);
void fc_check_answer(const uint8_t *req, size_t req_len, const uint8_t *resp,
		     size_t resp_len);

#endif

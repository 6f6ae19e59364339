/* SPDX-License-Identifier: MIT */
/* The configuration parser's error cases, shared by test_config.c. */
#ifndef VMEDIA_TEST_CONFIG_CASES_H
#define VMEDIA_TEST_CONFIG_CASES_H

#include <stddef.h>

/* A file that must fail, and the exact line the parser must print. */
struct err_case {
	const char *name;
	const char *text;
	const char *want;
};

extern const struct err_case config_err_cases[];
extern const size_t config_num_err_cases;

#endif

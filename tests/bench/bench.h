/*
 * bench.h — the two clocks every program under tests/bench/ reads: wall time on the
 * monotonic clock, and this process's CPU time (user and system, all its threads).
 */
#ifndef SEALDROP_TESTS_BENCH_H
#define SEALDROP_TESTS_BENCH_H

#include <sys/resource.h>
#include <time.h>

static inline double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline double bench_cpu_self(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       (double)ru.ru_stime.tv_usec / 1e6;
}

#endif

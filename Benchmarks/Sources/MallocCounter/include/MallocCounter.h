#ifndef LATCH_MALLOC_COUNTER_H
#define LATCH_MALLOC_COUNTER_H

/// Number of heap allocations (malloc, calloc, realloc, aligned allocations) made by this process so far.
/// Always 0 where the counter cannot interpose malloc (not glibc).
unsigned long long latch_malloc_count(void);

/// Whether allocations are being counted.
int latch_malloc_counting(void);

#endif

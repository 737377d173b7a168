/*
 * reference.h - published results the simulator must reproduce, as data:
 * one YAML file per case under simulators/scenarios/reference/, naming a
 * textbook model (a single-stage periodic-review inventory, a single-server
 * queue), its parameters, and the values the source prints. A new published
 * case is a new file, checked the same way by the same test.
 *
 *   name: normal newsvendor at S*
 *   source: Snyder & Shen, Fundamentals of Supply Chain Theory, 4.3
 *   model: inventory            # or queue
 *   demand: {dist: normal, a: 50, b: 8}
 *   policy: {kind: base-stock, S: 56.603956}
 *   lead_time: 0
 *   holding: 0.18
 *   backorder: 0.70
 *   periods: 1000000
 *   expect: {cost: 1.9976052}
 *
 * The acceptance rule is TESTING.md's: a simulated mean within 1% of the
 * expected value, or its 95% interval covering it (the interval's half-width
 * must itself be under `max_half`, 0.5% by default, so a loose run cannot
 * pass on width alone).
 */
#ifndef OMO_REFERENCE_H
#define OMO_REFERENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define OMO_REF_TOLERANCE 0.01

/* omo_reference_check runs the case in file, writes one line per expected
 * value to out (may be NULL) and returns the number of values that missed,
 * or -1 with a sentence in err if the file is not a valid case. */
int omo_reference_check(const char *file, FILE *out, char *err, size_t errlen);

#endif

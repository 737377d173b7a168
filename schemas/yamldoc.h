/*
 * yamldoc.h - human-edited files (rule sets, partner mappings, scenarios) read
 * as YAML into a jansson tree, so the same readers take JSON or YAML.
 */
#ifndef OMO_YAMLDOC_H
#define OMO_YAMLDOC_H

#include <jansson.h>
#include <stddef.h>

/*
 * omo_yaml_parse reads one YAML document. Plain scalars follow YAML 1.2's
 * core schema (null, true/false, integers, floats, else strings); quoted
 * scalars are always strings. Aliases, explicit tags, duplicate keys, non-scalar keys, integers
 * beyond int64 and nesting deeper than 64 are refused. On error returns NULL and writes "line N:
 * reason".
 */
json_t *omo_yaml_parse(const char *text, size_t len, char *err, size_t errlen);

/* omo_yaml_load reads a whole file with omo_yaml_parse; JSON is YAML too. */
json_t *omo_yaml_load(const char *path, char *err, size_t errlen);

#endif

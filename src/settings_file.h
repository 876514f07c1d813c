/*
 * settings_file: the file CONFIG_FILE names, in the syntax of systemd's
 * EnvironmentFile (the unit names the same file), and the environments made
 * of it. At start its settings override the environment's; on a reload the
 * pool reads it again for the workers it starts. It owns the parsing and the
 * environment arrays; what a setting means is config's.
 *
 * A line is NAME=VALUE (spaces around either are dropped), blank, or a
 * comment starting with # or ;. A VALUE wholly in double or single quotes
 * loses them. Anything else (a backslash, a quote left open, a line ending
 * in a backslash, a bad name) is refused with its line number, rather than
 * read differently from systemd.
 */
#ifndef SETTINGS_FILE_H
#define SETTINGS_FILE_H

#include <stddef.h>

/* Lines longer than this are refused. */
#define SETTINGS_LINE_MAX 4096

/* A NULL-terminated array of "NAME=VALUE" strings, all of them owned by the
 * array (environment_free frees both). */
typedef char **environment;

/* Reads path into *out (NAME=VALUE strings in file order). -1 with err set
 * (the line number, never a value) when it cannot be read or parsed. */
int settings_file_read(const char *path, environment *out, char *err, size_t errlen);
/* A copy of base with each of settings' names set to its value (added when
 * base has none); NULL when out of memory. */
environment environment_merge(char *const *base, char *const *settings);
/* setenv() of each setting, overriding the environment; -1 on failure. */
int environment_apply(char *const *settings);
void environment_free(environment env);

#endif

/*
 * settings_file: CONFIG_FILE, read like systemd's EnvironmentFile. See
 * settings_file.h.
 */
#include "settings_file.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static int valid_name(const char *s)
{
    if (!(isalpha((unsigned char)*s) || *s == '_'))
        return 0;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_'))
            return 0;
    return 1;
}

/* Drops a pair of quotes around the whole value; NULL when the value has
 * a quote or a backslash anywhere else. */
static char *unquote(char *v)
{
    size_t n = strlen(v);
    if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
        v[n - 1] = '\0';
        v++;
    }
    return strpbrk(v, "\"'\\") ? NULL : v;
}

static size_t count(char *const *env)
{
    size_t n = 0;
    while (env && env[n])
        n++;
    return n;
}

/* Appends "name=value" to *env (n entries so far); -1 when out of memory. */
static int append(environment *env, size_t n, const char *name, const char *value)
{
    environment grown = realloc(*env, (n + 2) * sizeof *grown);
    if (grown == NULL)
        return -1;
    *env = grown;
    size_t len = strlen(name) + 1 + strlen(value) + 1;
    if ((grown[n] = malloc(len)) == NULL)
        return -1;
    snprintf(grown[n], len, "%s=%s", name, value);
    grown[n + 1] = NULL;
    return 0;
}

/* One line into *env; 1 when it held a setting, 0 when none, -1 when bad. */
static int parse_line(char *line, environment *env, size_t n, const char **why)
{
    char *s = trim(line);
    if (*s == '\0' || *s == '#' || *s == ';')
        return 0;
    char *eq = strchr(s, '=');
    if (eq == NULL) {
        *why = "not NAME=VALUE";
        return -1;
    }
    *eq = '\0';
    char *name = trim(s), *value = unquote(trim(eq + 1));
    if (!valid_name(name)) {
        *why = "not a setting's name";
        return -1;
    }
    if (value == NULL) {
        *why = "a quote or backslash inside the value";
        return -1;
    }
    if (append(env, n, name, value) < 0) {
        *why = "out of memory";
        return -1;
    }
    return 1;
}

int settings_file_read(const char *path, environment *out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char line[SETTINGS_LINE_MAX + 2];
    environment env = calloc(1, sizeof *env);
    size_t n = 0;
    int number = 0, rc = 0;

    if (f == NULL || env == NULL) {
        snprintf(err, errlen, "CONFIG_FILE %s: %s", path, f ? "out of memory" : strerror(errno));
        rc = -1;
    }
    while (rc == 0 && fgets(line, sizeof line, f)) {
        const char *why = NULL;
        number++;
        size_t len = strlen(line);
        if (len > SETTINGS_LINE_MAX || (len > 0 && line[len - 1] != '\n' && !feof(f)))
            why = "line too long";
        else if (len > 1 && line[len - 2] == '\\')
            why = "continued lines are not read";
        int got = why ? -1 : parse_line(line, &env, n, &why);
        if (got < 0) {
            snprintf(err, errlen, "CONFIG_FILE %s, line %d: %s", path, number, why);
            rc = -1;
        }
        n += got > 0;
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "CONFIG_FILE %s: read failed", path);
        rc = -1;
    }
    if (f)
        fclose(f);
    if (rc < 0) {
        environment_free(env);
        return -1;
    }
    *out = env;
    return 0;
}

/* The index in env of the entry for the name setting names, or -1. */
static long find(char *const *env, const char *setting)
{
    size_t len = strcspn(setting, "=");
    for (size_t i = 0; env && env[i]; i++)
        if (strncmp(env[i], setting, len) == 0 && env[i][len] == '=')
            return (long)i;
    return -1;
}

environment environment_merge(char *const *base, char *const *settings)
{
    size_t n = count(base), extra = count(settings);
    environment env = calloc(n + extra + 1, sizeof *env);
    if (env == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if ((env[i] = strdup(base[i])) == NULL)
            goto fail;
    for (size_t i = 0; i < extra; i++) {
        long at = find(env, settings[i]);
        char *copy = strdup(settings[i]);
        if (copy == NULL)
            goto fail;
        if (at >= 0) {
            free(env[at]);
            env[at] = copy;
        } else {
            env[n++] = copy;
        }
    }
    return env;
fail:
    environment_free(env);
    return NULL;
}

int environment_apply(char *const *settings)
{
    for (size_t i = 0; settings && settings[i]; i++) {
        char name[256];
        size_t len = strcspn(settings[i], "=");
        if (len >= sizeof name)
            return -1;
        memcpy(name, settings[i], len);
        name[len] = '\0';
        if (setenv(name, settings[i] + len + 1, 1) < 0)
            return -1;
    }
    return 0;
}

void environment_free(environment env)
{
    for (size_t i = 0; env && env[i]; i++)
        free(env[i]);
    free(env);
}

/* Unit tests of settings_file: CONFIG_FILE read as systemd reads an
 * EnvironmentFile, bad lines refused by number, environments merged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/settings_file.h"
#include "unit.h"

static char path[] = "/tmp/test_settings_XXXXXX";

/* Writes text to the test file and reads it back: 0, or -1 with err. */
static int read_text(const char *text, environment *env, char *err, size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
        return -2;
    return settings_file_read(path, env, err, errlen);
}

static void good_files(void)
{
    environment env = NULL;
    char err[256] = "";
    int rc = read_text("# a comment\n; another\n\n  WORKERS = 4 \nLOG_LEVEL=\"debug\"\n"
                       "JWT_ISSUER='https://a.example'\nEMPTY=\nBETTER_AUTH_SECRET=x=y\nLAST=1",
                       &env, err, sizeof err);
    CHECK(rc == 0, "a good file: %s", err);
    if (rc != 0)
        return;
    const char *want[] = {"WORKERS=4", "LOG_LEVEL=debug",        "JWT_ISSUER=https://a.example",
                          "EMPTY=",    "BETTER_AUTH_SECRET=x=y", "LAST=1",
                          NULL};
    for (int i = 0; want[i]; i++)
        CHECK(env[i] && strcmp(env[i], want[i]) == 0, "entry %d: %s", i, env[i] ? env[i] : "NULL");
    CHECK(env[6] == NULL, "six entries");

    char *base[] = {"PATH=/bin", "WORKERS=2", "HOME=/x", NULL};
    environment merged = environment_merge(base, env);
    CHECK(merged && strcmp(merged[0], "PATH=/bin") == 0 && strcmp(merged[1], "WORKERS=4") == 0 &&
              strcmp(merged[2], "HOME=/x") == 0 && strcmp(merged[3], "LOG_LEVEL=debug") == 0 &&
              merged[8] == NULL,
          "merge: the file's values replace the base's in place, new ones follow");
    environment_free(merged);

    CHECK(environment_apply(env) == 0 && strcmp(getenv("WORKERS"), "4") == 0 &&
              strcmp(getenv("BETTER_AUTH_SECRET"), "x=y") == 0,
          "apply sets the environment");
    environment_free(env);
}

static void bad_file(const char *text, const char *line_and_why)
{
    environment env = NULL;
    char err[256] = "";
    int rc = read_text(text, &env, err, sizeof err);
    CHECK(rc == -1 && strstr(err, line_and_why) != NULL && env == NULL, "%s: rc %d, err %s",
          line_and_why, rc, err);
    CHECK(strstr(err, "s3cr3t") == NULL, "the error shows no value: %s", err);
}

int main(void)
{
    int fd = mkstemp(path);
    if (fd < 0)
        return 1;
    close(fd);
    good_files();
    bad_file("A=1\nnot a setting s3cr3t\n", "line 2: not NAME=VALUE");
    bad_file("1A=s3cr3t\n", "line 1: not a setting's name");
    bad_file("A B=s3cr3t\n", "line 1: not a setting's name");
    bad_file("A=\"s3cr3t\n", "line 1: a quote or backslash");
    bad_file("A=s3\\cr3t\n", "line 1: a quote or backslash");
    bad_file("A=1\nB=s3cr3t \\\nC=2\n", "line 2: continued lines");
    char *longline = malloc(SETTINGS_LINE_MAX + 16);
    memset(longline, 'x', SETTINGS_LINE_MAX + 10);
    memcpy(longline, "A=s3cr3t", 8);
    longline[SETTINGS_LINE_MAX + 10] = '\0';
    bad_file(longline, "line 1: line too long");
    free(longline);
    unlink(path);
    environment env = NULL;
    char err[256];
    CHECK(settings_file_read(path, &env, err, sizeof err) == -1 && strstr(err, "No such file"),
          "a missing file: %s", err);
    return unit_report("test_settings_file");
}

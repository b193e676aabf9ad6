/* SPDX-License-Identifier: MIT */
/* Ask systemd (through systemctl, or the tests' stand-in, see doctor.h): read-only queries. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "doctor.h"

extern char **environ;

int
systemctl(char *const args[], char *out, size_t size)
{
	const char *prog = getenv("LINKYD_DOCTOR_SYSTEMCTL");
	char *argv[8] = {(char *) (prog && *prog ? prog : "systemctl")};
	posix_spawn_file_actions_t fa;
	int pipefd[2], status, r;
	size_t used = 0;
	ssize_t n;
	pid_t pid;
	char sink[256];

	for (size_t i = 0; args[i] && i + 2 < sizeof(argv) / sizeof(argv[0]); i++)
		argv[i + 1] = args[i];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	(void) close(pipefd[1]);
	if (r != 0) {
		(void) close(pipefd[0]);
		return -r;
	}
	/* Read to the end, keeping what fits, so that it never blocks on a full pipe. */
	while ((n = read(pipefd[0], out && used + 1 < size ? out + used : sink,
	                 out && used + 1 < size ? size - used - 1 : sizeof(sink))) > 0)
		if (out && used + 1 < size)
			used += (size_t) n;
	if (out)
		out[used] = '\0';
	(void) close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	/* 127: the shell's "not found" for a program posix_spawnp() started anyway. */
	return WIFEXITED(status) ? WEXITSTATUS(status) : -ECHILD;
}

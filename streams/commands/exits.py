"""The exit codes of `coi-risk` commands, named once: 0 done, 1 failed (Kafka unusable, I/O), 2 usage (arguments,
settings, input files the command cannot use), 130 interrupted (Ctrl-C), 141 the reader of stdout went away
(`coi-risk ... | head`), as the shell reports a process that SIGINT or SIGPIPE ended."""

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141

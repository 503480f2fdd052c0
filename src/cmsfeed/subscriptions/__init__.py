"""Who subscribes and how: the reader's double opt-in workflow (`service`) and what a reader
may choose (`choices`), the config file's starting list, the operator's commands. Each module
says whether it does I/O; none of them speaks SQL (store/ does), and nothing is imported here,
so that each module loads only what it needs."""

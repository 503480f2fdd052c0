"""Who subscribes and how: the config file's starting list, the operator's commands and
sign-up. Each module says whether it does I/O; none of them speaks SQL (store/ does)."""

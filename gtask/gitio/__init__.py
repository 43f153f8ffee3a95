"""Git input and output: the one module that runs git, readers of git's own files, the merge driver's git half."""

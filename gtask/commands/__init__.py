"""One module per command (or per small family of commands); each parses, calls the library, renders."""

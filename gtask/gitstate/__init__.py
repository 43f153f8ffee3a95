"""What git says about tasks: branches, closing evidence, tombstones, log, events, status, gate holds."""
